"""Rows 1–25 of the Auth0 acceptance matrix (shared/specs/auth0.md §3.1), through the app.

Each test name starts with its row number. Where Auth0's SDKs disagree the row's
chosen behaviour is asserted, and deviations are named in the test's docstring.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest
import requests
import time_machine
from flask import Flask

from flask_idguard.testing import TestIssuer

from .conftest import AppFactory
from .conftest import bearer
from .test_dpop import ALL_DPOP_ALGS


def _reason(app: Flask, headers: Mapping[str, str] | None = None, path: str = "/public") -> Any:
    r = app.test_client().get(path, headers=dict(headers or {}))
    assert r.json is not None
    return r.json["reason"]


def test_01_no_token_anywhere_is_401_bare_challenge(make_app: AppFactory) -> None:
    r = make_app(IDGUARD_REALM="api").test_client().get("/me")
    assert r.status_code == 401
    assert r.headers.getlist("WWW-Authenticate") == [
        'Bearer realm="api"',
        f'DPoP algs="{ALL_DPOP_ALGS}"',
    ]
    assert r.data == b""
    r = make_app(IDGUARD_DPOP="disabled").test_client().get("/me")
    assert r.headers.getlist("WWW-Authenticate") == ["Bearer"]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_02_bearer_scheme_any_case(app: Flask, issuer: TestIssuer, scheme: str) -> None:
    r = app.test_client().get("/me", headers={"Authorization": f"{scheme} {issuer.token()}"})
    assert r.status_code == 200


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "foo", "Bearer a b"])
def test_03_malformed_authorization_is_400_invalid_request(app: Flask, value: str) -> None:
    """We pick access-token-jwt's answer: 400 invalid_request (RFC 6750 §3.1 allows it)."""
    r = app.test_client().get("/me", headers={"Authorization": value})
    assert r.status_code == 400
    assert r.json == {
        "error": "invalid_request",
        "error_description": "Malformed Authorization header: expected 'Bearer <token>'.",
    }


def test_04_query_token_only_when_enabled(make_app: AppFactory, issuer: TestIssuer) -> None:
    token = issuer.token()
    assert make_app().test_client().get(f"/me?access_token={token}").status_code == 401
    enabled = make_app(IDGUARD_ALLOW_QUERY_TOKEN=True).test_client()
    r = enabled.get(f"/me?access_token={token}")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "private"  # RFC 6750 §2.3
    assert enabled.post(f"/me?access_token={token}").status_code == 200
    assert "Cache-Control" not in enabled.get("/public", headers=bearer(token)).headers


def test_05_form_token_only_urlencoded_and_when_enabled(
    make_app: AppFactory, issuer: TestIssuer
) -> None:
    token = issuer.token()
    assert make_app().test_client().post("/me", data={"access_token": token}).status_code == 401
    client = make_app(IDGUARD_ALLOW_FORM_TOKEN="true").test_client()
    assert client.post("/me", data={"access_token": token}).status_code == 200
    assert client.post("/me", json={"access_token": token}).status_code == 401
    assert (
        client.post(
            "/me", data={"access_token": token}, content_type="multipart/form-data"
        ).status_code
        == 401
    )


@pytest.mark.parametrize("where", ["header+query", "header+form", "query+form"])
def test_06_two_methods_is_400(make_app: AppFactory, issuer: TestIssuer, where: str) -> None:
    client = make_app(IDGUARD_ALLOW_QUERY_TOKEN=True, IDGUARD_ALLOW_FORM_TOKEN=True).test_client()
    token = issuer.token()
    headers = bearer(token) if "header" in where else {}
    query = f"?access_token={token}" if "query" in where else ""
    data = {"access_token": token} if "form" in where else None
    r = client.post(f"/me{query}", headers=headers, data=data)
    assert r.status_code == 400
    assert r.json == {
        "error": "invalid_request",
        "error_description": "More than one method used for authentication",
    }


def test_07_valid_token_claims_exposed(app: Flask, issuer: TestIssuer) -> None:
    r = app.test_client().get("/me", headers=bearer(issuer.token({"sub": "u1", "tier": "x"})))
    assert r.status_code == 200
    assert r.json is not None
    assert r.json["claims"]["tier"] == "x"
    assert r.json["claims"]["iss"] == issuer.issuer


