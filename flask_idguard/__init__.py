"""flask-idguard: verified sign-in state for Flask from Clerk, Auth0 or any OIDC issuer."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from .auth import current_auth
from .clients import APIAuthenticationFailed
from .clients import APIConnectionError
from .clients import APINotFound
from .clients import APIPaginationLimit
from .clients import APIPermissionDenied
from .clients import APIRateLimited
from .clients import APIRequestInvalid
from .clients import APIServerError
from .clients import IdGuardAPIError
from .clients import User
from .decorators import claim_check
from .decorators import claim_equals
from .decorators import claim_includes
from .decorators import has_permission
from .decorators import has_role
from .decorators import requires_auth
from .decorators import scopes_include
from .errors import AuthenticationRequired
from .errors import ConfigurationError
from .errors import IdGuardError
from .errors import InsufficientPermission
from .errors import InsufficientScope
from .errors import InvalidAuthScheme
from .errors import InvalidDPoPProof
from .errors import InvalidRequest
from .errors import InvalidToken
from .errors import IssuerResolverError
from .errors import ServiceUnavailable
from .errors import UseDPoPNonce
from .extension import IdGuard
from .protect import public
from .providers.issuers import IssuerContext
from .state import AuthState
from .webhooks import InvalidWebhook
from .webhooks import WebhookEvent
from .webhooks import verified_webhook
from .webhooks import verify_webhook

if TYPE_CHECKING:
    from .clients.auth0 import Auth0ManagementClient
    from .clients.clerk import ClerkClient

__all__ = [
    "APIAuthenticationFailed",
    "APIConnectionError",
    "APINotFound",
    "APIPaginationLimit",
    "APIPermissionDenied",
    "APIRateLimited",
    "APIRequestInvalid",
    "APIServerError",
    "Auth0ManagementClient",
    "AuthState",
    "AuthenticationRequired",
    "ClerkClient",
    "ConfigurationError",
    "IdGuard",
    "IdGuardAPIError",
    "IdGuardError",
    "InsufficientPermission",
    "InsufficientScope",
    "InvalidAuthScheme",
    "InvalidDPoPProof",
    "InvalidRequest",
    "InvalidToken",
    "InvalidWebhook",
    "IssuerContext",
    "IssuerResolverError",
    "ServiceUnavailable",
    "User",
    "UseDPoPNonce",
    "WebhookEvent",
    "claim_check",
    "claim_equals",
    "claim_includes",
    "current_auth",
    "has_permission",
    "has_role",
    "public",
    "requires_auth",
    "scopes_include",
    "verified_webhook",
    "verify_webhook",
]


def __getattr__(name: str) -> Any:
    """The users API clients, imported when first asked for (they bring ``requests``)."""
    if name in ("ClerkClient", "Auth0ManagementClient"):
        from . import clients

        return getattr(clients, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
