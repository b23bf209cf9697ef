"""Every hostile-token class of design §5: each a 401 with a stable reason, never a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard.testing import TestIssuer
from flask_idguard.testing import b64url

from .conftest import bearer

Hostile = Callable[[TestIssuer], str]


def _std_b64_padded(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _nested(issuer: TestIssuer, depth: int) -> str:
    claims = json.dumps(issuer.claims()).encode()
    deep = b'"deep":' + b"[" * depth + b"1" + b"]" * depth
    return issuer.sign_raw({"alg": "RS256", "kid": issuer.kid}, claims[:-1] + b"," + deep + b"}")


CASES: list[tuple[str, Hostile, str]] = [
    ("alg none", lambda i: i.unsigned(alg="none"), "token-invalid-algorithm"),
    ("alg None", lambda i: i.unsigned(alg="None"), "token-invalid-algorithm"),
    ("alg NONE", lambda i: i.unsigned(alg="NONE"), "token-invalid-algorithm"),
    ("alg nOnE", lambda i: i.unsigned(alg="nOnE"), "token-invalid-algorithm"),
    (
        "HS256 signed with the public key",
        lambda i: i.hs256_with_public_key(),
        "token-invalid-algorithm",
    ),
    ("alg not a string", lambda i: i.token(header={"alg": ["RS256"]}), "token-invalid-algorithm"),
    ("alg missing", lambda i: i.token(header={"alg": None}), "token-invalid-algorithm"),
    (
        "alg RS384 on an RS256 key",
        lambda i: i.token(header={"alg": "RS384"}),
        "token-invalid-algorithm",
    ),
    (
        "jku header",
        lambda i: i.token(header={"jku": "https://evil.test/jwks"}),
        "token-invalid-header",
    ),
    (
        "x5u header",
        lambda i: i.token(header={"x5u": "https://evil.test/cert"}),
        "token-invalid-header",
    ),
    ("x5c header", lambda i: i.token(header={"x5c": ["MIIB"]}), "token-invalid-header"),
    ("jwk header", lambda i: i.token(header={"jwk": i.jwks()["keys"][0]}), "token-invalid-header"),
    ("crit header", lambda i: i.token(header={"crit": ["exp"], "exp": 1}), "token-invalid-header"),
    ("crit b64", lambda i: i.token(header={"crit": ["b64"], "b64": False}), "token-invalid-header"),
    ("unknown kid", lambda i: i.token(header={"kid": "someone-else"}), "jwk-kid-mismatch"),
    ("missing kid", lambda i: i.token(header={"kid": None}), "jwk-kid-mismatch"),
    ("kid not a string", lambda i: i.token(header={"kid": 7}), "jwk-kid-mismatch"),
    (
        "padded standard base64",
        lambda i: i.sign_raw({"alg": "RS256", "kid": i.kid}, i.claims(), b64=_std_b64_padded),
        "token-invalid",
    ),
    ("header is a JSON array", lambda i: i.sign_raw(b'["RS256"]', i.claims()), "token-invalid"),
    (
        "payload is a JSON array",
        lambda i: i.sign_raw({"alg": "RS256", "kid": i.kid}, [1, 2]),
        "token-invalid",
    ),
    (
        "payload is a JSON string",
        lambda i: i.sign_raw({"alg": "RS256", "kid": i.kid}, "x"),
        "token-invalid",
    ),
    (
        "payload not JSON",
        lambda i: i.sign_raw({"alg": "RS256", "kid": i.kid}, b"\xff\xfe"),
        "token-invalid",
    ),
    (
        "payload NaN",
        lambda i: i.sign_raw({"alg": "RS256", "kid": i.kid}, b'{"sub":"u","exp":NaN}'),
        "token-invalid",
    ),
    ("exp as a string", lambda i: i.token({"exp": "9999999999"}), "token-verification-failed"),
    ("exp as a boolean", lambda i: i.token({"exp": True}), "token-verification-failed"),
    ("exp beyond float range", lambda i: i.token({"exp": 10**400}), "token-verification-failed"),
    ("nbf beyond float range", lambda i: i.token({"nbf": -(10**400)}), "token-verification-failed"),
    ("nbf as a string", lambda i: i.token({"nbf": "0"}), "token-verification-failed"),
    ("iat as a boolean", lambda i: i.token({"iat": False}), "token-verification-failed"),
    ("exp missing", lambda i: i.token(omit=["exp"]), "token-verification-failed"),
    (
        "iss not a string",
        lambda i: i.token({"iss": ["https://issuer.test/"]}),
        "token-invalid-issuer",
    ),
    ("sub not a string", lambda i: i.token({"sub": 42}), "token-verification-failed"),
    ("deeply nested payload (recursion)", lambda i: _nested(i, 5000), "token-invalid"),
    ("nested deeper than allowed", lambda i: _nested(i, 40), "token-invalid"),
    ("a 1 MB token", lambda i: i.token({"blob": "A" * 1_000_000}), "token-invalid"),
    ("signature from another key", lambda i: _swap_signature(i), "token-invalid-signature"),
    ("payload altered after signing", lambda i: _alter_payload(i), "token-invalid-signature"),
    ("two segments", lambda i: ".".join(i.token().split(".")[:2]), "token-invalid"),
    ("four segments", lambda i: i.token() + ".x", "token-invalid"),
    ("standard-alphabet + inside", lambda i: i.token().replace(".", ".+", 1), "token-invalid"),
    ("tab inside", lambda i: i.token().replace(".", ".\t", 1), "token-invalid"),
    ("empty signature", lambda i: i.token().rsplit(".", 1)[0] + ".", "token-invalid-signature"),
]


def _swap_signature(issuer: TestIssuer) -> str:
    other = TestIssuer(issuer.issuer, audience=issuer.audience, kid=issuer.kid)
    mine = issuer.token().split(".")
    theirs = other.token().split(".")
    return ".".join([mine[0], mine[1], theirs[2]])


def _alter_payload(issuer: TestIssuer) -> str:
    head, payload, sig = issuer.token({"sub": "user_1"}).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "admin"
    return ".".join([head, b64url(json.dumps(claims).encode()), sig])


@pytest.mark.parametrize(("name", "make", "reason"), CASES, ids=[c[0] for c in CASES])
def test_hostile_token_is_a_401_with_a_reason(
    app: Flask, issuer: TestIssuer, name: str, make: Hostile, reason: str
) -> None:
    token = make(issuer)
    client = app.test_client()
    r = client.get("/me", headers=bearer(token))
    assert r.status_code == 401, r.data
    assert r.json is not None
    assert r.json["error"] == "invalid_token"
    assert client.get("/public", headers=bearer(token)).json == {
        "status": "signed-out",
        "reason": reason,
    }


def test_hostile_headers_never_cause_a_fetch_of_their_urls(app: Flask, issuer: TestIssuer) -> None:
    """responses raises ConnectionError for any unregistered URL: none is requested."""
    token = issuer.token(header={"jku": "https://evil.test/jwks", "x5u": "https://evil.test/c"})
    assert app.test_client().get("/me", headers=bearer(token)).status_code == 401
    assert issuer.jwks_calls == 0


def test_alg_none_and_hs256_are_refused_before_any_network(app: Flask, issuer: TestIssuer) -> None:
    client = app.test_client()
    client.get("/me", headers=bearer(issuer.unsigned()))
    client.get("/me", headers=bearer(issuer.hs256_with_public_key()))
    assert issuer.discovery_calls == 0
    assert issuer.jwks_calls == 0


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=st.text(min_size=1, max_size=300).filter(lambda t: " " not in t and "\n" not in t))
def test_arbitrary_text_never_500(app: Flask, token: str) -> None:
    try:
        headers = bearer(token)
        r = app.test_client().get("/me", headers=headers)
    except ValueError:  # werkzeug refuses some header bytes itself: nothing reached us
        return
    assert r.status_code in (400, 401)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.dictionaries(
        st.text(max_size=5),
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=5)
        | st.lists(st.integers(), max_size=3),
        max_size=4,
    ),
    payload=st.recursive(
        st.none()
        | st.booleans()
        | st.floats(allow_nan=False)
        | st.integers()
        | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=5), children, max_size=3)
        ),
        max_leaves=10,
    ),
)
def test_arbitrary_json_segments_never_500(
    app: Flask, issuer: TestIssuer, header: dict[str, object], payload: object
) -> None:
    token = ".".join(
        [b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), "c2ln"]
    )
    assert app.test_client().get("/me", headers=bearer(token)).status_code == 401