def test_08_wrong_iss(app: Flask, issuer: TestIssuer) -> None:
    r = app.test_client().get("/me", headers=bearer(issuer.token({"iss": "https://evil.test/"})))
    assert r.status_code == 401
    assert r.json is not None
    assert r.json["error_description"].startswith("Unexpected 'iss' value")


@pytest.mark.parametrize(
    ("aud", "ok"),
    [
        ("https://other.test", False),
        (["https://other.test", "https://api.test"], True),
        (["https://other.test"], False),
        ([], False),
        (7, False),
    ],
)
def test_09_audience_string_or_array(app: Flask, issuer: TestIssuer, aud: Any, ok: bool) -> None:
    r = app.test_client().get("/me", headers=bearer(issuer.token({"aud": aud})))
    assert r.status_code == (200 if ok else 401)
    if not ok:
        assert r.json is not None
        assert r.json["error_description"].startswith("Unexpected 'aud' value")


def test_09_missing_aud_fails(app: Flask, issuer: TestIssuer) -> None:
    assert _reason(app, bearer(issuer.token(omit=["aud"]))) == "token-invalid-audience"


def test_10_configured_audience_list_any_matches(make_app: AppFactory, issuer: TestIssuer) -> None:
    app = make_app(IDGUARD_AUDIENCE=["https://a.test", "https://b.test"])
    r = app.test_client().get("/me", headers=bearer(issuer.token({"aud": "https://b.test"})))
    assert r.status_code == 200
    env_style = make_app(IDGUARD_AUDIENCE="https://a.test, https://b.test")
    r = env_style.test_client().get("/me", headers=bearer(issuer.token({"aud": "https://a.test"})))
    assert r.status_code == 200


def test_11_expired_beyond_tolerance(app: Flask, issuer: TestIssuer) -> None:
    now = time.time()
    assert _reason(app, bearer(issuer.token({"exp": int(now) - 6}))) == "token-expired"
    assert _reason(app, bearer(issuer.token({"exp": int(now) + 1}))) is None


def test_11_clock_skew_boundary_exact(make_app: AppFactory, issuer: TestIssuer) -> None:
    """Expired iff exp + skew <= now (Clerk's rule): valid just before, invalid at the boundary."""
    app = make_app(IDGUARD_CLOCK_SKEW=5)
    token = issuer.token({"exp": 1_900_000_000, "iat": 1_899_999_000})
    with time_machine.travel(1_900_000_004.9, tick=False):
        assert _reason(app, bearer(token)) is None
    app = make_app(IDGUARD_CLOCK_SKEW=5)
    with time_machine.travel(1_900_000_005, tick=False):
        assert _reason(app, bearer(token)) == "token-expired"


def test_11_zero_skew_is_honoured(make_app: AppFactory, issuer: TestIssuer) -> None:
    app = make_app(IDGUARD_CLOCK_SKEW=0)
    token = issuer.token({"exp": 1_900_000_000, "iat": 1_899_999_000})
    with time_machine.travel(1_900_000_000, tick=False):
        assert _reason(app, bearer(token)) == "token-expired"


def test_12_missing_exp(app: Flask, issuer: TestIssuer) -> None:
    r = app.test_client().get("/me", headers=bearer(issuer.token(omit=["exp"])))
    assert r.status_code == 401
    assert r.json is not None
    assert r.json["error_description"] == (
        "Invalid JWT expiry date claim (exp) undefined. Expected number."
    )


def test_13_nbf_in_future(app: Flask, issuer: TestIssuer) -> None:
    now = int(time.time())
    assert _reason(app, bearer(issuer.token({"nbf": now + 60}))) == "token-not-active-yet"
    assert _reason(app, bearer(issuer.token({"nbf": now + 3}))) is None


def test_13_cached_token_not_yet_valid_until_nbf(make_app: AppFactory, issuer: TestIssuer) -> None:
    app = make_app()
    token = issuer.token({"nbf": 1_900_000_100, "iat": 1_900_000_000, "exp": 1_900_001_000})
    with time_machine.travel(1_900_000_100, tick=False):
        assert _reason(app, bearer(token)) is None
    with time_machine.travel(1_900_000_000, tick=False):
        assert _reason(app, bearer(token)) == "token-not-active-yet"


