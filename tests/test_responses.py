"""Every response shape of the decorators, asserted exactly (RFC 6750)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
import time_machine
from flask import Flask

from flask_idguard.core.jwt import ASYMMETRIC_ALGORITHMS
from flask_idguard.testing import TestIssuer

from .conftest import AppFactory
from .conftest import bearer
from .test_dpop import ALL_DPOP_ALGS


def test_no_token_is_a_bare_challenge_without_body(app: Flask) -> None:
    r = app.test_client().get("/me")
    assert r.status_code == 401
    assert r.headers.getlist("WWW-Authenticate") == ["Bearer", f'DPoP algs="{ALL_DPOP_ALGS}"']
    assert r.headers["Cache-Control"] == "no-store"
    assert r.data == b""


def test_realm_is_the_first_attribute_when_configured(make_app: AppFactory) -> None:
    app = make_app(IDGUARD_REALM="api")
    assert app.test_client().get("/me").headers["WWW-Authenticate"] == 'Bearer realm="api"'
    r = app.test_client().get("/me", headers=bearer("x.y.z"))
    assert r.headers["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_token"')


def test_valid_token_reaches_the_view(app: Flask, issuer: TestIssuer) -> None:
    r = app.test_client().get("/me", headers=bearer(issuer.token({"sub": "user_9"})))
    assert r.status_code == 200
    assert r.json is not None
    assert r.json["user_id"] == "user_9"
    assert r.json["provider"] == "oidc"
    assert r.json["status"] == "signed-in"


def test_bad_token_is_invalid_token_with_json_body(app: Flask, issuer: TestIssuer) -> None:
    r = app.test_client().get("/me", headers=bearer(issuer.token(expires_in=-60)))
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="JWT is expired.')
    assert r.json is not None
    assert r.json["error"] == "invalid_token"
    assert r.json["error_description"].startswith("JWT is expired. Expiry date: ")


def test_insufficient_scope_names_the_required_scopes(app: Flask, issuer: TestIssuer) -> None:
    r = app.test_client().get("/all", headers=bearer(issuer.token({"scope": "read:a"})))
    assert r.status_code == 403
    assert r.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", error_description="Insufficient scope", '
        'scope="read:a read:b"'
    )
    assert r.json == {"error": "insufficient_scope", "error_description": "Insufficient scope"}


def test_missing_scope_claim_is_403_with_its_own_message(app: Flask, issuer: TestIssuer) -> None:
    r = app.test_client().get("/all", headers=bearer(issuer.token()))
    assert r.status_code == 403
    assert r.json == {"error": "insufficient_scope", "error_description": "Missing 'scope' claim"}


def test_scopes_any_and_all(app: Flask, issuer: TestIssuer) -> None:
    client = app.test_client()
    one = bearer(issuer.token({"scope": "read:b"}))
    both = bearer(issuer.token({"scope": ["read:a", "read:b"]}))
    assert client.get("/any", headers=one).status_code == 200
    assert client.get("/all", headers=one).status_code == 403
    assert client.get("/all", headers=both).status_code == 200
    assert client.get("/scoped", headers=one).status_code == 403
    assert client.get("/scoped", headers=both).status_code == 200


def test_scp_list_counts_as_scopes(app: Flask, issuer: TestIssuer) -> None:
    r = app.test_client().get("/all", headers=bearer(issuer.token({"scp": ["read:a", "read:b"]})))
    assert r.status_code == 200


def test_malformed_authorization_header_is_400(app: Flask) -> None:
    for value in ("Bearer", "Bearer ", "foo", "Bearer a b", " Bearer x"):
        r = app.test_client().get("/me", headers={"Authorization": value})
        assert r.status_code == 400, value
        assert r.json is not None
        assert r.json["error"] == "invalid_request"
        assert r.headers["WWW-Authenticate"].startswith('Bearer error="invalid_request"')


def test_unsupported_scheme_is_a_bare_401(app: Flask) -> None:
    r = app.test_client().get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.data == b""


def test_scheme_is_case_insensitive(app: Flask, issuer: TestIssuer) -> None:
    for scheme in ("bearer", "BEARER", "BeArEr"):
        headers = {"Authorization": f"{scheme} {issuer.token()}"}
        assert app.test_client().get("/me", headers=headers).status_code == 200


def test_cold_outage_is_503_not_401(app: Flask, issuer: TestIssuer) -> None:
    issuer.fail_with = requests.ConnectionError("down")
    r = app.test_client().get("/me", headers=bearer(issuer.token()))
    assert r.status_code == 503
    assert r.json is not None
    assert r.json["error"] == "temporarily_unavailable"
    assert r.headers["Retry-After"] == "5"
    assert "WWW-Authenticate" not in r.headers


def test_public_view_sees_the_state_without_failing(app: Flask, issuer: TestIssuer) -> None:
    client = app.test_client()
    assert client.get("/public").json == {"status": "signed-out", "reason": "token-missing"}
    r = client.get("/public", headers={"Authorization": "garbage"})
    assert r.status_code == 200
    r = client.get("/public", headers=bearer(issuer.token(expires_in=-60)))
    assert r.json == {"status": "signed-out", "reason": "token-expired"}


@pytest.mark.parametrize(
    ("headers", "redirected"),
    [
        ({"Sec-Fetch-Dest": "document"}, True),
        ({"Sec-Fetch-Dest": "empty", "Accept": "text/html"}, False),
        ({"Accept": "text/html,application/xhtml+xml"}, True),
        ({"Accept": "application/json"}, False),
        ({}, False),
    ],
)
def test_page_navigation_redirects_to_sign_in(
    make_app: AppFactory, headers: dict[str, str], redirected: bool
) -> None:
    app = make_app(IDGUARD_SIGN_IN_URL="https://accounts.example.com/sign-in")
    r = app.test_client().get("/page?x=1", headers=headers)
    if redirected:
        assert r.status_code == 302
        assert r.headers["Location"] == (
            "https://accounts.example.com/sign-in?redirect_url=http%3A%2F%2Flocalhost%2Fpage%3Fx%3D1"
        )
    else:
        assert r.status_code == 401


def test_no_redirect_without_sign_in_url(app: Flask) -> None:
    r = app.test_client().get("/page", headers={"Sec-Fetch-Dest": "document"})
    assert r.status_code == 401


def test_post_is_never_redirected(make_app: AppFactory) -> None:
    app = make_app(IDGUARD_SIGN_IN_URL="/sign-in")
    r = app.test_client().post("/me", headers={"Sec-Fetch-Dest": "document"})
    assert r.status_code == 401


def test_redirect_false_answers_401(make_app: AppFactory, issuer: TestIssuer) -> None:
    from flask_idguard import requires_auth

    app = make_app(IDGUARD_SIGN_IN_URL="/sign-in")
    app.add_url_rule("/api", "api", requires_auth(redirect=False)(lambda: "ok"))
    r = app.test_client().get("/api", headers={"Sec-Fetch-Dest": "document"})
    assert r.status_code == 401


def test_options_is_exempt(app: Flask) -> None:
    assert app.test_client().options("/me").status_code == 200


def test_quotes_and_backslashes_never_break_the_header(app: Flask, issuer: TestIssuer) -> None:
    from flask_idguard import claim_check

    app.add_url_rule(
        "/quoted",
        "quoted",
        claim_check(lambda c: False, error_message='bad "claim" \\ \u00e9')(lambda: "ok"),
    )
    r = app.test_client().get("/quoted", headers=bearer(issuer.token()))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="bad \'claim\' / ?"'
    )
    assert json.loads(r.data)["error_description"] == 'bad "claim" \\ \u00e9'


def test_errors_can_be_customised_with_errorhandler(app: Flask) -> None:
    from flask_idguard import IdGuardError

    @app.errorhandler(IdGuardError)
    def handle(exc: IdGuardError) -> tuple[str, int]:
        return f"custom {exc.code} {exc.reason}", exc.code or 500

    r = app.test_client().get("/me")
    assert r.status_code == 401
    assert r.data == b"custom 401 token-missing"


def test_base_errorhandler_catches_every_status(app: Flask, issuer: TestIssuer) -> None:
    """Flask files a handler for a class with a code under that code only: the base has none."""
    from flask_idguard import IdGuardError

    seen: list[int] = []

    @app.errorhandler(IdGuardError)
    def handle(exc: IdGuardError) -> tuple[str, int]:
        assert exc.code is not None
        seen.append(exc.code)
        return "handled", exc.code

    client = app.test_client()
    issuer.fail_with = 500
    client.get("/me", headers=bearer(issuer.token()))  # 503
    client.get("/me", headers={"Authorization": "Bearer"})  # 400
    client.get("/me")  # 401
    client.get("/all", headers=bearer(issuer.token()))  # 503 again: within the cold retry gap
    assert seen == [503, 400, 401, 503]
    with time_machine.travel(time.time() + 2, tick=False):
        issuer.fail_with = None
        client.get("/all", headers=bearer(issuer.token()))
    assert seen == [503, 400, 401, 503, 403]


def test_sign_in_redirect_is_not_cached(make_app: AppFactory) -> None:
    app = make_app(IDGUARD_SIGN_IN_URL="/sign-in?app=x")
    r = app.test_client().get("/page", headers={"Sec-Fetch-Dest": "document"})
    assert r.status_code == 302
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Location"] == "/sign-in?app=x&redirect_url=http%3A%2F%2Flocalhost%2Fpage"


def test_token_text_in_messages_is_short_and_single_line(app: Flask, issuer: TestIssuer) -> None:
    token = issuer.token({"iss": "https://evil.test/\n" + "x" * 10_000})
    r = app.test_client().get("/me", headers=bearer(token))
    assert r.json is not None
    description = r.json["error_description"]
    assert "\n" not in description
    assert len(description) < 200


@pytest.mark.parametrize("alg", sorted(ASYMMETRIC_ALGORITHMS))
def test_every_asymmetric_algorithm_verifies_when_allowed(
    idguard_issuer_factory: Any, alg: str
) -> None:
    from .conftest import build_app

    issuer = idguard_issuer_factory(alg=alg)
    app = build_app(
        IDGUARD_ISSUER=issuer.issuer, IDGUARD_AUDIENCE=issuer.audience, IDGUARD_ALGORITHMS=[alg]
    )
    client = app.test_client()
    assert client.get("/me", headers=bearer(issuer.token())).status_code == 200
    other = "ES256" if alg != "ES256" else "RS256"
    forged = issuer.token(header={"alg": other})
    assert client.get("/public", headers=bearer(forged)).json == {
        "status": "signed-out",
        "reason": "token-invalid-algorithm",
    }


def test_key_bound_to_its_algorithm_even_when_both_are_allowed(
    idguard_issuer_factory: Any,
) -> None:
    """A PS256 header over an RS256-published key is refused: each key has one algorithm."""
    from .conftest import build_app

    issuer = idguard_issuer_factory(alg="RS256")
    app = build_app(
        IDGUARD_ISSUER=issuer.issuer,
        IDGUARD_AUDIENCE=issuer.audience,
        IDGUARD_ALGORITHMS=["RS256", "PS256", "ES256", "ES384"],
    )
    token = issuer.token(header={"alg": "PS256"})
    assert app.test_client().get("/public", headers=bearer(token)).json == {
        "status": "signed-out",
        "reason": "token-invalid-algorithm",
    }
    es = idguard_issuer_factory(alg="ES256")
    app = build_app(
        IDGUARD_ISSUER=es.issuer,
        IDGUARD_AUDIENCE=es.audience,
        IDGUARD_ALGORITHMS=["ES256", "ES384"],
    )
    token = es.token(header={"alg": "ES384"})  # P-256 key, ES384 header
    assert app.test_client().get("/public", headers=bearer(token)).json == {
        "status": "signed-out",
        "reason": "token-invalid-algorithm",
    }
