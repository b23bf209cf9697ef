"""The result of Clerk's decision tree, before it becomes an :class:`~flask_idguard.AuthState`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from typing import NamedTuple

from ...errors import header_value_ok
from ...state import Failure
from ...state import Status
from .claims import SessionFields

__all__ = ["Outcome", "failure_for", "sendable_cookies"]

logger = logging.getLogger("flask_idguard")

#: Reasons meaning "no usable session credentials" (a bare 401 challenge for API callers).
_NO_CREDENTIALS = frozenset(
    {
        "session-token-and-uat-missing",
        "session-token-but-no-client-uat",
        "client-uat-but-no-session-token",
        "session-token-iat-before-client-uat",
        "session-token-missing",
        "dev-browser-missing",
        "dev-browser-sync",
        "primary-responds-to-syncing",
        "satellite-needs-syncing",
        "primary-domain-cross-origin-sync",
        "active-organization-mismatch",
    }
)
#: Reasons meaning "the identity provider could not be asked" (503).
_UNAVAILABLE = frozenset({"jwk-remote-failed-to-load", "secret-key-invalid"})


def sendable_cookies(directives: Iterable[str], source: str) -> list[str]:
    """The ``Set-Cookie`` values from the Backend API or a handshake that can be sent as
    headers; any other is dropped and logged (Clerk throws on it)."""
    kept = []
    for directive in directives:
        if header_value_ok(directive.strip(" \t\r\n")):
            kept.append(directive)
        else:
            logger.warning(
                "Clerk: dropping a %s Set-Cookie value that is not a header value", source
            )
    return kept


def failure_for(reason: str) -> Failure:
    """How the decorators answer a signed-out Clerk ``reason``."""
    if reason in _NO_CREDENTIALS:
        return "missing"
    if reason in _UNAVAILABLE:
        return "unavailable"
    return "invalid_token"


class Outcome(NamedTuple):
    """``authenticateRequest``'s request state: status, reason, message and headers.

    Immutable (a named tuple: cheap to make on every request).

    ``location`` is the ``Location`` header, kept apart because the hook answers it with
    a 307. ``headers`` never holds the ``x-clerk-auth-*`` debug headers; they are derived.
    """

    status: Status
    reason: str | None = None
    message: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    location: str | None = None
    token: str | None = None
    claims: Mapping[str, Any] | None = None
    failure: Failure | None = None
    #: The auth fields of ``claims``, when a step already read them (organization sync).
    fields: SessionFields | None = None
    #: The request is refused outright with ``failure``'s error (see ``AuthState.refuse``).
    refuse: bool = False

    @classmethod
    def signed_out(
        cls,
        reason: str,
        message: str = "",
        *,
        headers: Iterable[tuple[str, str]] = (),
        location: str | None = None,
        failure: Failure | None = None,
        refuse: bool = False,
    ) -> Outcome:
        return cls(
            "signed-out",
            reason,
            message,
            headers=tuple(headers),
            location=location,
            failure=failure or failure_for(reason),
            refuse=refuse,
        )

    @classmethod
    def signed_in(
        cls,
        token: str,
        claims: Mapping[str, Any],
        *,
        headers: Iterable[tuple[str, str]] = (),
        location: str | None = None,
        fields: SessionFields | None = None,
    ) -> Outcome:
        return cls(
            "signed-in",
            token=token,
            claims=claims,
            headers=tuple(headers),
            location=location,
            fields=fields,
        )

    def debug_headers(self) -> tuple[tuple[str, str], ...]:
        """``x-clerk-auth-status/-reason/-message`` (signed-out and handshake states only)."""
        if self.status == "signed-in":
            return ()
        out: tuple[tuple[str, str], ...] = (
            ("x-clerk-auth-status", self.status),
            ("x-clerk-auth-reason", self.reason or ""),
        )
        if self.message and header_value_ok(self.message):
            out += (("x-clerk-auth-message", self.message),)
        return out
