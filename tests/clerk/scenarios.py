"""Scenarios for the differential test against ``@clerk/backend`` (tests/differential/).

Each :class:`Scenario` is one request plus the Clerk options it runs under. The same scenario goes
through ``authenticateRequest`` of ``@clerk/backend`` 3.25.0 (node) and through IdGuard; the test
compares the two. ``expect`` is what the spec (``clerk.md``, §11 overriding) says Clerk answers:
it checks the node harness itself, so that a harness bug is not mistaken for agreement.

Fixtures are Clerk's own unit-test values: the clock frozen at ``IAT``, the FAPI
``clerk.inspired.puma-74.lcl.dev``, ``azp`` of its accounts portal. Tokens are signed by
:class:`~flask_idguard.testing.TestIssuer` and verified through its PEM (``jwtKey``), so nothing
goes to the network except the canned Backend API calls a scenario lists in ``bapi``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from functools import cache
from typing import Any
from urllib.parse import quote

from flask_idguard.testing import TestIssuer

IAT = 1666648250
NOW_MS = IAT * 1000
PK_TEST = "pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA"
PK_LIVE = "pk_live_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA"
SK_TEST = "sk_test_deadbeef"
SK_LIVE = "sk_live_deadbeef"
SFX_TEST = "vWCgMp3A"
SFX_LIVE = "MqCvchyS"
API_URL = "https://api.clerk.test"
FAPI = "clerk.inspired.puma-74.lcl.dev"
AZP = "https://accounts.inspired.puma-74.lcl.dev"
USER = "user_2GIpXOEpVyJw51rkZn9Kmnc6Sxr"
SID = "sess_2GbDB4enNdCa5vS1zpC3Xzg9tK9"
DB = "needstobeset"
URL = "http://example.com/path"
BROWSER: tuple[tuple[str, str], ...] = (
    ("user-agent", "Mozilla/TestAgent"),
    ("sec-fetch-dest", "document"),
)
FETCH: tuple[tuple[str, str], ...] = (
    ("user-agent", "Mozilla/TestAgent"),
    ("sec-fetch-dest", "empty"),
)

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Scenario:
    """One request through both implementations; ``expect`` is the spec's (status, reason)."""

    id: str
    expect: tuple[str, str | None]
    options: dict[str, Any]
    headers: Headers = BROWSER
    url: str = URL
    method: str = "GET"
    now_ms: int = NOW_MS
    bapi: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: A known, documented difference: the comparison is an xfail(strict=True) with this reason.
    deviation: str | None = None

    def node_input(self) -> dict[str, Any]:
        """The JSON ``authenticate.mjs`` reads; a ``Host`` header as a server would see it."""
        headers = [list(h) for h in self.headers]
        if not any(name.lower() == "host" for name, _ in self.headers):
            headers.insert(0, ["host", self.url.split("/")[2]])
        return {
            "id": self.id,
            "now_ms": self.now_ms,
            "method": self.method,
            "url": self.url,
            "headers": headers,
            "options": self.options,
            "bapi": self.bapi,
        }


# -- keys and tokens ---------------------------------------------------------------------------


@cache
def issuer() -> TestIssuer:
    """The instance's signing key (its PEM is ``jwtKey``)."""
    return TestIssuer("https://" + FAPI, audience=None)


@cache
def stranger() -> TestIssuer:
    """Another key: its signatures are invalid for the instance."""
    return TestIssuer("https://" + FAPI, audience=None)


def session(
    by: TestIssuer | None = None,
    *,
    header: dict[str, object] | None = None,
    omit: Iterable[str] = (),
    **claims: object,
) -> str:
    """A Clerk session token (v1 claims) valid at ``IAT``: exp = IAT+60, nbf = IAT-10."""
    payload: dict[str, object] = {
        "iss": "https://" + FAPI,
        "sub": USER,
        "sid": SID,
        "azp": AZP,
        "nbf": IAT - 10,
        "iat": IAT,
        "exp": IAT + 60,
    }
    payload.update(claims)
    return (by or issuer()).token(payload, header=header, omit=omit, now=IAT, expires_in=60)


def handshake_token(directives: object, *, by: TestIssuer | None = None, **header: object) -> str:
    """A handshake JWT: ``{"handshake": directives}`` signed by ``by`` (default: the instance)."""
    signer = by or issuer()
    hdr: dict[str, object] = {"alg": "RS256", "typ": "JWT", "kid": signer.kid}
    hdr.update(header)
    return signer.sign_raw(hdr, {"handshake": directives})


def tampered(token: str) -> str:
    """``token`` with its payload's ``sub`` changed and the old signature kept."""
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "user_attacker"
    raw = json.dumps(claims, separators=(",", ":")).encode()
    return ".".join([head, base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), sig])


def cookie(*pairs: tuple[str, str]) -> tuple[str, str]:
    """A ``Cookie`` header from (name, value) pairs, in order, duplicates allowed."""
    return ("cookie", "; ".join(f"{name}={value}" for name, value in pairs))


def dev(**extra: Any) -> dict[str, Any]:
    """Options of a development instance (networkless: jwtKey)."""
    return {
        "publishableKey": PK_TEST,
        "secretKey": SK_TEST,
        "jwtKey": issuer().public_pem(),
        "apiUrl": API_URL,
        **extra,
    }


def prod(**extra: Any) -> dict[str, Any]:
    """Options of a production instance (networkless: jwtKey)."""
    return {
        "publishableKey": PK_LIVE,
        "secretKey": SK_LIVE,
        "jwtKey": issuer().public_pem(),
        "apiUrl": API_URL,
        **extra,
    }


def h(*extra: tuple[str, str], base: Headers = BROWSER) -> Headers:
    """``base`` headers plus ``extra``; an extra header replaces a base one of the same name."""
    names = {name.lower() for name, _ in extra}
    return tuple(p for p in base if p[0].lower() not in names) + tuple(extra)


def refreshed(sid: str = SID) -> tuple[str, dict[str, Any]]:
    """A canned successful refresh: (BAPI key, answer) with a new session valid at IAT+3600."""
    token = session(iat=IAT + 3590, nbf=IAT + 3580, exp=IAT + 3650, sid=sid)
    body = {"object": "cookies", "cookies": [f"__session={token}; Path=/; Secure; SameSite=Lax"]}
    return f"POST /v1/sessions/{sid}/refresh", {"status": 200, "body": body}


def bapi_error(status: int, code: str) -> dict[str, Any]:
    return {
        "status": status,
        "body": {"errors": [{"code": code, "message": code, "long_message": code}]},
    }


SIGNED_IN = ("signed-in", None)


def si() -> tuple[str, str | None]:
    return SIGNED_IN


def so(reason: str) -> tuple[str, str | None]:
    return ("signed-out", reason)


def hs(reason: str) -> tuple[str, str | None]:
    return ("handshake", reason)


def err(text: str) -> tuple[str, str | None]:
    """Clerk raises; ``text`` is a fragment of the exception message."""
    return ("error", text)


PENDING = (
    "current_auth is Clerk's toAuth() object: a pending session is signed-out 'session-pending' "
    "(Clerk's request state says signed-in; its toAuth() has no userId)"
)
REDIRECT_URL = (
    "hostile input never raises or redirects off-web: IdGuard ignores (and logs) a "
    "__clerk_redirect_url that is not an absolute URL with a host, where Clerk throws (a 500) "
    "or redirects to it"
)
KEY_MATERIAL = (
    "IdGuard refuses tokens naming key material (jku/x5u/x5c/jwk/crit); Clerk ignores them"
)
DEV_SYNC_TARGET = (
    "a development primary sends its dev browser token only to the request's origin and to "
    "configured satellites (domain, authorizedParties): IdGuard ignores (and logs) any other "
    "__clerk_redirect_url, where Clerk redirects to it with the token"
)
HANDSHAKE_REFUSED = (
    "a development instance handed a handshake token that does not verify: Clerk throws (a "
    "500), IdGuard refuses the request with a 400 carrying the same message"
)

EXPIRED = IAT + 3600
EXPIRED_MS = EXPIRED * 1000
NO_REFRESH = "session-token-expired-refresh-non-eligible-no-refresh-cookie"


# -- the table ---------------------------------------------------------------------------------


