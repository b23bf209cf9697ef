"""The provider interface: a provider turns a request into an :class:`~flask_idguard.AuthState`.

A provider answers None when the request is not its business (no token it owns). Token
providers (:mod:`.token`: OIDC, Auth0) verify a bearer token; a cookie provider (Clerk) also
reads cookies and may answer with response headers or a handshake redirect, through the same
interface.
"""

from __future__ import annotations

from abc import ABC
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

from ..state import AuthState
from .request import RequestContext

__all__ = ["Provider"]


class Provider(ABC):
    """Turns a request into an auth state, or None when the request is not its business."""

    #: The provider's name, exposed as ``current_auth.provider``.
    name: str

    @abstractmethod
    def authenticate(self, ctx: RequestContext) -> AuthState | None:
        """The request's auth state, or None when this provider has nothing to say."""

    def remembered(self, environ: Mapping[str, Any], now: float) -> AuthState | None:
        """A decision already made for a request with the same inputs (a cookie provider's
        fast path, asked only when the request has no ``Authorization`` header), or None.

        Only signed-in states with no response header and no redirect are remembered (the
        request hook relies on it)."""
        return None

    def challenge_offer(self) -> tuple[bool, tuple[str, ...]]:
        """What its refusals' ``WWW-Authenticate`` offers: ``Bearer``?, the DPoP ``algs``."""
        return True, ()

    def owns_issuer(self, issuer: str | None) -> bool:
        """Whether a bearer token with this unverified ``iss`` is routed here."""
        return False
