"""Why Clerk's cookie rules found no session: the state's message where Clerk's is empty.

Clerk answers ``session-token-and-uat-missing`` and ``dev-browser-missing`` with no message,
also when the request carries Clerk cookies that the rules skipped. These hints say which
cookies were there and why they were not read, naming cookies and the instance's frontend
API only, never a cookie's or token's contents. The ``x-clerk-auth-message`` debug header
stays Clerk's (a deliberate difference, docs/clerk.rst).
"""

from __future__ import annotations

from .cookies import CLIENT_UAT
from .cookies import SESSION
from .cookies import from_another_instance
from .cookies import unverified_claims
from .request import ClerkRequest

__all__ = ["HINTED", "hint"]

#: The reasons whose (empty) message a hint replaces.
HINTED = frozenset({"session-token-and-uat-missing", "dev-browser-missing"})

_DEV_BROWSER = (
    "A development instance needs the development browser token (the __clerk_db_jwt "
    "cookie or query parameter), which Clerk's frontend (@clerk/clerk-js) or the handshake "
    "sets; this request has none."
)


def hint(rq: ClerkRequest, reason: str) -> str:
    """The message for a request decided ``reason`` (one of :data:`HINTED`)."""
    if reason == "dev-browser-missing":
        return _DEV_BROWSER
    return _missing_session(rq)


def _missing_session(rq: ClerkRequest) -> str:
    cookies, suffix = rq.cookies, rq.suffix
    ours = [SESSION, CLIENT_UAT, f"{SESSION}_{suffix}", f"{CLIENT_UAT}_{suffix}"]
    present = [name for name in ours if cookies.get(name)]
    if not present:
        others = sorted(
            name
            for name in cookies
            if name.startswith((f"{SESSION}_", f"{CLIENT_UAT}_")) and name not in ours
        )
        if others:
            return (
                f"No session cookie of this Clerk instance: {', '.join(others)} belong to "
                f"another instance (this one's cookie suffix is {suffix})."
            )
        return "No Clerk session cookies (__session, __client_uat) in the request."
    if rq.suffixed:
        read = f"{SESSION}_{suffix} and {CLIENT_UAT}_{suffix}"
    else:
        read = f"{SESSION} and {CLIENT_UAT}"
    why = "Clerk's cookie-suffix rules chose them"
    if rq.suffixed and _foreign(cookies.get(SESSION), rq.original_frontend_api):
        why = (
            f"the {SESSION} cookie was not issued by this instance's frontend API "
            f"({rq.original_frontend_api}): it belongs to another app on this site"
        )
    return f"{', '.join(present)} not read: Clerk reads {read} here ({why}), and they are absent."


def _foreign(session: str | None, frontend_api: str) -> bool:
    """Whether ``session`` made Clerk read the suffixed names because it belongs to another
    instance (rule 2 of the suffixed-cookie decision)."""
    if not session:
        return False
    return from_another_instance(unverified_claims(session), frontend_api) is True
