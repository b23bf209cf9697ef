"""What bench_gunicorn.py, gunicorn_app.py, bench_memory.py and bench_startup.py share.

* The Clerk instance every Clerk row uses: Clerk's test-suite production publishable key,
  keys from ``CLERK_JWT_KEY`` (no network), ``CLERK_AUTHORIZED_PARTIES`` set.
* A browser's document navigation carrying a valid Clerk session (``__session`` and
  ``__client_uat`` cookies, a same-origin ``Referer``, ``Sec-Fetch-Dest: document``), as in
  ``bench_requests.py`` and ``instructions.py``.
* The bearer-token configuration (``IDGUARD_ISSUER``/``IDGUARD_AUDIENCE`` with static keys).
* Reading the process's resident memory.
* The ratio a target is judged on: the median of per-round ratios.

Nothing here imports Flask or flask_idguard at module level, so ``bench_startup.py`` can
time those imports in a fresh interpreter that imported this module.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from flask_idguard.testing import TestIssuer

#: Clerk's test-suite publishable key: a production instance, so valid cookies need no handshake.
CLERK_PK = "pk_live_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA"
#: The Frontend API host that key encodes, the ``iss`` of the instance's session tokens.
CLERK_FAPI = "clerk.inspired.puma-74.lcl.dev"
#: The site the browser is on; the session token's ``azp`` and the only authorized party.
SITE_HOST = "example.com"
SITE_ORIGIN = "https://example.com"


def clerk_config(public_pem: str) -> dict[str, Any]:
    """Flask config for the Clerk instance, keys from ``public_pem`` (no network)."""
    return {
        "CLERK_PUBLISHABLE_KEY": CLERK_PK,
        "CLERK_SECRET_KEY": "sk_live_bench",
        "CLERK_JWT_KEY": public_pem,
        "CLERK_AUTHORIZED_PARTIES": [SITE_ORIGIN],
    }


def clerk_session_claims(now: int, *, session: str = "sess_1") -> dict[str, object]:
    """The claims of a Clerk session token issued at ``now``, valid for an hour."""
    return {
        "iss": f"https://{CLERK_FAPI}",
        "sub": "user_1",
        "sid": session,
        "iat": now,
        "nbf": now - 10,
        "exp": now + 3600,
        "azp": SITE_ORIGIN,
    }


def clerk_session_token(issuer: TestIssuer, now: int, *, session: str = "sess_1") -> str:
    """A Clerk session token signed by ``issuer`` (an RS256 key: Clerk accepts RSA only)."""
    return issuer.token(clerk_session_claims(now, session=session), expires_in=3600)


def clerk_headers(token: str, client_uat: int, *, scheme: str = "http") -> dict[str, str]:
    """A browser's document navigation from another page of the same site with the session
    cookies. ``client_uat`` must not be later than the token's ``iat`` (or Clerk asks for a
    handshake); ``scheme`` is the one the server sees, for the same-origin ``Referer``."""
    return {
        "Host": SITE_HOST,
        "Sec-Fetch-Dest": "document",
        "Referer": f"{scheme}://{SITE_HOST}/",
        "Cookie": f"__client_uat={client_uat}; __session={token}",
    }


def token_config(issuer: TestIssuer) -> dict[str, Any]:
    """Flask config for an OIDC-style issuer with its keys given statically (no network)."""
    return {
        "IDGUARD_ISSUER": issuer.issuer,
        "IDGUARD_AUDIENCE": issuer.audience,
        "IDGUARD_PUBLIC_KEYS": issuer.jwks(),
    }


def bearer_claims(issuer: TestIssuer, n: int, now: int | None = None) -> dict[str, object]:
    """Claims of the ``n``-th distinct access token (``jti`` differs), valid for an hour."""
    issued = int(time.time()) if now is None else now
    return {
        "iss": issuer.issuer,
        "sub": "user_2abcDEFghiJKLmnoPQRstuVWxyz",
        "aud": issuer.audience,
        "iat": issued,
        "nbf": issued - 5,
        "exp": issued + 3600,
        "jti": f"jti-{n:08d}",
        "scope": "read:users write:users",
    }


def memory_status() -> dict[str, int]:
    """The resident set size now (``VmRSS``) and its peak (``VmHWM``), in bytes (Linux)."""
    found: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    found[name] = int(value.split()[0]) * 1024
    except OSError:
        pass
    if len(found) != 2:
        raise RuntimeError("resident memory is read from /proc/self/status: Linux only")
    return {"rss": found["VmRSS"], "peak_rss": found["VmHWM"]}


def median_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median over rounds of ``numerators[r] / denominators[r]``: the cells of a round run
    back to back, so a drift of the machine's speed from one round to the next cancels."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))