def test_14_max_token_age(make_app: AppFactory, issuer: TestIssuer) -> None:
    app = make_app(IDGUARD_MAX_TOKEN_AGE=60)
    now = int(time.time())
    assert _reason(app, bearer(issuer.token({"iat": now - 120}))) == "token-max-age-exceeded"
    assert _reason(app, bearer(issuer.token(omit=["iat"]))) == "token-verification-failed"
    assert _reason(app, bearer(issuer.token({"iat": now - 10}))) is None


def test_14_max_token_age_applies_to_cached_tokens(
    make_app: AppFactory, issuer: TestIssuer
) -> None:
    app = make_app(IDGUARD_MAX_TOKEN_AGE=60)
    token = issuer.token({"iat": 1_900_000_000, "exp": 1_900_003_600})
    with time_machine.travel(1_900_000_030, tick=False):
        assert _reason(app, bearer(token)) is None
    with time_machine.travel(1_900_000_070, tick=False):
        assert _reason(app, bearer(token)) == "token-max-age-exceeded"


@pytest.mark.parametrize("kind", ["none", "hs256"])
def test_15_alg_none_or_hs256_before_any_fetch(app: Flask, issuer: TestIssuer, kind: str) -> None:
    token = issuer.unsigned() if kind == "none" else issuer.hs256_with_public_key()
    assert _reason(app, bearer(token)) == "token-invalid-algorithm"
    assert issuer.discovery_calls == 0
    assert issuer.jwks_calls == 0


def test_16_alg_outside_the_allow_list(make_app: AppFactory, issuer: TestIssuer) -> None:
    es = issuer.add_key("ES256")
    assert _reason(make_app(), bearer(issuer.token(kid=es))) == "token-invalid-algorithm"
    allowed = make_app(IDGUARD_ALGORITHMS=["RS256", "ES256"])
    assert _reason(allowed, bearer(issuer.token(kid=es))) is None


def test_17_strict_mode_requires_at_jwt_and_rfc9068_claims(
    make_app: AppFactory, issuer: TestIssuer
) -> None:
    app = make_app(IDGUARD_STRICT=True)
    full = {"client_id": "c1", "jti": "j1"}
    assert _reason(app, bearer(issuer.token(full))) == "token-invalid"  # typ JWT
    ok = issuer.token(full, header={"typ": "at+jwt"})
    assert _reason(app, bearer(ok)) is None
    media = issuer.token(full, header={"typ": "application/AT+JWT"})
    assert _reason(app, bearer(media)) is None
    no_client = issuer.token({"jti": "j"}, header={"typ": "at+jwt"})
    assert _reason(app, bearer(no_client)) == "token-missing-claim"
    r = app.test_client().get("/me", headers=bearer(issuer.token(full, header={"typ": None})))
    assert r.json is not None
    assert r.json["error_description"] == (
        'Invalid JWT type undefined. Expected "application/at+jwt, at+jwt".'
    )


def test_18_custom_validators(make_app: AppFactory, issuer: TestIssuer) -> None:
    def even(value: Any, claims: Mapping[str, Any], header: Mapping[str, Any]) -> bool:
        return isinstance(value, int) and value % 2 == 0

    def boom(value: Any, claims: Mapping[str, Any], header: Mapping[str, Any]) -> bool:
        raise RuntimeError("bug in a validator")

    app = make_app(IDGUARD_VALIDATORS={"tenant": "acme", "n": even, "typ": "JWT"})
    assert _reason(app, bearer(issuer.token({"tenant": "acme", "n": 2}))) is None
    assert _reason(app, bearer(issuer.token({"tenant": "acme", "n": 3}))) == "token-invalid-claim"
    assert _reason(app, bearer(issuer.token({"tenant": "other", "n": 2}))) == (
        "token-invalid-claim"
    )
    assert _reason(app, bearer(issuer.token({"n": 2}))) == "token-invalid-claim"
    no_aud = make_app(IDGUARD_VALIDATORS={"aud": False})
    assert _reason(no_aud, bearer(issuer.token({"aud": "https://any.test"}))) is None
    failing = make_app(IDGUARD_VALIDATORS={"sub": boom})
    assert _reason(failing, bearer(issuer.token())) == "token-invalid-claim"
    required = make_app(IDGUARD_REQUIRED_CLAIMS="org_id")
    assert _reason(required, bearer(issuer.token())) == "token-missing-claim"


