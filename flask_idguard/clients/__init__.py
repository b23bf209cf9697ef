"""Users API clients: Clerk's Backend API and Auth0's Management API, one vocabulary.

``get``, ``list``, ``iter``, ``count``, ``create``, ``update``, ``update_metadata``,
``delete``; plain dicts back, :class:`IdGuardAPIError` (a subclass by status) out.
"""

from __future__ import annotations

from .auth0 import Auth0ManagementClient
from .clerk import ClerkClient
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
