"""flask-idguard: verified sign-in state for Flask from Clerk, Auth0 or any OIDC issuer."""

from __future__ import annotations

from .auth import AuthState
from .auth import current_auth
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
from .errors import InvalidRequest
from .errors import InvalidToken
from .errors import IssuerResolverError
from .errors import ServiceUnavailable
from .extension import IdGuard
from .providers.issuers import IssuerContext

__all__ = [
    "AuthState",
    "AuthenticationRequired",
    "ConfigurationError",
    "IdGuard",
    "IdGuardError",
    "InsufficientPermission",
    "InsufficientScope",
    "InvalidRequest",
    "InvalidToken",
    "IssuerContext",
    "IssuerResolverError",
    "ServiceUnavailable",
    "claim_check",
    "claim_equals",
    "claim_includes",
    "current_auth",
    "has_permission",
    "has_role",
    "requires_auth",
    "scopes_include",
]