def _header_path() -> list[Scenario]:
    tok = session()
    bearer = ("authorization", f"Bearer {tok}")
    valid_cookies = cookie(("__client_uat", str(IAT - 10)), ("__session", tok))
    refresh_key, refresh_answer = refreshed()
    return [
        Scenario("header-valid-dev", si(), dev(), h(bearer)),
        Scenario("header-valid-prod-fetch", si(), prod(), h(bearer, base=FETCH)),
        Scenario("header-no-scheme", si(), prod(), h(("authorization", tok))),
        Scenario(
            "header-expired-document-handshake",
            hs(NO_REFRESH),
            prod(),
            h(bearer),
            now_ms=EXPIRED_MS,
        ),
        Scenario(
            "header-expired-dev-document-handshake",
            hs(NO_REFRESH),
            dev(),
            h(bearer, cookie(("__clerk_db_jwt", DB))),
            now_ms=EXPIRED_MS,
        ),
        Scenario(
            "header-expired-fetch", so(NO_REFRESH), prod(), h(bearer, base=FETCH), now_ms=EXPIRED_MS
        ),
        Scenario(
            "header-expired-post",
            so("session-token-expired-refresh-non-eligible-non-get"),
            prod(),
            h(bearer),
            method="POST",
            now_ms=EXPIRED_MS,
        ),
        Scenario(
            "header-expired-refresh-cookie-refreshes",
            si(),
            prod(),
            h(bearer, cookie((f"__refresh_{SFX_LIVE}", "rt_abc"))),
            now_ms=EXPIRED_MS,
            bapi={refresh_key: refresh_answer},
        ),
        Scenario(
            "header-bad-signature",
            so("token-invalid-signature"),
            prod(),
            h(("authorization", f"Bearer {session(stranger())}")),
        ),
        Scenario(
            "header-tampered-payload",
            so("token-invalid-signature"),
            prod(),
            h(("authorization", f"Bearer {tampered(tok)}")),
        ),
        Scenario(
            "header-malformed",
            so("token-invalid"),
            prod(),
            h(("authorization", "Bearer test_header_token")),
        ),
        Scenario(
            "header-undecodable-parts",
            so("token-invalid"),
            prod(),
            h(("authorization", "Bearer a.b.c")),
        ),
        Scenario(
            "header-bearer-alone", so("token-invalid"), prod(), h(("authorization", "Bearer"))
        ),
        Scenario(
            "header-bearer-two-spaces",
            so("token-invalid"),
            prod(),
            h(("authorization", f"Bearer  {tok}")),
        ),
        Scenario(
            "header-basic-scheme-falls-to-cookies",
            si(),
            prod(),
            h(("authorization", "Basic dXNlcjpwYXNz"), valid_cookies),
        ),
        Scenario(
            "header-lowercase-bearer-ignored",
            so("session-token-and-uat-missing"),
            prod(),
            h(("authorization", f"bearer {tok}")),
        ),
        Scenario(
            "header-opaque-api-key",
            so("token-invalid"),
            prod(),
            h(("authorization", "Bearer ak_live_0123456789abcdef")),
        ),
        Scenario(
            "header-template-cat",
            so("token-type-mismatch"),
            prod(),
            h(
                (
                    "authorization",
                    f"Bearer {session(header={'cat': 'cl_B7d4PD222AAA'}, omit=['sid'])}",
                )
            ),
        ),
        Scenario(
            "header-m2m-sub",
            so("token-type-mismatch"),
            prod(),
            h(("authorization", f"Bearer {session(sub='mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk')}")),
        ),
        Scenario(
            "header-oauth-typ",
            so("token-type-mismatch"),
            prod(),
            h(("authorization", f"Bearer {session(header={'typ': 'at+jwt'})}")),
        ),
        Scenario(
            "header-session-cat-allowed",
            si(),
            prod(),
            h(("authorization", f"Bearer {session(header={'cat': 'cl_B7d4PD111AAA'})}")),
        ),
        Scenario(
            "header-azp-mismatch",
            so("token-invalid-authorized-parties"),
            prod(authorizedParties=["https://whatever.test"]),
            h(bearer),
        ),
        Scenario(
            "header-azp-listed",
            si(),
            prod(authorizedParties=["https://other.test", AZP]),
            h(bearer),
        ),
        Scenario(
            "header-missing-azp-with-authorized-parties",
            so("token-invalid-authorized-parties"),
            prod(authorizedParties=[AZP]),
            h(("authorization", f"Bearer {session(omit=['azp'])}")),
        ),
        Scenario(
            "header-missing-azp-no-parties",
            si(),
            prod(),
            h(("authorization", f"Bearer {session(omit=['azp'])}")),
        ),
        Scenario(
            "header-missing-sub",
            so("token-verification-failed"),
            prod(),
            h(("authorization", f"Bearer {session(omit=['sub'])}")),
        ),
        Scenario(
            "header-audience-mismatch",
            so("token-verification-failed"),
            prod(audience=["https://api.example"]),
            h(("authorization", f"Bearer {session(aud='https://other.example')}")),
        ),
        Scenario(
            "header-audience-absent-in-token",
            si(),
            prod(audience=["https://api.example"]),
            h(bearer),
        ),
        Scenario(
            "header-hs256-confusion",
            so("token-invalid-algorithm"),
            prod(),
            h(("authorization", f"Bearer {issuer().hs256_with_public_key(_claims())}")),
        ),
        Scenario(
            "header-typ-jose",
            so("token-invalid"),
            prod(),
            h(("authorization", f"Bearer {session(header={'typ': 'JOSE'})}")),
        ),
        Scenario(
            "header-nbf-future",
            hs("session-token-nbf"),
            prod(),
            h(("authorization", f"Bearer {session(nbf=IAT + 600, exp=IAT + 900)}")),
        ),
        Scenario(
            "header-iat-future",
            hs("session-token-iat-in-the-future"),
            prod(),
            h(("authorization", f"Bearer {session(iat=IAT + 600, nbf=IAT - 10, exp=IAT + 900)}")),
        ),
        Scenario(
            "header-invalid-beats-valid-cookie",
            so("token-invalid-signature"),
            prod(),
            h(("authorization", f"Bearer {session(stranger())}"), valid_cookies),
        ),
        Scenario(
            "header-skips-handshake-params",
            si(),
            prod(),
            h(bearer),
            url=URL + "?__clerk_handshake=garbage",
        ),
        Scenario(
            "header-v2-org-claims",
            si(),
            prod(),
            h(("authorization", f"Bearer {_v2_token()}")),
        ),
    ]


def _claims() -> dict[str, object]:
    return {
        "iss": "https://" + FAPI,
        "sub": USER,
        "sid": SID,
        "azp": AZP,
        "iat": IAT,
        "exp": IAT + 60,
    }


def _v2_token() -> str:
    return session(
        v=2,
        o={"id": "org_123", "rol": "admin", "slg": "acme", "per": "read,manage", "fpm": "3"},
        fea="o:billing,u:dashboard",
        pla="u:free",
    )


