"""Rows 26–36 of the Auth0 acceptance matrix (shared/specs/auth0.md §3.1) and the proof checks.

The proof checks follow RFC 9449 §4.3, with the edge cases of auth0-api-js
``dpop-api.spec.ts`` / ``api-client.dpop.spec.ts`` and node-oauth2-jwt-bearer
``dpop-verifier.test.ts`` (Appendix A and B).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from flask import Flask
from werkzeug.test import TestResponse

from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard.testing import DPoPKey
from flask_idguard.testing import TestIssuer

from .conftest import AppFactory
from .test_dpop import ALL_DPOP_ALGS
from .test_dpop import BOUND_AS_BEARER
from .test_dpop import PROOF_MISSING
from .test_dpop import PROOF_WITH_BEARER
from .test_dpop import SCHEME_DISABLED
from .test_dpop import SCHEME_REQUIRED

URL = "https://api.test/me"
DPOP_ALL = f'DPoP algs="{ALL_DPOP_ALGS}"'


def call(
    app: Flask, token: str, proof: str | list[str] | None, *, scheme: str = "DPoP", **kw: Any
) -> TestResponse:
    headers: list[tuple[str, str]] = [("Authorization", f"{scheme} {token}")]
    for value in [proof] if isinstance(proof, str) else proof or []:
        headers.append(("DPoP", value))
    method = kw.pop("method", "GET")
    path = kw.pop("path", "/me")
    return app.test_client().open(
        path, method=method, base_url="https://api.test", headers=headers, **kw
    )


def assert_error(r: TestResponse, status: int, error: str, description: str) -> None:
    assert r.status_code == status, r.data
    assert r.json == {"error": error, "error_description": description}


@pytest.fixture
def still_clock() -> Iterator[None]:
    """The clock stopped on a whole second while a proof is built and checked.

    A proof's ``iat`` is a whole second, so on a running clock "31 s ahead" can be checked as
    30.x s ahead a moment later and pass the 30 s leeway: the boundary rows need a still clock.
    """
    with time_machine.travel(float(int(time.time())), tick=False):
        yield


@pytest.fixture
def key() -> DPoPKey:
    return DPoPKey()


@pytest.fixture
def bound(issuer: TestIssuer, key: DPoPKey) -> str:
    return issuer.token(dpop=key)


def test_26_allowed_bound_token_as_bearer_is_401(app: Flask, bound: str, key: DPoPKey) -> None:
    r = call(app, bound, None, scheme="Bearer")
    assert_error(r, 401, "invalid_token", BOUND_AS_BEARER)
    assert r.headers.getlist("WWW-Authenticate") == [
        f'Bearer error="invalid_token", error_description="{BOUND_AS_BEARER}"',
        DPOP_ALL,
    ]


def test_27_allowed_bearer_with_proof_and_unbound_token_is_400(
    app: Flask, issuer: TestIssuer, key: DPoPKey
) -> None:
    token = issuer.token()
    r = call(app, token, key.proof("GET", URL, token), scheme="Bearer")
    assert_error(r, 400, "invalid_request", PROOF_WITH_BEARER)


def test_28_dpop_scheme_without_proof_is_400_bare(make_app: AppFactory, bound: str) -> None:
    r = call(make_app(IDGUARD_REALM="api"), bound, None)
    assert_error(r, 400, "invalid_request", PROOF_MISSING)
    assert r.headers.getlist("WWW-Authenticate") == ['Bearer realm="api"', DPOP_ALL]
    assert call(make_app(), bound, "").status_code == 400  # an empty DPoP header is none


@pytest.mark.parametrize("two", ["comma-separated", "two-header-lines"])
def test_29_two_proofs_are_refused(app: Flask, bound: str, key: DPoPKey, two: str) -> None:
    proofs = [key.proof("GET", URL, bound), key.proof("GET", URL, bound)]
    r = call(app, bound, ", ".join(proofs) if two == "comma-separated" else proofs)
    assert_error(r, 400, "invalid_dpop_proof", "Multiple DPoP proofs are not allowed")
    assert r.headers.getlist("WWW-Authenticate") == [
        "Bearer",
        'DPoP error="invalid_dpop_proof", error_description="Multiple DPoP proofs are not '
        f'allowed", algs="{ALL_DPOP_ALGS}"',
    ]


def _private_jwk_proof(key: DPoPKey, token: str) -> str:
    return key.proof("GET", URL, token, header={"jwk": key.private_jwk()})


def _foreign_signature(key: DPoPKey, token: str) -> str:
    head, payload, _ = key.proof("GET", URL, token).split(".")
    return f"{head}.{payload}.{DPoPKey().proof('GET', URL, token).split('.')[2]}"


JWK_INVALID = "Missing or invalid jwk in DPoP proof header"
PROOF_CASES: list[tuple[str, Any, str, str]] = [
    # (id, proof builder(key, token), error, description)
    ("30-typ-JWT", lambda k, t: k.proof("GET", URL, t, header={"typ": "JWT"}),
     "invalid_dpop_proof", 'DPoP proof "typ" header must be "dpop+jwt"'),
    ("30-typ-missing", lambda k, t: k.proof("GET", URL, t, header={"typ": None}),
     "invalid_dpop_proof", 'DPoP proof "typ" header must be "dpop+jwt"'),
    ("30-alg-not-allowed", lambda k, t: k.proof("GET", URL, t, header={"alg": "HS256"}),
     "invalid_dpop_proof", f'DPoP proof "alg" is not allowed; use one of {ALL_DPOP_ALGS}'),
    ("30-alg-none", lambda k, t: k.proof("GET", URL, t, header={"alg": "none"}),
     "invalid_dpop_proof", f'DPoP proof "alg" is not allowed; use one of {ALL_DPOP_ALGS}'),
    ("30-alg-of-another-key-type", lambda k, t: k.proof("GET", URL, t, header={"alg": "RS256"}),
     "invalid_dpop_proof", "Failed to verify DPoP proof"),
    ("30-signature-by-another-key", _foreign_signature,
     "invalid_dpop_proof", "Failed to verify DPoP proof"),
    ("30-private-key-in-jwk", _private_jwk_proof,
     "invalid_dpop_proof", "DPoP proof header must not contain private key material"),
    ("30-symmetric-jwk",
     lambda k, t: k.proof("GET", URL, t, header={"jwk": {"kty": "oct", "k": "c2VjcmV0"}}),
     "invalid_dpop_proof", "DPoP proof header must not contain private key material"),
    ("30-jwk-missing", lambda k, t: k.proof("GET", URL, t, header={"jwk": None}),
     "invalid_dpop_proof", JWK_INVALID),
    ("30-jwk-not-an-object", lambda k, t: k.proof("GET", URL, t, header={"jwk": "key"}),
     "invalid_dpop_proof", JWK_INVALID),
    ("30-jwk-garbage-members",
     lambda k, t: k.proof("GET", URL, t, header={"jwk": {"kty": "EC", "x": "AA", "y": 1}}),
     "invalid_dpop_proof", JWK_INVALID),
    ("30-jwk-kty-a-list", lambda k, t: k.proof("GET", URL, t, header={"jwk": {"kty": ["EC"]}}),
     "invalid_dpop_proof", JWK_INVALID),
    ("30-crit-header", lambda k, t: k.proof("GET", URL, t, header={"crit": ["exp"]}),
     "invalid_dpop_proof", "DPoP proof lists critical extensions (crit)"),
    ("jti-missing", lambda k, t: k.proof("GET", URL, t, jti=None),
     "invalid_dpop_proof", '"jti" claim must be a string'),
    ("jti-empty", lambda k, t: k.proof("GET", URL, t, jti=""),
     "invalid_dpop_proof", '"jti" claim must be a string'),
    ("iat-missing", lambda k, t: k.proof("GET", URL, t, iat=None),
     "invalid_dpop_proof", '"iat" claim must be a number'),
    ("iat-string", lambda k, t: k.proof("GET", URL, t, iat="1700000000"),
     "invalid_dpop_proof", '"iat" claim must be a number'),
    ("iat-bool", lambda k, t: k.proof("GET", URL, t, iat=True),
     "invalid_dpop_proof", '"iat" claim must be a number'),
    ("iat-beyond-float-range", lambda k, t: k.proof("GET", URL, t, iat=10**400),
     "invalid_dpop_proof", '"iat" claim must be a number'),
    ("31-iat-301s-old", lambda k, t: k.proof("GET", URL, t, now=time.time() - 301),
     "invalid_dpop_proof", 'DPoP proof "iat" is outside the acceptable range'),
    ("31-iat-31s-ahead", lambda k, t: k.proof("GET", URL, t, now=time.time() + 31),
     "invalid_dpop_proof", 'DPoP proof "iat" is outside the acceptable range'),
    ("htm-missing", lambda k, t: k.proof("GET", URL, t, htm=None),
     "invalid_dpop_proof", '"htm" claim must be a string'),
    ("32-htm-mismatch", lambda k, t: k.proof("POST", URL, t),
     "invalid_dpop_proof", 'DPoP proof "htm" mismatch'),
    ("htu-missing", lambda k, t: k.proof("GET", URL, t, htu=None),
     "invalid_dpop_proof", '"htu" claim must be a string'),
    ("htu-not-a-string", lambda k, t: k.proof("GET", URL, t, htu=["x"]),
     "invalid_dpop_proof", '"htu" claim must be a string'),
    ("32-htu-other-path", lambda k, t: k.proof("GET", "https://api.test/other", t),
     "invalid_dpop_proof", 'DPoP proof "htu" mismatch'),
    ("32-htu-trailing-slash", lambda k, t: k.proof("GET", URL + "/", t),
     "invalid_dpop_proof", 'DPoP proof "htu" mismatch'),
    ("32-htu-other-host", lambda k, t: k.proof("GET", "https://evil.test/me", t),
     "invalid_dpop_proof", 'DPoP proof "htu" mismatch'),
    ("32-htu-http-not-https", lambda k, t: k.proof("GET", "http://api.test/me", t),
     "invalid_dpop_proof", 'DPoP proof "htu" mismatch'),
    ("htu-not-a-url", lambda k, t: k.proof("GET", "not a url", t),
     "invalid_dpop_proof", '"htu" claim URL must be valid URL'),
    ("htu-hostile-host", lambda k, t: k.proof("GET", "https://api.test\\@evil/me", t),
     "invalid_dpop_proof", 'Invalid "htu" claim URL: Host contains illegal characters or format'),
    ("htu-javascript-scheme", lambda k, t: k.proof("GET", "javascript:alert(1)", t),
     "invalid_dpop_proof", '"htu" claim URL must be valid URL'),
    ("ath-missing", lambda k, t: k.proof("GET", URL, None),
     "invalid_dpop_proof", '"ath" claim must be a string'),
    ("33-ath-of-another-token", lambda k, t: k.proof("GET", URL, t + "x"),
     "invalid_dpop_proof", 'DPoP proof "ath" mismatch'),
    ("34-key-not-the-bound-one", lambda k, t: DPoPKey().proof("GET", URL, t),
     "invalid_token", "JWT Access Token confirmation mismatch"),
    ("not-a-jwt", lambda k, t: "garbage",
     "invalid_dpop_proof", "Failed to verify DPoP proof"),
    ("non-json-header", lambda k, t: k.sign_raw(b"not json", {"htm": "GET"}),
     "invalid_dpop_proof", "Failed to verify DPoP proof"),
    ("json-array-payload",
     lambda k, t: k.sign_raw({"typ": "dpop+jwt", "alg": "ES256", "jwk": k.jwk}, [1]),
     "invalid_dpop_proof", "Failed to verify DPoP proof"),
    ("huge-proof", lambda k, t: k.proof("GET", URL, t, pad="x" * 9000),
     "invalid_dpop_proof", "Failed to verify DPoP proof"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "error", "description"),
    [c[1:] for c in PROOF_CASES],
    ids=[c[0] for c in PROOF_CASES],
)
@pytest.mark.usefixtures("still_clock")
def test_proof_checks(
    app: Flask, bound: str, key: DPoPKey, build: Any, error: str, description: str
) -> None:
    r = call(app, bound, build(key, bound))
    assert_error(r, 401 if error == "invalid_token" else 400, error, description)
    challenge = r.headers.getlist("WWW-Authenticate")[1]
    assert challenge.startswith(f'DPoP error="{error}", error_description="')


ACCEPTED: list[tuple[str, Any]] = [
    ("htm-lower-case", lambda k, t: k.proof("get", URL, t)),
    ("32-htu-query-and-fragment-ignored", lambda k, t: k.proof("GET", URL + "?a=1#f", t)),
    ("htu-upper-case-host-default-port", lambda k, t: k.proof("GET", "HTTPS://API.TEST:443/me", t)),
    ("htu-dot-segments", lambda k, t: k.proof("GET", "https://api.test/x/../me", t)),
    ("htu-escaped-unreserved", lambda k, t: k.proof("GET", "https://api.test/%6De", t)),
    ("iat-299s-old", lambda k, t: k.proof("GET", URL, t, now=time.time() - 299)),
    ("iat-29s-ahead", lambda k, t: k.proof("GET", URL, t, now=time.time() + 29)),
    ("typ-mixed-case", lambda k, t: k.proof("GET", URL, t, header={"typ": "DPoP+JWT"})),
    ("extra-claims-and-headers",
     lambda k, t: k.proof("GET", URL, t, foo="bar", header={"kid": "k1"})),
]  # fmt: skip


@pytest.mark.parametrize("build", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
@pytest.mark.usefixtures("still_clock")
def test_proofs_accepted(app: Flask, bound: str, key: DPoPKey, build: Any) -> None:
    r = call(app, bound, build(key, bound))
    assert r.status_code == 200, r.json
    assert r.json is not None and r.json["status"] == "signed-in"


@pytest.mark.parametrize("alg", ["ES256", "ES384", "PS256", "RS256", "EdDSA"])
def test_proof_algorithms(issuer: TestIssuer, make_app: AppFactory, alg: str) -> None:
    key = DPoPKey(alg)
    token = issuer.token(dpop=key)
    assert call(make_app(), token, key.proof("GET", URL, token)).status_code == 200
    only_es256 = make_app(IDGUARD_DPOP_ALGORITHMS=["ES256"])
    expected = 200 if alg == "ES256" else 400
    assert call(only_es256, token, key.proof("GET", URL, token)).status_code == expected


CNF_CASES = [
    ("cnf-missing", None, NO_JKT := "JWT Access Token has no jkt confirmation claim"),
    ("cnf-a-string", "jkt", 'Invalid "cnf" confirmation claim structure'),
    ("cnf-an-array", ["jkt"], 'Invalid "cnf" confirmation claim structure'),
    ("cnf-without-jkt", {"x5t#S256": "abc"}, NO_JKT),
    ("jkt-not-a-string", {"jkt": 7}, 'Malformed "jkt" confirmation claim'),
    ("jkt-empty", {"jkt": ""}, 'Invalid "jkt" confirmation claim'),
]


@pytest.mark.parametrize(
    ("cnf", "description"), [c[1:] for c in CNF_CASES], ids=[c[0] for c in CNF_CASES]
)
def test_dpop_scheme_needs_a_jkt_confirmation(
    app: Flask, issuer: TestIssuer, key: DPoPKey, cnf: Any, description: str
) -> None:
    token = issuer.token({"cnf": cnf} if cnf is not None else None)
    assert_error(call(app, token, key.proof("GET", URL, token)), 401, "invalid_token", description)


def test_cnf_with_extra_members_is_accepted(app: Flask, issuer: TestIssuer, key: DPoPKey) -> None:
    token = issuer.token({"cnf": {"jkt": key.jkt, "x5t#S256": "other"}})
    assert call(app, token, key.proof("GET", URL, token)).status_code == 200


def test_35_required_mode_refuses_bearer(make_app: AppFactory, issuer: TestIssuer) -> None:
    r = call(make_app(IDGUARD_DPOP="required"), issuer.token(), None, scheme="Bearer")
    assert_error(r, 400, "invalid_request", SCHEME_REQUIRED)
    assert r.headers.getlist("WWW-Authenticate") == [DPOP_ALL]


def test_36_disabled_mode(make_app: AppFactory, bound: str, key: DPoPKey) -> None:
    app = make_app(IDGUARD_DPOP="disabled")
    r = call(app, bound, key.proof("GET", URL, bound))
    assert_error(r, 400, "invalid_request", SCHEME_DISABLED)
    assert r.headers.getlist("WWW-Authenticate") == ["Bearer"]
    # Auth0's SDKs accept a bound token as Bearer when DPoP is disabled: a documented downgrade.
    assert call(app, bound, None, scheme="Bearer").status_code == 200
    strict = make_app(IDGUARD_DPOP="disabled", IDGUARD_DPOP_REJECT_BOUND_BEARER=True)
    r = call(strict, bound, None, scheme="Bearer")
    assert_error(
        r,
        401,
        "invalid_token",
        "DPoP-bound tokens are not accepted by this API (DPoP is disabled).",
    )


def test_dpop_success_exposes_the_scheme(make_app: AppFactory, bound: str, key: DPoPKey) -> None:
    app = make_app()

    @app.get("/scheme")
    def scheme() -> Any:
        return {"scheme": current_auth.scheme, "jkt": current_auth.claims["cnf"]["jkt"]}

    r = call(app, bound, key.proof("GET", "https://api.test/scheme", bound), path="/scheme")
    assert r.json == {"scheme": "dpop", "jkt": key.jkt}


def test_insufficient_scope_goes_on_the_dpop_challenge(
    app: Flask, issuer: TestIssuer, key: DPoPKey
) -> None:
    token = issuer.token({"scope": "read:a"}, dpop=key)
    r = call(app, token, key.proof("GET", "https://api.test/all", token), path="/all")
    assert r.status_code == 403
    assert r.headers.getlist("WWW-Authenticate") == [
        "Bearer",
        'DPoP error="insufficient_scope", error_description="Insufficient scope", '
        f'scope="read:a read:b", algs="{ALL_DPOP_ALGS}"',
    ]


def test_post_with_body_and_query(app: Flask, bound: str, key: DPoPKey) -> None:
    r = call(app, bound, key.proof("POST", URL, bound), method="POST", query_string={"q": "1"})
    assert r.status_code == 200


def test_request_url_with_absolute_url_path_is_400(app: Flask, bound: str, key: DPoPKey) -> None:
    app.add_url_rule("/<path:rest>", "catch_all", requires_auth(lambda rest: "ok"))
    htu = "https://api.test/https:/evil.test/x"
    r = call(app, bound, key.proof("GET", htu, bound), path="/https://evil.test/x")
    assert_error(
        r, 400, "invalid_request", "Invalid request URL: Path must not contain an absolute URL"
    )
