"""Clerk cookie decisions remembered per request inputs: a repeated signed-in page view
skips the decision tree (docs/performance.rst).

A cookie request that Clerk's tree (:mod:`.authenticate`) decided *signed in*, with no
response header to set and no redirect, is a pure function of the request inputs listed in
:data:`INPUTS` and of the clock. Such a decision is remembered, keyed on every one of those
inputs, until the first of:

- the session token's ``exp`` (without leeway: the development suffixed-cookie rule flips
  at ``exp``, and a token past it is decided afresh, leeway included);
- the end of its verification's own window (``max_age`` after the signature was last
  checked, so a key withdrawn upstream stops working just as fast as without this cache).

Not remembered: signed-out and handshake outcomes, outcomes with headers (refresh,
handshake resolution, debug headers are added after), requests carrying an ``Authorization``
header, a handshake token or nonce, or any ``__clerk_*`` query parameter (whose handling
may log). The memory holds at most ``size`` decisions, oldest first out; only a request
with a valid session can add one.
"""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Mapping
from typing import Any

from ...core.cache import VerifiedCache
from ...state import AuthState

__all__ = ["INPUTS", "RememberedDecisions"]

#: The WSGI environ entries Clerk's cookie path reads (:class:`.request.ClerkRequest`): the
#: key of a remembered decision is all of them.
INPUTS = (
    # The method (handshake eligibility, satellite sync, cross-origin sync).
    "REQUEST_METHOD",
    # __session / __client_uat (plain and suffixed), __clerk_db_jwt, __refresh_*,
    # __clerk_handshake(_nonce), __clerk_redirect_count.
    "HTTP_COOKIE",
    # The URL: its query (``__clerk_*`` parameters) and path (organization sync).
    "QUERY_STRING",
    "RAW_URI",
    "REQUEST_URI",
    "SCRIPT_NAME",
    "PATH_INFO",
    # The public origin (cross-origin sync against the Referer).
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_REFERER",
    # Document navigation and handshake eligibility.
    "HTTP_SEC_FETCH_DEST",
    "HTTP_ACCEPT",
    # Always absent in a remembered decision (the header path is never remembered).
    "HTTP_AUTHORIZATION",
)


def _inputs(environ: Mapping[str, Any]) -> Hashable:
    """The key: the value (or None) of every entry of :data:`INPUTS`."""
    return tuple(map(environ.get, INPUTS))


class RememberedDecisions:
    """At most ``size`` signed-in cookie decisions of one Clerk instance."""

    def __init__(self, size: int = 2048) -> None:
        self._decisions: VerifiedCache[AuthState] = VerifiedCache(size)

    def get(self, environ: Mapping[str, Any], now: float) -> AuthState | None:
        """The decision made for the same inputs, while it is still valid at ``now``."""
        return self._decisions.get(_inputs(environ), now)

    def put(self, environ: Mapping[str, Any], start: float, until: float, state: AuthState) -> None:
        """Remember ``state`` for these inputs from ``start`` until ``until``."""
        if start < until:
            self._decisions.put(_inputs(environ), start, until, state)

    def __len__(self) -> int:
        return len(self._decisions)