def _prod_cookie_path() -> list[Scenario]:
    tok = session()
    uat = ("__client_uat", str(IAT - 10))
    ok = cookie(uat, ("__session", tok))
    refresh_key, refresh_answer = refreshed()
    other_app = session(iss="https://clerk.other-app.example.com")
    return [
        Scenario("prod-no-cookies", so("session-token-and-uat-missing"), prod()),
        Scenario(
            "prod-uat-without-session",
            hs("client-uat-but-no-session-token"),
            prod(),
            h(cookie(("__client_uat", "12345"))),
        ),
        Scenario(
            "prod-uat-zero-no-session",
            so("session-token-and-uat-missing"),
            prod(),
            h(cookie(("__client_uat", "0"))),
        ),
        Scenario(
            "prod-session-without-uat",
            hs("session-token-but-no-client-uat"),
            prod(),
            h(cookie(("__session", tok))),
        ),
        Scenario(
            "prod-iat-before-uat",
            hs("session-token-iat-before-client-uat"),
            prod(),
            h(cookie(("__client_uat", str(IAT + 10)), ("__session", tok))),
        ),
        Scenario(
            "prod-iat-before-uat-forged-token",
            hs("session-token-iat-before-client-uat"),
            prod(),
            h(cookie(("__client_uat", str(IAT + 10)), ("__session", session(stranger())))),
        ),
        Scenario(
            "prod-iat-equals-uat",
            si(),
            prod(),
            h(cookie(("__client_uat", str(IAT)), ("__session", tok))),
        ),
        Scenario("prod-valid", si(), prod(), h(ok)),
        Scenario("prod-valid-fetch", si(), prod(), h(ok, base=FETCH)),
        Scenario(
            "prod-valid-cloudfront-agent",
            si(),
            prod(),
            h(
                ("user-agent", "Amazon CloudFront"),
                cookie(("__client_uat", "12345"), ("__session", tok)),
            ),
        ),
        Scenario("prod-expired-no-refresh", hs(NO_REFRESH), prod(), h(ok), now_ms=EXPIRED_MS),
        Scenario(
            "prod-expired-refresh-success",
            si(),
            prod(),
            h(cookie(uat, ("__session", tok), (f"__refresh_{SFX_LIVE}", "rt_abc"))),
            now_ms=EXPIRED_MS,
            bapi={refresh_key: refresh_answer},
        ),
        Scenario(
            "prod-expired-refresh-bapi-not-found",
            hs("session-token-expired-refresh-resource_not_found"),
            prod(),
            h(cookie(uat, ("__session", tok), (f"__refresh_{SFX_LIVE}", "rt_abc"))),
            now_ms=EXPIRED_MS,
            bapi={refresh_key: bapi_error(404, "resource_not_found")},
        ),
        Scenario(
            "prod-expired-refresh-bapi-unexpected-error",
            hs("session-token-expired-refresh-fetch-error"),
            prod(),
            h(cookie(uat, ("__session", tok), (f"__refresh_{SFX_LIVE}", "rt_abc"))),
            now_ms=EXPIRED_MS,
            bapi={refresh_key: bapi_error(500, "unexpected_error")},
        ),
        Scenario(
            "prod-expired-refresh-unreachable",
            so("session-token-expired-refresh-fetch-error"),
            prod(),
            h(cookie(uat, ("__session", tok), (f"__refresh_{SFX_LIVE}", "rt_abc")), base=FETCH),
            now_ms=EXPIRED_MS,
            bapi={refresh_key: {"network_error": True}},
        ),
        Scenario(
            "prod-expired-refresh-post-not-eligible",
            so("session-token-expired-refresh-non-eligible-non-get"),
            prod(),
            h(cookie(uat, ("__session", tok), (f"__refresh_{SFX_LIVE}", "rt_abc"))),
            method="POST",
            now_ms=EXPIRED_MS,
        ),
        Scenario(
            "prod-expired-refresh-missing-sid",
            hs("session-token-expired-refresh-expired-session-token-missing-sid-claim"),
            prod(),
            h(cookie(uat, ("__session", session(omit=["sid"])), (f"__refresh_{SFX_LIVE}", "rt"))),
            now_ms=EXPIRED_MS,
        ),
        Scenario(
            "prod-expired-unsuffixed-refresh-ignored",
            hs(NO_REFRESH),
            prod(),
            h(cookie(uat, ("__session", tok), ("__refresh", "rt_abc"))),
            now_ms=EXPIRED_MS,
        ),
        Scenario(
            "prod-expired-within-skew",
            si(),
            prod(),
            h(ok),
            now_ms=(IAT + 60) * 1000 + 4999,
        ),
        Scenario(
            "prod-expired-at-skew",
            hs(NO_REFRESH),
            prod(),
            h(ok),
            now_ms=(IAT + 60) * 1000 + 5000,
        ),
        Scenario(
            "prod-skew-zero-expired-at-exp",
            hs(NO_REFRESH),
            prod(clockSkewInMs=0),
            h(ok),
            now_ms=(IAT + 60) * 1000,
        ),
        Scenario(
            "prod-nbf-future",
            hs("session-token-nbf"),
            prod(),
            h(cookie(uat, ("__session", session(nbf=IAT + 600, exp=IAT + 900)))),
        ),
        Scenario(
            "prod-bad-signature",
            so("token-invalid-signature"),
            prod(),
            h(cookie(uat, ("__session", session(stranger())))),
        ),
        Scenario(
            "prod-malformed-session",
            so("token-invalid"),
            prod(),
            h(cookie(uat, ("__session", "notajwt"))),
        ),
        Scenario(
            "prod-m2m-cookie",
            so("token-type-mismatch"),
            prod(),
            h(cookie(uat, ("__session", session(sub="mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk")))),
        ),
        Scenario(
            "prod-template-cookie",
            so("token-type-mismatch"),
            prod(),
            h(cookie(uat, ("__session", session(header={"cat": "cl_B7d4PD222AAA"})))),
        ),
        Scenario(
            "prod-cookie-missing-azp",
            si(),
            prod(),
            h(cookie(uat, ("__session", session(omit=["azp"])))),
        ),
        Scenario(
            "prod-cookie-azp-mismatch",
            so("token-invalid-authorized-parties"),
            prod(authorizedParties=["https://example.com"]),
            h(ok),
        ),
        Scenario(
            "prod-garbage-uat",
            hs("session-token-but-no-client-uat"),
            prod(),
            h(cookie(("__client_uat", "abc"), ("__session", tok))),
        ),
        Scenario(
            "prod-uat-digit-prefix",
            si(),
            prod(),
            h(cookie(("__client_uat", f"{IAT - 10}xyz"), ("__session", tok))),
        ),
        Scenario(
            "prod-uat-digit-prefix-after-iat",
            hs("session-token-iat-before-client-uat"),
            prod(),
            h(cookie(("__client_uat", f"{IAT + 1}xyz"), ("__session", tok))),
        ),
        Scenario(
            "prod-uat-hex",
            si(),
            prod(),
            h(cookie(("__client_uat", "0x10"), ("__session", tok))),
        ),
        Scenario(
            "prod-uat-negative",
            si(),
            prod(),
            h(cookie(("__client_uat", "-5"), ("__session", tok))),
        ),
        Scenario(
            "prod-encoded-semicolon-no-forgery",
            hs("client-uat-but-no-session-token"),
            prod(),
            h(("cookie", f"__client_uat=1%3B%20__session%3D{tok}")),
        ),
        Scenario(
            "prod-percent-encoded-session",
            si(),
            prod(),
            h(("cookie", f"__client_uat={IAT - 10}; __session={quote(tok, safe='')}")),
        ),
        Scenario(
            "prod-duplicate-session-first-wins-bad",
            so("token-invalid-signature"),
            prod(),
            h(cookie(uat, ("__session", session(stranger())), ("__session", tok))),
        ),
        Scenario(
            "prod-duplicate-session-first-wins-good",
            si(),
            prod(),
            h(cookie(uat, ("__session", tok), ("__session", session(stranger())))),
        ),
        Scenario(
            "prod-suffixed-valid",
            si(),
            prod(),
            h(cookie((f"__client_uat_{SFX_LIVE}", str(IAT - 10)), (f"__session_{SFX_LIVE}", tok))),
        ),
        Scenario(
            "prod-other-app-unsuffixed-own-suffixed",
            si(),
            prod(),
            h(
                cookie(
                    ("__client_uat", str(IAT + 100)),
                    ("__session", other_app),
                    (f"__client_uat_{SFX_LIVE}", str(IAT - 10)),
                    (f"__session_{SFX_LIVE}", tok),
                )
            ),
        ),
        Scenario(
            "prod-other-app-unsuffixed-only",
            hs("client-uat-but-no-session-token"),
            prod(),
            h(cookie(("__session", other_app), (f"__client_uat_{SFX_LIVE}", "12345"))),
        ),
        Scenario(
            "prod-other-app-unsuffixed-nothing-own",
            so("session-token-and-uat-missing"),
            prod(),
            h(cookie(("__client_uat", str(IAT - 10)), ("__session", other_app))),
        ),
        Scenario(
            "prod-unsuffixed-without-iss-wins",
            si(),
            prod(),
            h(
                cookie(
                    ("__client_uat", str(IAT - 10)),
                    ("__session", session(omit=["iss"])),
                    (f"__client_uat_{SFX_LIVE}", "0"),
                )
            ),
        ),
        Scenario(
            "prod-suffixed-uat-zero-unsuffixed-signed-in",
            si(),
            prod(),
            h(
                cookie(
                    (f"__client_uat_{SFX_LIVE}", "0"),
                    ("__client_uat", str(IAT - 10)),
                    ("__session", tok),
                )
            ),
        ),
        Scenario(
            "prod-suffixed-session-without-suffixed-uat",
            si(),
            prod(),
            h(
                cookie(
                    (f"__session_{SFX_LIVE}", tok),
                    ("__client_uat", str(IAT - 10)),
                    ("__session", tok),
                )
            ),
        ),
        Scenario(
            "prod-newer-unsuffixed-session-wins",
            si(),
            prod(),
            h(
                cookie(
                    (f"__client_uat_{SFX_LIVE}", str(IAT - 100)),
                    (f"__session_{SFX_LIVE}", session(stranger(), iat=IAT - 100)),
                    ("__client_uat", str(IAT - 10)),
                    ("__session", tok),
                )
            ),
        ),
        Scenario(
            "prod-pending-session",
            si(),
            prod(),
            h(cookie(uat, ("__session", session(sts="pending")))),
            deviation=PENDING,
        ),
        Scenario("prod-v2-org-claims", si(), prod(), h(cookie(uat, ("__session", _v2_token())))),
        Scenario(
            "prod-v2-malformed-fea",
            so("unexpected-error"),
            prod(),
            h(
                cookie(
                    uat,
                    (
                        "__session",
                        session(v=2, o={"id": "org_1", "rol": "admin", "slg": "a"}, fea="o"),
                    ),
                )
            ),
        ),
        Scenario(
            "prod-v1-org-claims",
            si(),
            prod(),
            h(
                cookie(
                    uat,
                    (
                        "__session",
                        session(
                            org_id="org_123",
                            org_role="org:admin",
                            org_slug="acme",
                            org_permissions=["org:billing:read"],
                        ),
                    ),
                )
            ),
        ),
    ]


def _counter_and_eligibility() -> list[Scenario]:
    uat_only = cookie(("__client_uat", "12345"))

    def with_counter(value: str) -> Headers:
        return h(cookie(("__client_uat", "12345"), ("__clerk_redirect_count", value)))

    reason = "client-uat-but-no-session-token"
    return [
        Scenario("counter-2-handshakes", hs(reason), prod(), with_counter("2")),
        Scenario("counter-3-stops", so(reason), prod(), with_counter("3")),
        Scenario("counter-4-handshakes-again", hs(reason), prod(), with_counter("4")),
        Scenario("counter-garbage-is-zero", hs(reason), prod(), with_counter("abc")),
        Scenario("counter-hex-3-stops", so(reason), prod(), with_counter("0x3")),
        Scenario("counter-3.0-stops", so(reason), prod(), with_counter("3.0")),
        Scenario("counter-spaces-3-stops", so(reason), prod(), with_counter("%203%20")),
        Scenario("counter-binary-3-stops", so(reason), prod(), with_counter("0b11")),
        Scenario("counter-exponent", hs(reason), prod(), with_counter("1e0")),
        Scenario("counter-negative", hs(reason), prod(), with_counter("-1")),
        Scenario("counter-infinity", hs(reason), prod(), with_counter("Infinity")),
        Scenario("counter-fraction", hs(reason), prod(), with_counter("2.5")),
        Scenario("counter-empty", hs(reason), prod(), with_counter("")),
        Scenario(
            "eligible-accept-html-no-dest",
            hs(reason),
            prod(),
            (("accept", "text/html,application/xhtml+xml"), uat_only),
        ),
        Scenario(
            "ineligible-accept-html-uppercase",
            so(reason),
            prod(),
            (("accept", "TEXT/HTML"), uat_only),
        ),
        Scenario(
            "ineligible-accept-html-not-first",
            so(reason),
            prod(),
            (("accept", "*/*, text/html"), uat_only),
        ),
        Scenario(
            "eligible-empty-dest-accept-html",
            hs(reason),
            prod(),
            (("sec-fetch-dest", ""), ("accept", "text/html"), uat_only),
        ),
        Scenario("eligible-iframe", hs(reason), prod(), h(("sec-fetch-dest", "iframe"), uat_only)),
        Scenario("ineligible-frame", so(reason), prod(), h(("sec-fetch-dest", "frame"), uat_only)),
        Scenario(
            "ineligible-empty-dest-with-html-accept",
            so(reason),
            prod(),
            h(("sec-fetch-dest", "empty"), ("accept", "text/html"), uat_only),
        ),
        Scenario("ineligible-post-document", so(reason), prod(), h(uat_only), method="POST"),
        Scenario("ineligible-head-document", so(reason), prod(), h(uat_only), method="HEAD"),
        Scenario("ineligible-no-hints", so(reason), prod(), (uat_only,)),
    ]


