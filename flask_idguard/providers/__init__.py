"""Identity providers: each turns a request into an :class:`~flask_idguard.AuthState`."""

from __future__ import annotations

from .auth0 import Auth0Provider
from .base import Provider
from .base import RequestContext
from .base import TokenProvider
from .oidc import OIDCProvider

__all__ = ["Auth0Provider", "OIDCProvider", "Provider", "RequestContext", "TokenProvider"]
