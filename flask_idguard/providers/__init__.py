"""Identity providers: each turns a request into an :class:`~flask_idguard.AuthState`."""

from __future__ import annotations

from .auth0 import Auth0Provider
from .base import Provider
from .oidc import OIDCProvider
from .request import RequestContext
from .token import TokenProvider

__all__ = ["Auth0Provider", "OIDCProvider", "Provider", "RequestContext", "TokenProvider"]