def _dev_cookie_path() -> list[Scenario]:
    tok = session()
    db = ("__clerk_db_jwt", DB)
    uat = ("__client_uat", str(IAT - 10))
    return [
        Scenario("dev-no-cookies", hs("dev-browser-missing"), dev()),
        Scenario("dev-no-cookies-fetch", so("dev-browser-missing"), dev(), FETCH),
        Scenario(
            "dev-session-without-db",
            hs("dev-browser-missing"),
            dev(),
            h(cookie(uat, ("__session", tok))),
        ),
        Scenario(
            "dev-db-session-no-uat",
            hs("session-token-but-no-client-uat"),
            dev(),
            h(cookie(db, ("__session", tok))),
        ),
        Scenario("dev-db-only", so("session-token-and-uat-missing"), dev(), h(cookie(db))),
        Scenario("dev-valid", si(), dev(), h(cookie(db, uat, ("__session", tok)))),
        Scenario(
            "dev-suffixed-db-cookie",
            si(),
            dev(),
            h(
                cookie(
                    (f"__clerk_db_jwt_{SFX_TEST}", "dvb_suffixed"),
                    (f"__client_uat_{SFX_TEST}", str(IAT - 10)),
                    (f"__session_{SFX_TEST}", tok),
                )
            ),
        ),
        Scenario(
            "dev-suffixed-mode-ignores-unsuffixed-db",
            hs("dev-browser-missing"),
            dev(),
            h(
                cookie(
                    ("__clerk_db_jwt", DB),
                    (f"__client_uat_{SFX_TEST}", str(IAT - 10)),
                    (f"__session_{SFX_TEST}", tok),
                )
            ),
        ),
        Scenario(
            "dev-valid-query-db-sync",
            hs("dev-browser-sync"),
            dev(),
            h(cookie(db, uat, ("__session", tok))),
            url=URL + "?__clerk_db_jwt=dvb_from_query&keep=1",
        ),
        Scenario(
            "dev-empty-query-db-still-syncs",
            hs("dev-browser-sync"),
            dev(),
            h(cookie(db, uat, ("__session", tok))),
            url=URL + "?__clerk_db_jwt=",
        ),
        Scenario(
            "dev-dev-session-param-stripped",
            hs("dev-browser-missing"),
            dev(),
            url=URL + "?__dev_session=legacy&foo=bar%20baz&flag",
        ),
        Scenario(
            "dev-primary-responds-to-syncing",
            hs("primary-responds-to-syncing"),
            dev(),
            h(cookie(db, ("__client_uat", "12345"), ("__session", tok))),
            url=URL + "?__clerk_redirect_url=http://localhost:3000",
            deviation=DEV_SYNC_TARGET,
        ),
        Scenario(
            "dev-primary-responds-before-db-sync",
            hs("primary-responds-to-syncing"),
            dev(),
            url=URL
            + "?__clerk_redirect_url="
            + quote("http://localhost:3001/dashboard?__clerk_synced=false&x=1", safe="")
            + "&__clerk_db_jwt=dvb_q",
            deviation=DEV_SYNC_TARGET,
        ),
        Scenario(
            "dev-primary-responds-fetch",
            so("primary-responds-to-syncing"),
            dev(),
            h(cookie(db), base=FETCH),
            url=URL + "?__clerk_redirect_url=http://localhost:3000",
            deviation=DEV_SYNC_TARGET,
        ),
        Scenario(
            "dev-primary-responds-to-authorized-party",
            hs("primary-responds-to-syncing"),
            dev(authorizedParties=["http://localhost:3000"]),
            h(cookie(db, ("__client_uat", "12345"), ("__session", tok))),
            url=URL + "?__clerk_redirect_url=http://localhost:3000/app",
        ),
        Scenario(
            "dev-primary-responds-to-domain",
            hs("primary-responds-to-syncing"),
            dev(domain="localhost:3001"),
            url=URL
            + "?__clerk_redirect_url="
            + quote("http://localhost:3001/dashboard?__clerk_synced=false&x=1", safe="")
            + "&__clerk_db_jwt=dvb_q",
        ),
        Scenario(
            "dev-primary-responds-same-origin",
            hs("primary-responds-to-syncing"),
            dev(),
            h(cookie(db)),
            url=URL + "?__clerk_redirect_url=" + quote("http://example.com/other?a=1", safe=""),
        ),
        Scenario(
            "dev-primary-responds-other-origin-ignored",
            hs("primary-responds-to-syncing"),
            dev(authorizedParties=["http://localhost:3000"]),
            h(cookie(db, ("__client_uat", "12345"), ("__session", tok))),
            url=URL + "?__clerk_redirect_url=https://evil.test/",
            deviation=DEV_SYNC_TARGET,
        ),
        Scenario(
            "dev-primary-responds-unparsable-url",
            err("Invalid URL"),
            dev(),
            h(cookie(db)),
            url=URL + "?__clerk_redirect_url=not-a-url",
            deviation=REDIRECT_URL,
        ),
        Scenario(
            "dev-iat-before-uat",
            hs("session-token-iat-before-client-uat"),
            dev(),
            h(cookie(db, ("__client_uat", str(IAT + 10)), ("__session", tok))),
        ),
        Scenario(
            "dev-expired",
            hs(NO_REFRESH),
            dev(),
            h(cookie(db, uat, ("__session", tok))),
            now_ms=EXPIRED_MS,
        ),
        Scenario(
            "dev-suffixed-expired-unsuffixed-signed-out",
            hs("dev-browser-missing"),
            dev(),
            h(
                cookie(
                    (f"__client_uat_{SFX_TEST}", str(IAT - 100)),
                    (f"__session_{SFX_TEST}", session(iat=IAT - 100, nbf=IAT - 110, exp=IAT - 40)),
                    ("__client_uat", "0"),
                )
            ),
        ),
    ]


def _satellite() -> list[Scenario]:
    sat_iss = "https://clerk.satellite.dev"
    sat_prod = prod(isSatellite=True, domain="satellite.dev")
    sat_dev = dev(isSatellite=True, domain="satellite.dev", signInUrl="https://primary.dev/sign-in")
    tok = session(iss=sat_iss)
    return [
        Scenario("sat-prod-no-cookies", so("session-token-and-uat-missing"), sat_prod),
        Scenario(
            "sat-prod-no-cookies-autosync",
            hs("satellite-needs-syncing"),
            {**sat_prod, "satelliteAutoSync": True},
        ),
        Scenario(
            "sat-prod-synced-false",
            hs("satellite-needs-syncing"),
            sat_prod,
            url=URL + "?__clerk_synced=false",
        ),
        Scenario(
            "sat-prod-synced-false-with-valid-cookies",
            hs("satellite-needs-syncing"),
            sat_prod,
            h(cookie(("__client_uat", str(IAT - 10)), ("__session", tok))),
            url=URL + "?__clerk_synced=false",
        ),
        Scenario(
            "sat-prod-synced-true-autosync",
            so("session-token-and-uat-missing"),
            {**sat_prod, "satelliteAutoSync": True},
            url=URL + "?__clerk_synced=true",
        ),
        Scenario(
            "sat-prod-loop-stops",
            so("satellite-needs-syncing"),
            sat_prod,
            h(cookie(("__clerk_redirect_count", "3"))),
            url=URL + "?__clerk_synced=false",
        ),
        Scenario(
            "sat-prod-fetch-autosync",
            so("session-token-and-uat-missing"),
            {**sat_prod, "satelliteAutoSync": True},
            FETCH,
        ),
        Scenario(
            "sat-prod-accept-html-only-autosync",
            so("session-token-and-uat-missing"),
            {**sat_prod, "satelliteAutoSync": True},
            (("accept", "text/html"),),
        ),
        Scenario(
            "sat-prod-valid",
            si(),
            sat_prod,
            h(cookie(("__client_uat", str(IAT - 10)), ("__session", tok))),
        ),
        Scenario(
            "sat-prod-primary-issued-cookie",
            so("session-token-and-uat-missing"),
            sat_prod,
            h(cookie(("__client_uat", str(IAT - 10)), ("__session", session()))),
        ),
        Scenario(
            "sat-prod-cross-origin-referer-ignored",
            si(),
            sat_prod,
            h(
                ("referer", "https://elsewhere.example/"),
                cookie(("__client_uat", str(IAT - 10)), ("__session", tok)),
            ),
        ),
        Scenario(
            "sat-prod-proxy",
            hs("satellite-needs-syncing"),
            prod(isSatellite=True, proxyUrl="https://example.com/clerk", satelliteAutoSync=True),
        ),
        Scenario(
            "sat-dev-autosync",
            hs("satellite-needs-syncing"),
            {**sat_dev, "satelliteAutoSync": True},
            h(cookie(("__clerk_db_jwt", DB))),
        ),
        Scenario(
            "sat-dev-no-cookies-no-autosync",
            so("session-token-and-uat-missing"),
            sat_dev,
        ),
        Scenario(
            "sat-dev-synced-false",
            hs("satellite-needs-syncing"),
            sat_dev,
            h(cookie(("__clerk_db_jwt", DB))),
            url=URL + "?__clerk_synced=false",
        ),
        Scenario(
            "sat-dev-returns-with-db",
            hs("dev-browser-sync"),
            sat_dev,
            url=URL + "?__clerk_synced=true&__clerk_db_jwt=dvb_back",
        ),
        Scenario(
            "sat-dev-ignores-redirect-url-param",
            hs("dev-browser-missing"),
            sat_dev,
            h(cookie(("__client_uat", "1"))),
            url=URL + "?__clerk_redirect_url=http://localhost:3000",
        ),
        Scenario(
            "sat-dev-missing-sign-in-url",
            err("Missing signInUrl"),
            dev(isSatellite=True, domain="satellite.dev"),
        ),
        Scenario(
            "sat-missing-domain-and-proxy",
            err("Missing domain and proxyUrl"),
            prod(isSatellite=True),
        ),
        Scenario(
            "sat-sign-in-url-same-origin-as-origin-header",
            err("different origin"),
            {**sat_dev, "signInUrl": "https://primary.dev/sign-in"},
            h(("origin", "https://primary.dev")),
            deviation=(
                "configuration is checked once at init_app, never per request: Clerk compares "
                "signInUrl with each request's Origin header and throws when they match"
            ),
        ),
        Scenario(
            "sat-relative-sign-in-url-with-origin-header",
            err("absolute url"),
            {**sat_dev, "signInUrl": "/sign-in"},
            h(("origin", "https://satellite.dev")),
        ),
    ]