@pytest.mark.parametrize("status", [404, 500])
def test_19_discovery_failure_is_503(app: Flask, issuer: TestIssuer, status: int) -> None:
    """Node answers 401 here; the port answers 503 temporarily_unavailable (spec §8.2)."""
    issuer.fail_with = status
    r = app.test_client().get("/me", headers=bearer(issuer.token()))
    assert r.status_code == 503
    assert r.json is not None
    assert r.json["error"] == "temporarily_unavailable"


def test_20_failures_are_not_cached(app: Flask, issuer: TestIssuer) -> None:
    issuer.fail_with = requests.ConnectionError("down")
    token = issuer.token()
    with time_machine.travel(time.time(), tick=False) as clock:
        assert app.test_client().get("/me", headers=bearer(token)).status_code == 503
        issuer.fail_with = None
        clock.shift(2)
        assert app.test_client().get("/me", headers=bearer(token)).status_code == 200


def test_21_unknown_kid_refetches_once_then_401(app: Flask, issuer: TestIssuer) -> None:
    client = app.test_client()
    with time_machine.travel(time.time(), tick=False) as clock:
        assert client.get("/me", headers=bearer(issuer.token())).status_code == 200
        assert issuer.jwks_calls == 1
        clock.shift(31)  # past the cooldown
        new_kid = issuer.add_key()
        assert client.get("/me", headers=bearer(issuer.token(kid=new_kid))).status_code == 200
        assert issuer.jwks_calls == 2
        for i in range(20):
            token = issuer.token(header={"kid": f"unknown-{i}"})
            assert client.get("/me", headers=bearer(token)).status_code == 401
        assert issuer.jwks_calls == 2  # within the cooldown: no further fetch


def test_22_insufficient_scope(app: Flask, issuer: TestIssuer) -> None:
    r = app.test_client().get("/all", headers=bearer(issuer.token({"scope": "read:a"})))
    assert r.status_code == 403
    assert r.headers["WWW-Authenticate"].endswith('scope="read:a read:b"')


def test_23_scope_claim_missing(app: Flask, issuer: TestIssuer) -> None:
    r = app.test_client().get("/all", headers=bearer(issuer.token()))
    assert r.status_code == 403
    assert r.json is not None
    assert r.json["error_description"] == "Missing 'scope' claim"


@pytest.mark.parametrize(
    ("path", "claims", "description"),
    [
        ("/tier", {}, "Missing 'tier' claim"),
        ("/tier", {"tier": "silver"}, "Unexpected 'tier' value"),
        ("/tier", {"tier": "gold"}, None),
        ("/groups", {}, "Missing 'groups' claim"),
        ("/groups", {"groups": ["a"]}, "Unexpected 'groups' value"),
        ("/groups", {"groups": "a b c"}, None),
        ("/groups", {"groups": ["b", "a"]}, None),
        ("/groups", {"groups": {"a": 1}}, "Unexpected 'groups' value"),
        ("/adult", {"age": 17}, "Too young"),
        ("/adult", {"age": 18}, None),
        ("/adult", {"age": "x"}, "Too young"),  # fn raised TypeError: a failed check
    ],
)
def test_24_claim_checks(
    app: Flask, issuer: TestIssuer, path: str, claims: dict[str, Any], description: str | None
) -> None:
    r = app.test_client().get(path, headers=bearer(issuer.token(claims)))
    if description is None:
        assert r.status_code == 200
    else:
        assert r.status_code == 401
        assert r.json == {"error": "invalid_token", "error_description": description}


def test_24_claim_equals_is_json_strict(make_app: AppFactory, issuer: TestIssuer) -> None:
    from flask_idguard import claim_equals

    app = make_app()
    app.add_url_rule("/flag", "flag", claim_equals("flag", True)(lambda: "ok"))
    assert app.test_client().get(
        "/flag", headers=bearer(issuer.token({"flag": 1}))
    ).status_code == (401)
    assert app.test_client().get(
        "/flag", headers=bearer(issuer.token({"flag": True}))
    ).status_code == (200)


def test_25_quote_in_error_description_does_not_break_the_header(
    app: Flask, issuer: TestIssuer
) -> None:
    token = issuer.token({"iss": 'https://evil.test/"x'})
    r = app.test_client().get("/me", headers=bearer(token))
    header = r.headers["WWW-Authenticate"]
    inner = header.split('error_description="', 1)[1]
    assert inner.endswith('"')
    assert '"' not in inner[:-1]
    assert "\\" not in header
