"""The users API clients of an app (``idguard.users``), from its configuration.

Keys: ``CLERK_SECRET_KEY``, ``CLERK_API_URL``, ``CLERK_API_VERSION`` (Clerk);
``AUTH0_DOMAIN`` with ``AUTH0_CLIENT_ID`` and ``AUTH0_CLIENT_SECRET`` or
``AUTH0_MANAGEMENT_TOKEN``, and ``AUTH0_MANAGEMENT_API_URL`` (Auth0). The clients are
built (no network: Auth0's token is fetched by the first call) and their values checked
when the app starts; a missing or ambiguous choice of client is reported when
``idguard.users`` (or ``current_auth.get_user()``) is used, since an app need not use
it at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING
from typing import TypeAlias

from .config import ConfigReader
from .core.urls import check_url
from .errors import ConfigurationError

if TYPE_CHECKING:  # the clients bring requests: imported when one is built
    from .clients.auth0 import Auth0ManagementClient
    from .clients.clerk import ClerkClient

__all__ = ["UsersClient", "UsersClients", "users_clients"]

#: The client ``idguard.users`` returns.
UsersClient: TypeAlias = "ClerkClient | Auth0ManagementClient"

_NONE = (
    "No users API client is configured: set CLERK_SECRET_KEY (Clerk), or AUTH0_DOMAIN with "
    "AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (Auth0 Management API)."
)
_NO_AUTH0_CREDENTIALS = (
    "AUTH0_DOMAIN is set but the Management API needs credentials: set "
    "AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (or AUTH0_MANAGEMENT_TOKEN)."
)
_BOTH = (
    "Both CLERK_SECRET_KEY and Auth0 Management API credentials are configured, so "
    "idguard.users cannot choose (current_auth.get_user() uses the client of the "
    "request's provider); build the one you need directly: "
    "ClerkClient(secret_key) or Auth0ManagementClient(domain, client_id, client_secret)."
)


@dataclass(frozen=True)
class UsersClients:
    """The configured users API clients of one app, by provider name."""

    clients: Mapping[str, UsersClient]
    #: Why there is none: the keys to set.
    missing: str = _NONE

    def only(self) -> UsersClient:
        """The one configured client (``idguard.users``)."""
        if len(self.clients) == 1:
            return next(iter(self.clients.values()))
        raise ConfigurationError(_BOTH if self.clients else self.missing)

    def for_provider(self, provider: str | None) -> UsersClient:
        """The client for users signed in by ``provider`` (``current_auth.get_user()``)."""
        if not self.clients:
            raise ConfigurationError(self.missing)
        client = self.clients.get(provider or "")
        if client is None:
            raise RuntimeError(
                f"current_auth is from provider {provider!r}, which has no users API client "
                f"(configured: {', '.join(sorted(self.clients))}); a user id of one provider "
                "means nothing to another."
            )
        return client


def users_clients(
    reader: ConfigReader,
    *,
    timeout: float,
    allow_insecure_http: bool,
    clerk: ClerkClient | None = None,
) -> UsersClients:
    """Check the users API keys and build the clients (no network call).

    ``clerk`` is the Clerk provider's Backend API client: ``idguard.users`` shares it (one
    client per secret key) once its URL passed the checks a new client's would.
    """
    clients: dict[str, UsersClient] = {}
    clerk_client = _clerk(reader, timeout, allow_insecure_http, clerk)
    if clerk_client is not None:
        clients["clerk"] = clerk_client
    auth0_client = _auth0(reader, timeout, allow_insecure_http)
    if auth0_client is not None:
        clients["auth0"] = auth0_client
    domain = reader.string("AUTH0_DOMAIN")
    missing = _NO_AUTH0_CREDENTIALS if domain is not None and not clients else _NONE
    return UsersClients(MappingProxyType(clients), missing)


def _clerk(
    reader: ConfigReader, timeout: float, insecure: bool, shared: ClerkClient | None
) -> ClerkClient | None:
    """``CLERK_SECRET_KEY`` (with ``CLERK_API_URL``, ``CLERK_API_VERSION``)."""
    secret_key = reader.string("CLERK_SECRET_KEY")
    api_url = reader.string("CLERK_API_URL", "https://api.clerk.com")
    api_version = reader.string("CLERK_API_VERSION", "v1")
    if secret_key is None:
        return None
    assert api_url is not None and api_version is not None
    try:
        if shared is not None:
            check_url(api_url, allow_insecure_http=insecure, what="the Clerk API URL")
            return shared
        from .clients.clerk import ClerkClient

        return ClerkClient(
            secret_key,
            api_url=api_url,
            api_version=api_version,
            timeout=timeout,
            allow_insecure_http=insecure,
        )
    except ValueError as exc:
        raise ConfigurationError(f"CLERK_API_URL / CLERK_API_VERSION: {exc}.") from None


def _auth0(reader: ConfigReader, timeout: float, insecure: bool) -> Auth0ManagementClient | None:
    """``AUTH0_DOMAIN`` with ``AUTH0_CLIENT_ID`` and ``AUTH0_CLIENT_SECRET`` or
    ``AUTH0_MANAGEMENT_TOKEN``, and ``AUTH0_MANAGEMENT_API_URL``."""
    domain = reader.string("AUTH0_DOMAIN")
    client_id = reader.string("AUTH0_CLIENT_ID")
    client_secret = reader.string("AUTH0_CLIENT_SECRET")
    token = reader.string("AUTH0_MANAGEMENT_TOKEN")
    base_url = reader.string("AUTH0_MANAGEMENT_API_URL")
    if bool(client_id) != bool(client_secret):
        raise ConfigurationError("Set both AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET, or neither.")
    if (client_id or token or base_url) and domain is None:
        raise ConfigurationError(
            "AUTH0_CLIENT_ID/AUTH0_MANAGEMENT_TOKEN/AUTH0_MANAGEMENT_API_URL need AUTH0_DOMAIN "
            "(your tenant's domain, e.g. 'tenant.us.auth0.com')."
        )
    if domain is None or not (client_id or token):
        return None
    from .clients.auth0 import Auth0ManagementClient

    try:
        return Auth0ManagementClient(
            domain,
            client_id,
            client_secret,
            base_url=base_url,
            token=token,
            timeout=timeout,
            allow_insecure_http=insecure,
        )
    except ValueError as exc:
        raise ConfigurationError(f"AUTH0_DOMAIN / AUTH0_MANAGEMENT_API_URL: {exc}.") from None