def _cross_origin() -> list[Scenario]:
    tok = session()
    ok = cookie(("__client_uat", "12345"), ("__session", tok))
    url = "https://primary.com/dashboard"
    reason = "primary-domain-cross-origin-sync"

    def ref(referer: str, cookies: tuple[str, str] = ok, base: Headers = BROWSER) -> Headers:
        return h(("referer", referer), cookies, base=base)

    return [
        Scenario(
            "xorigin-satellite-referer",
            hs(reason),
            prod(),
            ref("https://satellite.com/signin"),
            url=url,
        ),
        Scenario("xorigin-same-origin", si(), prod(), ref("https://primary.com/signin"), url=url),
        Scenario(
            "xorigin-post",
            si(),
            prod(),
            ref("https://satellite.com/signin"),
            url=url,
            method="POST",
        ),
        Scenario(
            "xorigin-fetch",
            si(),
            prod(),
            ref("https://satellite.com/signin", base=FETCH),
            url=url,
        ),
        Scenario(
            "xorigin-accept-html-only",
            si(),
            prod(),
            (("referer", "https://satellite.com/"), ("accept", "text/html"), ok),
            url=url,
        ),
        Scenario("xorigin-invalid-referer", si(), prod(), ref("invalid-url-format"), url=url),
        Scenario(
            "xorigin-origin-header-only",
            si(),
            prod(),
            h(("origin", "https://satellite.com"), ok),
            url=url,
        ),
        Scenario("xorigin-fapi-referer", si(), prod(), ref(f"https://{FAPI}/v1/client"), url=url),
        Scenario(
            "xorigin-fapi-host-other-scheme", si(), prod(), ref(f"http://{FAPI}:8080/x"), url=url
        ),
        Scenario("xorigin-derived-accounts", si(), prod(), ref(f"{AZP}/sign-in"), url=url),
        Scenario(
            "xorigin-derived-accounts-http",
            hs(reason),
            prod(),
            ref(AZP.replace("https", "http") + "/"),
            url=url,
        ),
        Scenario(
            "xorigin-unrelated-accounts",
            hs(reason),
            prod(),
            ref("https://accounts.example.com/"),
            url=url,
        ),
        Scenario(
            "xorigin-dev-portal-on-prod",
            hs(reason),
            prod(),
            ref("https://foo-bar-13.accounts.dev/"),
            url=url,
        ),
        Scenario(
            "xorigin-dev-portal-on-dev",
            si(),
            dev(),
            ref(
                "https://foo-bar-13.accounts.dev/",
                cookie(("__clerk_db_jwt", DB), ("__client_uat", "12345"), ("__session", tok)),
            ),
            url=url,
        ),
        Scenario(
            "xorigin-legacy-dev-portal-on-dev",
            si(),
            dev(),
            ref(
                "https://accounts.foo-bar-13.lcl.dev/",
                cookie(("__clerk_db_jwt", DB), ("__client_uat", "12345"), ("__session", tok)),
            ),
            url=url,
        ),
        Scenario(
            "xorigin-counter-1",
            si(),
            prod(),
            h(
                ("referer", "https://satellite.com/"),
                cookie(
                    ("__client_uat", "12345"), ("__session", tok), ("__clerk_redirect_count", "1")
                ),
            ),
            url=url,
        ),
        Scenario("xorigin-subdomain", hs(reason), prod(), ref("https://www.primary.com/"), url=url),
        Scenario("xorigin-scheme-change", hs(reason), prod(), ref("http://primary.com/"), url=url),
        Scenario(
            "xorigin-proxy-host-known",
            si(),
            prod(proxyUrl="https://proxy.primary.com/__clerk"),
            ref("https://proxy.primary.com/__clerk/v1/x"),
            url=url,
        ),
    ]


def _handshake_resolution() -> list[Scenario]:
    tok = session()
    directives = [f"__session={tok}; path=/", "foo=bar; path=/; domain=example.com"]
    good = handshake_token(directives)
    nonce_key = "GET /v1/clients/handshake_payload?nonce=nonce_abc"
    expired_inner = session(iat=IAT - 7200, nbf=IAT - 7210, exp=IAT - 7140)
    deleted = ["__session=; Max-Age=0", "__client_uat=0; Max-Age=0"]
    return [
        Scenario(
            "hs-dev-token-query",
            si(),
            dev(),
            h(cookie(("__clerk_db_jwt", DB))),
            url=URL + f"?foo=1&__clerk_handshake={good}&__clerk_help=1",
        ),
        Scenario(
            "hs-dev-keeps-dev-session-param",
            si(),
            dev(),
            url=URL + f"?__dev_session=x&__clerk_handshake={good}&__clerk_db_jwt=dvb&a=b%20c",
        ),
        Scenario("hs-prod-token-cookie", si(), prod(), h(cookie(("__clerk_handshake", good)))),
        Scenario(
            "hs-prod-token-cookie-post",
            si(),
            prod(),
            h(cookie(("__clerk_handshake", good)), base=FETCH),
            method="POST",
        ),
        Scenario(
            "hs-dev-empty-payload",
            so("session-token-missing"),
            dev(),
            url=URL + f"?__clerk_handshake={handshake_token([])}",
        ),
        Scenario(
            "hs-prod-non-list-payload",
            so("session-token-missing"),
            prod(),
            h(cookie(("__clerk_handshake", handshake_token("nope")))),
        ),
        Scenario(
            "hs-dev-session-deleted",
            so("session-token-missing"),
            dev(),
            url=URL + f"?__clerk_handshake={handshake_token(deleted)}",
        ),
        Scenario(
            "hs-dev-bad-signature-raises",
            err("invalid signature"),
            dev(),
            url=URL + f"?__clerk_handshake={handshake_token(directives, by=stranger())}",
            deviation=HANDSHAKE_REFUSED,
        ),
        Scenario(
            "hs-prod-bad-signature-falls-through",
            so("session-token-and-uat-missing"),
            prod(),
            h(cookie(("__clerk_handshake", handshake_token(directives, by=stranger())))),
        ),
        Scenario(
            "hs-prod-bad-signature-falls-through-to-cookies",
            si(),
            prod(),
            h(
                cookie(
                    ("__clerk_handshake", handshake_token(directives, by=stranger())),
                    ("__client_uat", str(IAT - 10)),
                    ("__session", tok),
                )
            ),
        ),
        Scenario(
            "hs-dev-template-cat-raises",
            err("Invalid handshake token category"),
            dev(),
            url=URL + f"?__clerk_handshake={handshake_token(directives, cat='cl_B7d4PD222AAA')}",
            deviation=HANDSHAKE_REFUSED,
        ),
        Scenario(
            "hs-dev-garbage-token-raises",
            err("Handshake token verification failed"),
            dev(),
            url=URL + "?__clerk_handshake=garbage",
            deviation=HANDSHAKE_REFUSED,
        ),
        Scenario(
            "hs-dev-expired-inner-24h-retry",
            si(),
            dev(),
            url=URL
            + f"?__clerk_handshake={handshake_token([f'__session={expired_inner}; path=/'])}",
        ),
        Scenario(
            "hs-prod-expired-inner-falls-through",
            so("session-token-and-uat-missing"),
            prod(),
            h(
                cookie(
                    ("__clerk_handshake", handshake_token([f"__session={expired_inner}; path=/"]))
                )
            ),
        ),
        Scenario(
            "hs-dev-inner-bad-signature-falls-through",
            hs("dev-browser-missing"),
            dev(),
            url=URL
            + f"?__clerk_handshake={handshake_token([f'__session={session(stranger())}; path=/'])}",
        ),
        Scenario(
            "hs-prod-nonce-query",
            si(),
            prod(),
            url=URL + "?__clerk_handshake_nonce=nonce_abc",
            bapi={nonce_key: {"status": 200, "body": {"directives": directives}}},
        ),
        Scenario(
            "hs-dev-nonce-cookie",
            si(),
            dev(),
            h(cookie(("__clerk_handshake_nonce", "nonce_abc"))),
            url=URL + "?x=1",
            bapi={nonce_key: {"status": 200, "body": {"directives": directives}}},
        ),
        Scenario(
            "hs-nonce-bapi-error",
            so("session-token-missing"),
            prod(),
            url=URL + "?__clerk_handshake_nonce=nonce_abc",
            bapi={nonce_key: bapi_error(404, "resource_not_found")},
        ),
        Scenario(
            "hs-nonce-beats-token",
            si(),
            prod(),
            h(cookie(("__clerk_handshake", handshake_token(directives, by=stranger())))),
            url=URL + "?__clerk_handshake_nonce=nonce_abc",
            bapi={nonce_key: {"status": 200, "body": {"directives": directives}}},
        ),
        Scenario(
            "hs-last-session-directive-wins",
            so("session-token-missing"),
            prod(),
            h(
                cookie(
                    (
                        "__clerk_handshake",
                        handshake_token([f"__session={tok}; path=/", "__session_x=; Max-Age=0"]),
                    )
                )
            ),
        ),
    ]


