"""Machine-token scenarios for the differential test: API keys, M2M and OAuth tokens, opaque
(the Backend API answered by the canned stub both sides call) and JWT (the instance's key),
against every ``acceptsToken`` value (``request.test.ts``'s machine cases, clerk.md §7.1).

A scenario's ``acceptsToken`` goes to ``authenticateRequest`` on the node side and to
``@requires_auth(optional=True, pass_invalid=True, accepts_token=...)`` on IdGuard's, so both
answer the request state whatever it is.
"""

from __future__ import annotations

from typing import Any

from .scenarios import FETCH
from .scenarios import IAT
from .scenarios import USER
from .scenarios import Scenario
from .scenarios import bapi_error
from .scenarios import cookie
from .scenarios import h
from .scenarios import issuer
from .scenarios import prod
from .scenarios import session
from .scenarios import so
from .scenarios import stranger

API_KEY, M2M, OAUTH = "ak_live_3c9cbd62e5", "mt_live_8d1f0a7c2b", "oat_live_0e4b7d1a96"
MACHINE_SECRET = "ak_machine_5a7e1c"
LATER_MS = (IAT + 3600) * 1000
ACCEPTS: dict[str, Any] = {
    "session": "session_token",
    "api_key": "api_key",
    "m2m": "m2m_token",
    "oauth": "oauth_token",
    "any": "any",
    "session+api": ["session_token", "api_key"],
    "api+m2m": ["api_key", "m2m_token"],
}
VERIFY = {
    "api_key": "POST /api_keys/verify",
    "m2m_token": "POST /m2m_tokens/verify",
    "oauth_token": "POST /oauth_applications/access_tokens/verify",
}
REVOKED = (
    "a Backend API answer that calls the machine token revoked or expired is refused "
    "(token-invalid); Clerk's SDK trusts it and signs the request in"
)


def _answers() -> dict[str, dict[str, Any]]:
    """The Backend API's 200 answers for the three opaque tokens (Clerk's JSON)."""
    common = {
        "revoked": False,
        "revocation_reason": None,
        "expired": False,
        "expiration": LATER_MS,
        "created_at": IAT * 1000,
        "updated_at": IAT * 1000,
    }
    return {
        "api_key": {"object": "api_key", "id": "ak_id", "type": "api_key", "name": "ci",
                    "subject": USER, "scopes": ["read", "write"], "claims": {"team": "a"},
                    **common},
        "m2m_token": {"object": "machine_to_machine_token", "id": "mt_id",
                      "subject": "mch_2vYVtestmachine", "scopes": ["mch_other"],
                      "claims": {"env": "ci"}, **common},
        "oauth_token": {"object": "clerk_idp_oauth_access_token", "id": "oat_id",
                        "client_id": "client_2x", "type": "oauth_token", "subject": USER,
                        "scopes": ["profile", "email"], **common},
    }  # fmt: skip


def ok(token_type: str, **changes: Any) -> dict[str, dict[str, Any]]:
    return {VERIFY[token_type]: {"status": 200, "body": {**_answers()[token_type], **changes}}}


def m2m_jwt(by: Any = None, header: dict[str, object] | None = None, **claims: Any) -> str:
    payload = {"iss": "https://clerk.inspired.puma-74.lcl.dev", "sub": "mch_2vYVjwtmachine",
               "iat": IAT, "nbf": IAT - 5, "exp": IAT + 300, "jti": "mt_jwt1",
               "scopes": "mch_a mch_b", "team": "x", **claims}  # fmt: skip
    hdr = {"alg": "RS256", "typ": "JWT", "kid": (by or issuer()).kid, "cat": "cl_B7d4PD333AAA"}
    return (by or issuer()).sign_raw({**hdr, **(header or {})}, payload)


def oauth_jwt(by: Any = None, header: dict[str, object] | None = None, **claims: Any) -> str:
    payload = {"iss": "https://clerk.inspired.puma-74.lcl.dev", "sub": USER, "iat": IAT,
               "nbf": IAT - 5, "exp": IAT + 300, "jti": "oat_jwt1", "client_id": "client_9",
               "scp": ["read"], **claims}  # fmt: skip
    hdr = {"alg": "RS256", "typ": "at+jwt", "kid": (by or issuer()).kid}
    return (by or issuer()).sign_raw({**hdr, **(header or {})}, payload)


