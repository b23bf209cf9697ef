"""Users API clients: Clerk's Backend API and Auth0's Management API, one vocabulary.

``get``, ``list``, ``iter``, ``count``, ``create``, ``update``, ``update_metadata``,
``delete``; plain dicts back, :class:`IdGuardAPIError` (a subclass by status) out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from .errors import APIAuthenticationFailed
from .errors import APIConnectionError
from .errors import APINotFound
from .errors import APIPaginationLimit
from .errors import APIPermissionDenied
from .errors import APIRateLimited
from .errors import APIRequestInvalid
from .errors import APIServerError
from .errors import IdGuardAPIError
from .user import User

if TYPE_CHECKING:
    from .auth0 import Auth0ManagementClient
    from .clerk import ClerkClient

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
    "ClerkClient",
    "IdGuardAPIError",
    "User",
]


def __getattr__(name: str) -> Any:
    """The two clients, imported when first asked for: they bring ``requests``."""
    if name == "ClerkClient":
        from .clerk import ClerkClient

        return ClerkClient
    if name == "Auth0ManagementClient":
        from .auth0 import Auth0ManagementClient

        return Auth0ManagementClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