def _forwarded_and_proxy() -> list[Scenario]:
    uat_only = cookie(("__client_uat", "12345"))
    reason = "client-uat-but-no-session-token"
    local = "http://localhost:3000/hello?foo=bar"
    return [
        Scenario(
            "fwd-host-and-proto",
            hs(reason),
            prod(),
            h(("x-forwarded-host", "example.com"), ("x-forwarded-proto", "https"), uat_only),
            url=local,
        ),
        Scenario(
            "fwd-host-with-port",
            hs(reason),
            prod(),
            h(("x-forwarded-host", "example.com:3213"), ("x-forwarded-proto", "https"), uat_only),
            url=local,
        ),
        Scenario(
            "fwd-host-list-first-wins",
            hs(reason),
            prod(),
            h(
                ("x-forwarded-host", "a.example.com, b.example.com"),
                ("x-forwarded-proto", "https,http"),
                uat_only,
            ),
            url=local,
        ),
        Scenario(
            "fwd-proto-only",
            hs(reason),
            prod(),
            h(("x-forwarded-proto", "https"), uat_only),
            url=local,
        ),
        Scenario(
            "fwd-host-header-differs",
            hs(reason),
            prod(),
            h(("host", "example.org"), uat_only),
            url="http://clerk.com/path",
        ),
        Scenario(
            "proxy-absolute",
            hs(reason),
            prod(proxyUrl="https://example.com/clerk"),
            h(uat_only),
        ),
        Scenario(
            "proxy-trailing-slashes",
            hs(reason),
            dev(proxyUrl="https://example.com/clerk///"),
            h(cookie(("__clerk_db_jwt", DB), ("__client_uat", "12345"))),
        ),
        Scenario(
            "proxy-relative-forwarded",
            hs(reason),
            prod(proxyUrl="/__clerk"),
            h(("x-forwarded-host", "myapp.example.com"), ("x-forwarded-proto", "https"), uat_only),
            url="http://localhost:5000/page",
        ),
        Scenario(
            "domain-ignored-non-satellite", hs(reason), prod(domain="example.com"), h(uat_only)
        ),
    ]


def _org_sync() -> list[Scenario]:
    tok = session(org_id="org_123", org_role="org:admin", org_slug="acme", org_permissions=[])
    ok = cookie(("__client_uat", "12345"), ("__session", tok))
    ids = {
        "organizationPatterns": ["/orgs/:id", "/orgs/:id/(.*)"],
        "personalAccountPatterns": ["/me", "/me/(.*)"],
    }
    slugs = {"organizationPatterns": ["/o/:slug"]}
    reason = "active-organization-mismatch"
    return [
        Scenario(
            "org-id-mismatch",
            hs(reason),
            prod(organizationSyncOptions=ids),
            h(ok),
            url="http://example.com/orgs/org_other",
        ),
        Scenario(
            "org-id-match",
            si(),
            prod(organizationSyncOptions=ids),
            h(ok),
            url="http://example.com/orgs/org_123",
        ),
        Scenario(
            "org-id-nested-mismatch",
            hs(reason),
            prod(organizationSyncOptions=ids),
            h(ok),
            url="http://example.com/orgs/org_9/settings/billing",
        ),
        Scenario(
            "org-slug-mismatch",
            hs(reason),
            prod(organizationSyncOptions=slugs),
            h(ok),
            url="http://example.com/o/other-co",
        ),
        Scenario(
            "org-slug-match",
            si(),
            prod(organizationSyncOptions=slugs),
            h(ok),
            url="http://example.com/o/acme",
        ),
        Scenario(
            "org-personal-with-active-org",
            hs(reason),
            prod(organizationSyncOptions=ids),
            h(ok),
            url="http://example.com/me/profile",
        ),
        Scenario(
            "org-personal-without-org",
            si(),
            prod(organizationSyncOptions=ids),
            h(cookie(("__client_uat", "12345"), ("__session", session()))),
            url="http://example.com/me",
        ),
        Scenario(
            "org-mismatch-fetch-signed-in",
            si(),
            prod(organizationSyncOptions=ids),
            h(ok, base=FETCH),
            url="http://example.com/orgs/org_other",
        ),
        Scenario(
            "org-mismatch-counter-3-signed-in",
            si(),
            prod(organizationSyncOptions=ids),
            h(
                cookie(
                    ("__client_uat", "12345"), ("__session", tok), ("__clerk_redirect_count", "3")
                )
            ),
            url="http://example.com/orgs/org_other",
        ),
        Scenario(
            "org-param-on-other-reason",
            hs("client-uat-but-no-session-token"),
            prod(organizationSyncOptions=ids),
            h(cookie(("__client_uat", "12345"))),
            url="http://example.com/orgs/org_x",
        ),
        Scenario(
            "org-pending-skips-sync",
            si(),
            prod(organizationSyncOptions=ids),
            h(
                cookie(
                    ("__client_uat", "12345"),
                    ("__session", session(sts="pending", org_id="org_123")),
                )
            ),
            url="http://example.com/orgs/org_other",
            deviation=PENDING,
        ),
    ]


@cache
def rs384() -> TestIssuer:
    """An RS384 key: Clerk's PEM loader declares every jwtKey RS256."""
    return TestIssuer("https://" + FAPI, audience=None, alg="RS384")


def _urls_and_parsing() -> list[Scenario]:
    tok = session()
    uat_only = cookie(("__client_uat", "12345"))
    reason = "client-uat-but-no-session-token"
    return [
        Scenario(
            "url-query-reserialized",
            hs(reason),
            prod(),
            h(uat_only),
            url=URL + "?a=b%20c&x&y=%2F&z=1+2&e=%7E",
        ),
        Scenario("url-empty-query", hs(reason), prod(), h(uat_only), url=URL + "?"),
        Scenario(
            "url-encoded-path",
            hs(reason),
            prod(),
            h(uat_only),
            url="http://example.com/caf%C3%A9/a%20b",
        ),
        Scenario(
            "url-encoded-slash-in-path",
            hs(reason),
            prod(),
            h(uat_only),
            url="http://example.com/a%2Fb",
        ),
        Scenario("url-root-path", hs(reason), prod(), h(uat_only), url="http://example.com/"),
        Scenario(
            "url-uppercase-host-header", hs(reason), prod(), h(("host", "Example.COM"), uat_only)
        ),
        Scenario(
            "url-default-port-host-header",
            hs(reason),
            prod(),
            h(("host", "example.com:80"), uat_only),
        ),
        Scenario(
            "url-forwarded-proto-uppercase",
            hs(reason),
            prod(),
            h(("x-forwarded-proto", "HTTPS"), uat_only),
        ),
        Scenario(
            "url-forwarded-https-default-port",
            hs(reason),
            prod(),
            h(("x-forwarded-host", "example.com:443"), ("x-forwarded-proto", "https"), uat_only),
        ),
        Scenario(
            "cookie-quoted-uat",
            so("session-token-and-uat-missing"),
            prod(),
            h(("cookie", '__client_uat="12345"')),
        ),
        Scenario(
            "cookie-spaces-around-equals",
            hs(reason),
            prod(),
            h(("cookie", " __client_uat = 12345 ;")),
        ),
        Scenario(
            "cookie-bad-percent-dev-browser",
            hs(reason),
            dev(),
            h(cookie(("__clerk_db_jwt", "%ZZabc"), ("__client_uat", "12345"))),
        ),
        Scenario(
            "cookie-encoded-dev-browser",
            hs(reason),
            dev(),
            h(cookie(("__clerk_db_jwt", "a%20b%3Bc"), ("__client_uat", "12345"))),
        ),
        Scenario(
            "cookie-no-equals-pair-ignored",
            hs(reason),
            prod(),
            h(("cookie", "junk; __client_uat=12345; =novalue")),
        ),
        Scenario(
            "cookie-whitespace-uat",
            hs(reason),
            prod(),
            h(("cookie", "__client_uat=%20%2012345")),
        ),
        Scenario(
            "header-bearer-extra-piece",
            si(),
            prod(),
            h(("authorization", f"Bearer {tok} trailing")),
        ),
        Scenario(
            "header-empty-authorization",
            so("session-token-and-uat-missing"),
            prod(),
            h(("authorization", "")),
        ),
        Scenario(
            "header-exp-string",
            so("token-verification-failed"),
            prod(),
            h(("authorization", f"Bearer {session(exp=str(IAT + 60))}")),
        ),
        Scenario(
            "header-nbf-string",
            so("token-verification-failed"),
            prod(),
            h(("authorization", f"Bearer {session(nbf='soon')}")),
        ),
        Scenario(
            "header-aud-array-intersects",
            si(),
            prod(audience=["https://b.example"]),
            h(
                (
                    "authorization",
                    f"Bearer {session(aud=['https://a.example', 'https://b.example'])}",
                )
            ),
        ),
        Scenario(
            "header-aud-array-disjoint",
            so("token-verification-failed"),
            prod(audience="https://c.example"),
            h(
                (
                    "authorization",
                    f"Bearer {session(aud=['https://a.example', 'https://b.example'])}",
                )
            ),
        ),
        Scenario(
            "header-alg-none",
            so("token-invalid-algorithm"),
            prod(),
            h(("authorization", f"Bearer {issuer().unsigned(_claims())}")),
        ),
        Scenario(
            "header-rs384-with-pem",
            so("token-verification-failed"),
            prod(jwtKey=rs384().public_pem()),
            h(("authorization", f"Bearer {session(rs384())}")),
        ),
        Scenario(
            "header-jku-ignored-by-clerk",
            si(),
            prod(),
            h(("authorization", f"Bearer {session(header={'jku': 'https://evil.example/jwks'})}")),
            deviation=KEY_MATERIAL,
        ),
        Scenario(
            "header-crit-ignored-by-clerk",
            si(),
            prod(),
            h(("authorization", f"Bearer {session(header={'crit': ['exp'], 'exp': 1})}")),
            deviation=KEY_MATERIAL,
        ),
        Scenario(
            "header-sub-not-string",
            so("token-verification-failed"),
            prod(),
            h(("authorization", f"Bearer {session(sub=123)}")),
        ),
    ]