def _bearer(token: str) -> tuple[str, str]:
    return ("authorization", f"Bearer {token}")


def _accepted(kind: str, accepts: Any) -> bool:
    return accepts == "any" or kind in ([accepts] if isinstance(accepts, str) else accepts)


def _matrix() -> list[Scenario]:
    tokens = {
        "session": (session(), "session_token", {}),
        "api_key": (API_KEY, "api_key", ok("api_key")),
        "m2m": (M2M, "m2m_token", ok("m2m_token")),
        "oauth": (OAUTH, "oauth_token", ok("oauth_token")),
        "m2m-jwt": (m2m_jwt(), "m2m_token", {}),
        "oauth-jwt": (oauth_jwt(), "oauth_token", {}),
    }
    out = []
    for name, (token, kind, bapi) in tokens.items():
        for label, accepts in ACCEPTS.items():
            expect = ("signed-in", None) if _accepted(kind, accepts) else so("token-type-mismatch")
            if accepts == "session_token" and token.startswith(("ak_", "mt_", "oat_")):
                expect = so("token-invalid")  # not a JWT, on the session path (clerk.md §11.3)
            out.append(
                Scenario(f"machine-{name}-accepts-{label}", expect,
                         prod(acceptsToken=accepts), h(_bearer(token), base=FETCH), bapi=bapi)
            )  # fmt: skip
    return out


def _failures() -> list[Scenario]:
    fetch = FETCH
    out = []
    for kind, token in (("api_key", API_KEY), ("m2m_token", M2M), ("oauth_token", OAUTH)):
        short = kind.split("_")[0]
        out += [
            Scenario(f"machine-{short}-not-found", so("token-invalid"), prod(acceptsToken=kind),
                     h(_bearer(token), base=fetch),
                     bapi={VERIFY[kind]: bapi_error(404, "resource_not_found")}),
            Scenario(f"machine-{short}-bapi-500", so("unexpected-error"), prod(acceptsToken="any"),
                     h(_bearer(token), base=fetch),
                     bapi={VERIFY[kind]: bapi_error(500, "internal_error")}),
            Scenario(f"machine-{short}-bapi-unreachable", so("unexpected-error"),
                     prod(acceptsToken=kind), h(_bearer(token), base=fetch),
                     bapi={VERIFY[kind]: {"network_error": True}}),
            Scenario(f"machine-{short}-secret-key-refused", so("secret-key-invalid"),
                     prod(acceptsToken=kind), h(_bearer(token), base=fetch),
                     bapi={VERIFY[kind]: bapi_error(401, "authentication_invalid")}),
            Scenario(f"machine-{short}-revoked-answer", ("signed-in", None),
                     prod(acceptsToken=kind), h(_bearer(token), base=fetch),
                     bapi=ok(kind, revoked=True), deviation=REVOKED),
            Scenario(f"machine-{short}-no-token-in-header", so("No token in header"),
                     prod(acceptsToken=kind),
                     h(cookie(("__client_uat", str(IAT - 10)), ("__session", session())))),
        ]  # fmt: skip
    return out


