"""DPoP through the app: Auth0 api-js's scenario matrix and rows 26–36 of the acceptance matrix.

The scenario table replays every case of auth0-api-js ``dpop-api.scenarios.spec.ts``
(shared/specs/auth0.md Appendix B): ``GET https://api/me``, realm ``api``, proofs ES256 only.
Where we answer differently the row says so (``deviation``): a request without an
``Authorization`` header, or with a scheme that is neither Bearer nor DPoP, gets 401 with
bare challenges (RFC 6750 §3.1, §8.1 item 5 of the spec) where api-js says 400; a
malformed header (``Bearer `` with no token, ``DPoP dpop <token>``) is our 400
``invalid_request`` with a description (acceptance row 3); token error descriptions are
our own verification messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from flask_idguard.core.dpop import DEFAULT_ALGORITHMS
from flask_idguard.testing import DPoPKey
from flask_idguard.testing import TestIssuer

from .conftest import AppFactory

ALL_DPOP_ALGS = " ".join(DEFAULT_ALGORITHMS)
URL = "https://api/me"
B = 'Bearer realm="api"'
D = 'DPoP algs="ES256"'
MALFORMED = "Malformed Authorization header: expected 'Bearer <token>'."
BOUND_AS_BEARER = "DPoP-bound token requires the DPoP authentication scheme, not Bearer"
PROOF_WITH_BEARER = "DPoP proof requires the DPoP authentication scheme, not Bearer"
NO_JKT = "JWT Access Token has no jkt confirmation claim"
BAD_SIGNATURE = "JWT signature is invalid."
NOT_A_JWT = "Invalid JWT form. A JWT consists of three parts separated by dots."
SCHEME_REQUIRED = "This API requires DPoP: send 'Authorization: DPoP <token>' with a DPoP proof."
SCHEME_DISABLED = "The DPoP authentication scheme is not accepted by this API; use Bearer."
PROOF_MISSING = "The DPoP scheme needs a DPoP proof header."


def bearer_err(error: str, description: str) -> str:
    return f'{B}, error="{error}", error_description="{description}"'


def dpop_err(error: str, description: str) -> str:
    return f'DPoP error="{error}", error_description="{description}", algs="ES256"'


@dataclass(frozen=True)
class Scenario:
    id: str
    mode: str
    scheme: str  # bearer, dpop, none, or a literal scheme word
    token: str  # valid-bearer-token, valid-dpop-token, invalid-token, malformed-token, empty
    proof: str  # valid-proof, invalid-proof, none
    status: int
    body: tuple[str, str] | None = None
    challenges: tuple[str, ...] = ()
    deviation: str = ""


def _bare(mode: str) -> tuple[str, ...]:
    return {"allowed": (B, D), "required": (D,), "disabled": (B,)}[mode]


def _unauthenticated(n: int, mode: str, name: str, scheme: str, token: str, proof: str) -> Scenario:
    return Scenario(
        f"{n:02d}-{mode}-{name}-401-bare",
        mode,
        scheme,
        token,
        proof,
        401,
        None,
        _bare(mode),
        "api-js: 400 invalid_request; no usable credentials is 401 here (RFC 6750 §3.1)",
    )


def _malformed(n: int, mode: str, name: str, scheme: str, proof: str = "none") -> Scenario:
    target = f'{B}, error="invalid_request", error_description="{MALFORMED}"'
    challenges = {
        "allowed": (target, D),
        "required": (dpop_err("invalid_request", MALFORMED),),
        "disabled": (target,),
    }[mode]
    token = "empty" if scheme == "bearer" else "valid-dpop-token"
    return Scenario(
        f"{n:02d}-{mode}-{name}-400-malformed-header",
        mode,
        scheme,
        token,
        proof,
        400,
        ("invalid_request", MALFORMED),
        challenges,
        "api-js: no error attributes (and 401 for a blank Bearer token); a malformed header is "
        "400 invalid_request with a description here (acceptance row 3)",
    )


A, R, X = "allowed", "required", "disabled"
BND, UNB, INV, MAL = "valid-dpop-token", "valid-bearer-token", "invalid-token", "malformed-token"
VP, IP, NP = "valid-proof", "invalid-proof", "none"
SCENARIOS = [
    Scenario("01-allowed-bearer-bound-token-with-proof-401-bound-as-bearer", A, "bearer", BND, VP,
             401, ("invalid_token", BOUND_AS_BEARER),
             (bearer_err("invalid_token", BOUND_AS_BEARER), D)),
    _malformed(2, A, "bearer-blank-token-with-proof", "bearer", VP),
    Scenario("03-allowed-bearer-invalid-signature-401-on-bearer", A, "bearer", INV, NP,
             401, ("invalid_token", BAD_SIGNATURE),
             (bearer_err("invalid_token", BAD_SIGNATURE), D)),
    Scenario("04-allowed-bearer-bound-token-no-proof-401-bound-as-bearer", A, "bearer", BND, NP,
             401, ("invalid_token", BOUND_AS_BEARER),
             (bearer_err("invalid_token", BOUND_AS_BEARER), D)),
    Scenario("05-allowed-bearer-unbound-token-200", A, "bearer", UNB, NP, 200),
    Scenario("06-allowed-bearer-malformed-token-401-on-bearer", A, "bearer", MAL, NP,
             401, ("invalid_token", NOT_A_JWT), (bearer_err("invalid_token", NOT_A_JWT), D)),
    Scenario("07-allowed-bearer-unbound-token-with-proof-400-proof-needs-dpop-scheme", A,
             "bearer", UNB, VP, 400, ("invalid_request", PROOF_WITH_BEARER),
             (bearer_err("invalid_request", PROOF_WITH_BEARER), D)),
    Scenario("08-allowed-dpop-bound-token-no-proof-400-bare", A, "dpop", BND, NP,
             400, ("invalid_request", PROOF_MISSING), (B, D)),
    Scenario("09-allowed-dpop-unbound-token-401-no-jkt-on-dpop", A, "dpop", UNB, VP,
             401, ("invalid_token", NO_JKT), (B, dpop_err("invalid_token", NO_JKT))),
    Scenario("10-allowed-dpop-invalid-signature-401-on-dpop", A, "dpop", INV, VP,
             401, ("invalid_token", BAD_SIGNATURE), (B, dpop_err("invalid_token", BAD_SIGNATURE))),
    _unauthenticated(11, A, "no-authorization-header", "none", "empty", NP),
    _unauthenticated(12, A, "unsupported-scheme", "foo", BND, NP),
    _malformed(13, A, "dpop-dpop-scheme", "DPoP dpop"),
    _unauthenticated(14, A, "random-scheme-with-proof", "some_random_scheme", BND, VP),
    Scenario("15-required-bearer-bound-token-with-proof-400-bare", R, "bearer", BND, VP,
             400, ("invalid_request", SCHEME_REQUIRED), (D,)),
    _malformed(16, R, "bearer-blank-token-with-proof", "bearer", VP),
    Scenario("17-required-bearer-bound-token-no-proof-400-bare", R, "bearer", BND, NP,
             400, ("invalid_request", SCHEME_REQUIRED), (D,)),
    Scenario("18-required-bearer-unbound-token-400-bare", R, "bearer", UNB, NP,
             400, ("invalid_request", SCHEME_REQUIRED), (D,)),
    Scenario("19-required-dpop-bound-token-no-proof-400-bare", R, "dpop", BND, NP,
             400, ("invalid_request", PROOF_MISSING), (D,)),
    Scenario("20-required-dpop-invalid-signature-401-on-dpop", R, "dpop", INV, VP,
             401, ("invalid_token", BAD_SIGNATURE), (dpop_err("invalid_token", BAD_SIGNATURE),)),
    Scenario("21-required-dpop-malformed-token-401-on-dpop", R, "dpop", MAL, VP,
             401, ("invalid_token", NOT_A_JWT), (dpop_err("invalid_token", NOT_A_JWT),)),
    Scenario("22-required-dpop-unbound-token-401-no-jkt", R, "dpop", UNB, VP,
             401, ("invalid_token", NO_JKT), (dpop_err("invalid_token", NO_JKT),)),
    Scenario("23-required-dpop-proof-with-wrong-ath-400-invalid-dpop-proof", R, "dpop", BND, IP,
             400, ("invalid_dpop_proof", 'DPoP proof "ath" mismatch'),
             (dpop_err("invalid_dpop_proof", "DPoP proof 'ath' mismatch"),)),
    _unauthenticated(24, R, "random-scheme-with-proof", "random_string", BND, VP),
    _unauthenticated(25, R, "proof-without-authorization-header", "none", "empty", VP),
    Scenario("26-required-dpop-bound-token-with-proof-200", R, "dpop", BND, VP, 200),
    _unauthenticated(27, R, "unsupported-scheme", "foo", BND, NP),
    _malformed(28, R, "dpop-dpop-scheme", "DPoP dpop"),
    Scenario("29-disabled-bearer-bound-token-with-proof-200-downgrade", X, "bearer", BND, VP, 200),
    _malformed(30, X, "bearer-blank-token-with-proof", "bearer", VP),
    Scenario("31-disabled-bearer-invalid-signature-401", X, "bearer", INV, NP,
             401, ("invalid_token", BAD_SIGNATURE), (bearer_err("invalid_token", BAD_SIGNATURE),)),
    Scenario("32-disabled-bearer-bound-token-no-proof-200-downgrade", X, "bearer", BND, NP, 200),
    Scenario("33-disabled-bearer-unbound-token-200", X, "bearer", UNB, NP, 200),
    Scenario("34-disabled-dpop-scheme-no-proof-400-bare", X, "dpop", BND, NP,
             400, ("invalid_request", SCHEME_DISABLED), (B,)),
    Scenario("35-disabled-dpop-scheme-invalid-token-400-bare", X, "dpop", INV, VP,
             400, ("invalid_request", SCHEME_DISABLED), (B,)),
    Scenario("36-disabled-dpop-scheme-invalid-proof-400-bare", X, "dpop", BND, IP,
             400, ("invalid_request", SCHEME_DISABLED), (B,)),
    _unauthenticated(37, X, "random-scheme-with-proof", "random_string", BND, VP),
    _unauthenticated(38, X, "proof-without-authorization-header", "none", "empty", VP),
    _unauthenticated(39, X, "unsupported-scheme", "foo", BND, NP),
    _malformed(40, X, "dpop-dpop-scheme", "DPoP dpop"),
]  # fmt: skip


def _token(kind: str, issuer: TestIssuer, key: DPoPKey) -> str:
    if kind == "empty":
        return ""
    if kind == "malformed-token":
        return "not-a-jwt"
    if kind == "invalid-token":
        forger = TestIssuer(issuer.issuer, kid=issuer.kid)
        return forger.token(dpop=key)
    return issuer.token(dpop=key if kind == "valid-dpop-token" else None)


def _authorization(scheme: str, token: str) -> str | None:
    if scheme == "none":
        return None
    word = {"bearer": "Bearer", "dpop": "DPoP", "foo": "foo"}.get(scheme, scheme)
    return f"{word} {token}"


def dpop_app(make_app: AppFactory, mode: str, **config: Any) -> Flask:
    return make_app(
        IDGUARD_REALM="api", IDGUARD_DPOP=mode, IDGUARD_DPOP_ALGORITHMS="ES256", **config
    )


@pytest.mark.parametrize("case", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_api_js_dpop_scenario(make_app: AppFactory, issuer: TestIssuer, case: Scenario) -> None:
    key = DPoPKey()
    token = _token(case.token, issuer, key)
    headers: dict[str, str] = {}
    authorization = _authorization(case.scheme, token)
    if authorization is not None:
        headers["Authorization"] = authorization
    if case.proof != "none":
        bad_ath = {"ath": "bad-ath"} if case.proof == "invalid-proof" else {}
        headers["DPoP"] = key.proof("GET", URL, token=token, **bad_ath)  # type: ignore[arg-type]
    r = (
        dpop_app(make_app, case.mode)
        .test_client()
        .get("/me", base_url="https://api", headers=headers)
    )
    assert r.status_code == case.status
    if case.status == 200:
        assert r.json is not None and r.json["status"] == "signed-in"
        return
    expected_body = (
        {"error": case.body[0], "error_description": case.body[1]} if case.body else None
    )
    assert (r.json if r.data else None) == expected_body
    assert tuple(r.headers.getlist("WWW-Authenticate")) == case.challenges
    assert r.headers["Cache-Control"] == "no-store"


def test_scenario_table_covers_every_api_js_case() -> None:
    assert len(SCENARIOS) == 40
    assert [s.id[:2] for s in SCENARIOS] == [f"{n:02d}" for n in range(1, 41)]
    assert {s.mode for s in SCENARIOS} == {"allowed", "required", "disabled"}