def _more_flows() -> list[Scenario]:
    tok = session()
    uat = ("__client_uat", str(IAT - 10))
    refresh = (f"__refresh_{SFX_LIVE}", "rt_abc")
    refresh_key, refresh_answer = refreshed()
    ids = {"organizationPatterns": ["/orgs/:id", "/app/:any/orgs/:slug"]}
    org_tok = session(org_id="org_123", org_role="org:admin", org_slug="acme")
    org_ok = cookie(("__client_uat", "12345"), ("__session", org_tok))
    primary = "https://primary.com/dashboard"
    return [
        Scenario(
            "refresh-suffixed-cookies",
            si(),
            prod(),
            h(
                cookie(
                    (f"__client_uat_{SFX_LIVE}", str(IAT - 10)),
                    (f"__session_{SFX_LIVE}", tok),
                    refresh,
                )
            ),
            now_ms=EXPIRED_MS,
            bapi={refresh_key + "?suffixed_cookies=true": refresh_answer},
        ),
        Scenario(
            "refresh-returns-invalid-token",
            hs("session-token-expired-refresh-invalid-session-token"),
            prod(),
            h(cookie(uat, ("__session", tok), refresh)),
            now_ms=EXPIRED_MS,
            bapi={
                refresh_key: {
                    "status": 200,
                    "body": {"object": "cookies", "cookies": [f"__session={session(stranger())}"]},
                }
            },
        ),
        Scenario(
            "refresh-returns-no-cookies",
            hs("session-token-expired-refresh-unexpected-sdk-error"),
            prod(),
            h(cookie(uat, ("__session", tok), refresh)),
            now_ms=EXPIRED_MS,
            bapi={refresh_key: {"status": 200, "body": {"object": "cookies", "cookies": []}}},
        ),
        Scenario(
            "refresh-returns-suffixed-session-and-more",
            si(),
            prod(),
            h(cookie(uat, ("__session", tok), refresh)),
            now_ms=EXPIRED_MS,
            bapi={
                refresh_key: {
                    "status": 200,
                    "body": {
                        "object": "cookies",
                        "cookies": [
                            f"__client_uat={IAT + 3590}; Path=/",
                            refresh_answer["body"]["cookies"][0].replace(
                                "__session=", f"__session_{SFX_LIVE}="
                            ),
                        ],
                    },
                }
            },
        ),
        Scenario(
            "refresh-header-token-fails-422",
            hs("session-token-expired-refresh-form_param_invalid"),
            prod(),
            h(("authorization", f"Bearer {tok}"), cookie(refresh)),
            now_ms=EXPIRED_MS,
            bapi={refresh_key: bapi_error(422, "form_param_invalid")},
        ),
        Scenario(
            "hs-directive-value-cut-at-second-equals",
            si(),
            prod(),
            h(cookie(("__clerk_handshake", handshake_token([f"__session={tok}=extra; path=/"])))),
        ),
        Scenario(
            "hs-directive-invalid-session-falls-through",
            so("session-token-and-uat-missing"),
            prod(),
            h(cookie(("__clerk_handshake", handshake_token(["__session=abc=def; path=/"])))),
        ),
        Scenario(
            "hs-directive-leading-space-ignored",
            so("session-token-missing"),
            prod(),
            h(cookie(("__clerk_handshake", handshake_token([f" __session={tok}; path=/"])))),
        ),
        Scenario(
            "hs-directive-without-attributes",
            si(),
            prod(),
            h(cookie(("__clerk_handshake", handshake_token([f"__session_{SFX_LIVE}={tok}"])))),
        ),
        Scenario(
            "hs-dev-forwarded-location",
            si(),
            dev(),
            h(("x-forwarded-host", "app.example.com"), ("x-forwarded-proto", "https")),
            url=f"http://localhost:5000/p?__clerk_handshake={handshake_token([f'__session={tok}'])}",
        ),
        Scenario(
            "hs-dev-inner-azp-mismatch-falls-through",
            hs("dev-browser-missing"),
            dev(authorizedParties=["https://example.com"]),
            url=URL + f"?__clerk_handshake={handshake_token([f'__session={tok}'])}",
        ),
        Scenario(
            "hs-dev-rs512-handshake-with-pem-raises",
            err("Handshake token verification failed"),
            dev(jwtKey=rs384().public_pem()),
            url=URL + f"?__clerk_handshake={handshake_token([], by=rs384(), alg='RS384')}",
            deviation=HANDSHAKE_REFUSED,
        ),
        Scenario(
            "org-dev-mismatch-param-order",
            hs("active-organization-mismatch"),
            dev(organizationSyncOptions=ids),
            h(cookie(("__clerk_db_jwt", DB), ("__client_uat", "12345"), ("__session", org_tok))),
            url="http://example.com/orgs/org_other",
        ),
        Scenario(
            "org-any-segment-slug",
            hs("active-organization-mismatch"),
            prod(organizationSyncOptions=ids),
            h(org_ok),
            url="http://example.com/app/store/orgs/other-co",
        ),
        Scenario(
            "org-trailing-slash",
            hs("active-organization-mismatch"),
            prod(organizationSyncOptions=ids),
            h(org_ok),
            url="http://example.com/orgs/org_other/",
        ),
        Scenario(
            "org-uppercase-path",
            hs("active-organization-mismatch"),
            prod(organizationSyncOptions=ids),
            h(org_ok),
            url="http://example.com/ORGS/org_other",
        ),
        Scenario(
            "org-encoded-segment",
            hs("active-organization-mismatch"),
            prod(organizationSyncOptions=ids),
            h(org_ok),
            url="http://example.com/orgs/org%5Fother",
        ),
        Scenario(
            "org-nested-not-matched",
            si(),
            prod(organizationSyncOptions=ids),
            h(org_ok),
            url="http://example.com/orgs/org_other/settings",
        ),
        Scenario(
            "xorigin-referer-default-port",
            si(),
            prod(),
            h(
                ("referer", "https://primary.com:443/x"),
                cookie(("__client_uat", "12345"), ("__session", tok)),
            ),
            url=primary,
        ),
        Scenario(
            "xorigin-referer-uppercase-host",
            si(),
            prod(),
            h(
                ("referer", "https://PRIMARY.com/x"),
                cookie(("__client_uat", "12345"), ("__session", tok)),
            ),
            url=primary,
        ),
        Scenario(
            "xorigin-forwarded-origin",
            si(),
            prod(),
            h(
                ("x-forwarded-host", "primary.com"),
                ("x-forwarded-proto", "https"),
                ("referer", "https://primary.com/x"),
                cookie(("__client_uat", "12345"), ("__session", tok)),
            ),
            url="http://localhost:5000/dashboard",
        ),
        Scenario(
            "nbf-exactly-skew-ahead",
            si(),
            prod(),
            h(
                cookie(uat, ("__session", session(nbf=IAT + 5, exp=IAT + 60))),
            ),
        ),
        Scenario(
            "iat-just-over-skew-ahead",
            hs("session-token-iat-in-the-future"),
            prod(),
            h(("authorization", f"Bearer {session(iat=IAT + 6, nbf=IAT - 10)}")),
        ),
        Scenario(
            "skew-sixty-seconds",
            si(),
            prod(clockSkewInMs=60000),
            h(cookie(uat, ("__session", tok))),
            now_ms=(IAT + 110) * 1000,
        ),
    ]