def _jwts() -> list[Scenario]:
    fetch = FETCH
    expired_ms = (IAT + 3600) * 1000
    audience = prod(acceptsToken="oauth_token", audience=["https://api.example.com"])
    rows = [
        ("m2m-jwt-expired", m2m_jwt(), "m2m_token", prod(acceptsToken="any"), expired_ms),
        ("oauth-jwt-expired", oauth_jwt(), "oauth_token", prod(acceptsToken="any"), expired_ms),
        ("m2m-jwt-other-instance", m2m_jwt(stranger()), "m2m_token", prod(acceptsToken="any"), 0),
        ("oauth-jwt-other-instance", oauth_jwt(stranger()), "o", prod(acceptsToken="any"), 0),
        ("m2m-jwt-session-category", m2m_jwt(header={"cat": "cl_B7d4PD111AAA"}), "m",
         prod(acceptsToken="m2m_token"), 0),
        ("m2m-jwt-typ-at-jwt", m2m_jwt(header={"typ": "at+jwt"}), "m",
         prod(acceptsToken="m2m_token"), 0),
        ("oauth-jwt-rs512-key-mismatch", oauth_jwt(header={"alg": "RS512"}), "o",
         prod(acceptsToken="oauth_token"), 0),
        ("oauth-jwt-audience-ok", oauth_jwt(aud="https://api.example.com"), "o", audience, 0),
        ("oauth-jwt-audience-mismatch", oauth_jwt(aud="https://other.example"), "o", audience, 0),
        ("oauth-jwt-audience-missing", oauth_jwt(), "o", audience, 0),
        ("m2m-jwt-no-sub-string", m2m_jwt(sub="mch_x", iat="soon"), "m",
         prod(acceptsToken="m2m_token"), 0),
    ]  # fmt: skip
    out = []
    for name, token, _kind, options, now_ms in rows:
        if name.startswith("m2m-jwt-session") or name.startswith("m2m-jwt-typ"):
            expect = so("token-invalid" if "category" in name else "token-verification-failed")
        elif name == "oauth-jwt-audience-ok":
            expect = ("signed-in", None)
        else:
            expect = so("token-verification-failed")
        kw: dict[str, Any] = {"now_ms": now_ms} if now_ms else {}
        headers = h(_bearer(token), base=fetch)
        out.append(Scenario(f"machine-{name}", expect, options, headers, **kw))
    return out


def _more() -> list[Scenario]:
    fetch = FETCH
    return [
        Scenario("machine-m2m-machine-secret-key", ("signed-in", None),
                 prod(acceptsToken="m2m_token", machineSecretKey=MACHINE_SECRET),
                 h(_bearer(M2M), base=fetch), bapi=ok("m2m_token")),
        Scenario("machine-api-key-with-machine-secret-key", ("signed-in", None),
                 prod(acceptsToken="api_key", machineSecretKey=MACHINE_SECRET),
                 h(_bearer(API_KEY), base=fetch), bapi=ok("api_key")),
        Scenario("machine-api-key-org-subject", ("signed-in", None), prod(acceptsToken="any"),
                 h(_bearer(API_KEY), base=fetch), bapi=ok("api_key", subject="org_2abc")),
        Scenario("machine-oauth-opaque-audience-mismatch", so("token-verification-failed"),
                 prod(acceptsToken="oauth_token", audience="https://api.example.com"),
                 h(_bearer(OAUTH), base=fetch),
                 bapi=ok("oauth_token", aud=["https://other.example"])),
        Scenario("machine-oauth-opaque-audience-ok", ("signed-in", None),
                 prod(acceptsToken="oauth_token", audience="https://api.example.com"),
                 h(_bearer(OAUTH), base=fetch),
                 bapi=ok("oauth_token", aud=["https://api.example.com"])),
        Scenario("machine-cookies-only-list-without-session", so("token-type-mismatch"),
                 prod(acceptsToken=["api_key", "m2m_token"]),
                 h(cookie(("__client_uat", str(IAT - 10)), ("__session", session())))),
        Scenario("machine-cookies-only-list-with-session", ("signed-in", None),
                 prod(acceptsToken=["session_token", "api_key"]),
                 h(cookie(("__client_uat", str(IAT - 10)), ("__session", session())))),
        Scenario("machine-unknown-prefixless-token-any", so("token-invalid"),
                 prod(acceptsToken="any"), h(_bearer("not-a-token"), base=fetch)),
        Scenario("machine-session-expired-document-any", ("handshake", _NO_REFRESH),
                 prod(acceptsToken="any"), h(_bearer(session())), now_ms=(IAT + 3600) * 1000),
    ]  # fmt: skip


_NO_REFRESH = "session-token-expired-refresh-non-eligible-no-refresh-cookie"


def machine_scenarios() -> list[Scenario]:
    """Every machine-token scenario."""
    return _matrix() + _failures() + _jwts() + _more()