def _carriers_and_params() -> list[Scenario]:
    tok = session()
    directives = [f"__session={tok}; path=/"]
    good = handshake_token(directives)
    refresh_key, refresh_answer = refreshed()
    sat_dev = dev(
        isSatellite=True, domain="satellite.dev", signInUrl="https://primary.dev/sign-in?x=1"
    )
    nonce = {"status": 200, "body": {"directives": directives}}
    return [
        Scenario(
            "refresh-forwarded-request-origin",
            si(),
            prod(),
            h(
                ("x-forwarded-host", "app.example.com"),
                ("x-forwarded-proto", "https"),
                cookie(
                    ("__client_uat", str(IAT - 10)),
                    ("__session", tok),
                    (f"__refresh_{SFX_LIVE}", "rt"),
                ),
            ),
            url="http://localhost:5000/x",
            now_ms=EXPIRED_MS,
            bapi={refresh_key: refresh_answer},
        ),
        Scenario(
            "hs-dev-token-post",
            si(),
            dev(),
            FETCH,
            method="POST",
            url=URL + f"?__clerk_handshake={good}",
        ),
        Scenario(
            "hs-dev-token-head", si(), dev(), method="HEAD", url=URL + f"?__clerk_handshake={good}"
        ),
        Scenario(
            "hs-nonce-query-beats-cookie",
            si(),
            prod(),
            h(cookie(("__clerk_handshake_nonce", "nonce_cookie"))),
            url=URL + "?__clerk_handshake_nonce=nonce_query",
            bapi={"GET /v1/clients/handshake_payload?nonce=nonce_query": nonce},
        ),
        Scenario(
            "hs-nonce-with-plus-and-slash",
            si(),
            prod(),
            url=URL + "?__clerk_handshake_nonce=a+b%2Fc%3D",
            bapi={"GET /v1/clients/handshake_payload?nonce=a+b%2Fc%3D": nonce},
        ),
        Scenario(
            "header-expired-dev-query-db",
            hs(NO_REFRESH),
            dev(),
            h(("authorization", f"Bearer {tok}"), cookie(("__clerk_db_jwt", DB))),
            url=URL + "?__clerk_db_jwt=dvb_q1&__clerk_db_jwt=dvb_q2&keep=1",
            now_ms=EXPIRED_MS,
        ),
        Scenario(
            "dev-encoded-param-name-db-sync",
            hs("dev-browser-sync"),
            dev(),
            h(cookie(("__clerk_db_jwt", DB))),
            url=URL + "?%5F_clerk_db_jwt=dvb_enc",
        ),
        Scenario(
            "sat-dev-sign-in-url-with-query",
            hs("satellite-needs-syncing"),
            sat_dev,
            h(cookie(("__clerk_db_jwt", DB))),
            url=URL + "?__clerk_synced=false&q=a%20b",
        ),
        Scenario(
            "sat-dev-forwarded-redirect-url",
            hs("satellite-needs-syncing"),
            {**sat_dev, "satelliteAutoSync": True},
            h(("x-forwarded-host", "sat.example.com"), ("x-forwarded-proto", "https")),
            url="http://localhost:5000/p",
        ),
        Scenario(
            "sat-dev-loop-stops",
            so("satellite-needs-syncing"),
            {**sat_dev, "satelliteAutoSync": True},
            h(cookie(("__clerk_redirect_count", "3"))),
        ),
        Scenario(
            "sat-prod-relative-proxy",
            hs("satellite-needs-syncing"),
            prod(isSatellite=True, proxyUrl="/__clerk", satelliteAutoSync=True),
            h(("x-forwarded-host", "sat.example.com"), ("x-forwarded-proto", "https")),
            url="http://localhost:5000/p",
        ),
    ]


def _hostile_values() -> list[Scenario]:
    tok = session()
    parties = prod(authorizedParties=["https://example.com"])

    def bearer(token: str) -> Headers:
        return h(("authorization", f"Bearer {token}"))

    return [
        Scenario(
            "message-latin1-azp",
            so("token-invalid-authorized-parties"),
            parties,
            bearer(session(azp="https://exämple.com")),
        ),
        Scenario(
            "message-non-latin1-azp",
            so("token-invalid-authorized-parties"),
            parties,
            bearer(session(azp="https://例え.jp")),
        ),
        Scenario(
            "message-newline-azp",
            so("token-invalid-authorized-parties"),
            parties,
            bearer(session(azp="https://a.example\r\nSet-Cookie: evil=1")),
        ),
        Scenario(
            "dev-primary-responds-redirect-with-fragment",
            hs("primary-responds-to-syncing"),
            dev(),
            h(cookie(("__clerk_db_jwt", DB))),
            url=URL + "?__clerk_redirect_url=" + quote("http://localhost:3000/a?b=1#frag", safe=""),
            deviation=DEV_SYNC_TARGET,
        ),
        Scenario(
            "dev-primary-responds-javascript-url",
            hs("primary-responds-to-syncing"),
            dev(),
            h(cookie(("__clerk_db_jwt", DB))),
            url=URL + "?__clerk_redirect_url=" + quote("javascript:alert(1)", safe=""),
            deviation=REDIRECT_URL,
        ),
        Scenario(
            "dev-primary-responds-scheme-relative-url",
            err("Invalid URL"),
            dev(),
            h(cookie(("__clerk_db_jwt", DB))),
            url=URL + "?__clerk_redirect_url=" + quote("//evil.example/x", safe=""),
            deviation=REDIRECT_URL,
        ),
        Scenario(
            "sat-prod-domain-with-port",
            hs("satellite-needs-syncing"),
            prod(isSatellite=True, domain="satellite.dev:8443", satelliteAutoSync=True),
        ),
        Scenario(
            "header-v2-malformed-fea",
            si(),
            prod(),
            bearer(session(v=2, o={"id": "org_1", "rol": "admin", "slg": "a"}, fea="o")),
            deviation=(
                "current_auth is Clerk's toAuth(): where Clerk's request state is signed-in but "
                "toAuth() raises (malformed fea), IdGuard is signed-out unexpected-error"
            ),
        ),
        Scenario(
            "header-typ-lowercase-jwt",
            so("token-invalid"),
            prod(),
            bearer(session(header={"typ": "jwt"})),
        ),
        Scenario("header-typ-absent", si(), prod(), bearer(session(header={"typ": None}))),
        Scenario(
            "cookie-empty-session",
            hs("client-uat-but-no-session-token"),
            prod(),
            h(cookie(("__client_uat", "12345"), ("__session", ""))),
        ),
        Scenario(
            "cookie-uat-zero-with-session",
            hs("session-token-but-no-client-uat"),
            prod(),
            h(cookie(("__client_uat", "0"), ("__session", tok))),
        ),
    ]


def _remote_keys() -> list[Scenario]:
    """No jwtKey: the JWKS comes from the Backend API. One secret per scenario (Clerk caches
    key sets per apiUrl+secret in the process)."""
    tok = session()
    jwks = {"status": 200, "body": issuer().jwks()}

    def remote(secret: str) -> dict[str, Any]:
        options = prod(secretKey=secret)
        del options["jwtKey"]
        return options

    return [
        Scenario(
            "jwks-remote-valid",
            si(),
            remote("sk_live_jwks_valid"),
            h(("authorization", f"Bearer {tok}")),
            bapi={"GET /v1/jwks": jwks},
        ),
        Scenario(
            "jwks-remote-kid-mismatch",
            so("jwk-kid-mismatch"),
            remote("sk_live_jwks_kid"),
            h(("authorization", f"Bearer {session(stranger())}")),
            bapi={"GET /v1/jwks": jwks},
        ),
        Scenario(
            "jwks-remote-cookie-valid",
            si(),
            remote("sk_live_jwks_cookie"),
            h(cookie(("__client_uat", str(IAT - 10)), ("__session", tok))),
            bapi={"GET /v1/jwks": jwks},
        ),
        Scenario(
            "jwks-remote-handshake-token",
            si(),
            remote("sk_live_jwks_hs"),
            h(cookie(("__clerk_handshake", handshake_token([f"__session={tok}; path=/"])))),
            bapi={"GET /v1/jwks": jwks},
        ),
        Scenario(
            "jwks-remote-empty",
            so("jwk-remote-failed-to-load"),
            remote("sk_live_jwks_empty"),
            h(("authorization", f"Bearer {tok}")),
            bapi={"GET /v1/jwks": {"status": 200, "body": {"keys": []}}},
        ),
    ]


@cache
def _machine_tokens() -> list[Scenario]:
    from .scenarios_machine import machine_scenarios  # it builds on this module's helpers

    return machine_scenarios()


def scenarios() -> tuple[Scenario, ...]:
    """Every scenario, ids unique."""
    table = (
        _header_path()
        + _prod_cookie_path()
        + _counter_and_eligibility()
        + _dev_cookie_path()
        + _satellite()
        + _cross_origin()
        + _handshake_resolution()
        + _forwarded_and_proxy()
        + _org_sync()
        + _urls_and_parsing()
        + _more_flows()
        + _carriers_and_params()
        + _hostile_values()
        + _remote_keys()
        + _machine_tokens()
    )
    ids = [s.id for s in table]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate scenario ids: {duplicates}"
    return tuple(table)


def scenario_ids() -> Sequence[str]:
    return [s.id for s in scenarios()]
