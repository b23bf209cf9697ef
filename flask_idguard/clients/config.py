"""``idguard.users`` from the app's configuration.

Keys: ``CLERK_SECRET_KEY``, ``CLERK_API_URL``, ``CLERK_API_VERSION`` (Clerk);
``AUTH0_DOMAIN`` with ``AUTH0_CLIENT_ID`` and ``AUTH0_CLIENT_SECRET`` or
``AUTH0_MANAGEMENT_TOKEN``, and ``AUTH0_MANAGEMENT_API_URL`` (Auth0). The clients are
built (no network: Auth0's token is fetched by the first call) and their values checked
when the app starts; a missing or ambiguous choice of client is reported when
``idguard.users`` is used, since an app need not use it at all.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import ConfigReader
from ..errors import ConfigurationError
from ..providers.settings import Settings
from .auth0 import Auth0ManagementClient
from .clerk import ClerkClient

__all__ = ["UsersClient", "users_client_factory"]

#: The client ``idguard.users`` returns.
UsersClient = ClerkClient | Auth0ManagementClient

_NONE = (
    "No users API client is configured: set CLERK_SECRET_KEY (Clerk), or AUTH0_DOMAIN with "
    "AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (Auth0 Management API)."
)
_BOTH = (
    "Both CLERK_SECRET_KEY and Auth0 Management API credentials are configured, so "
    "idguard.users cannot choose; build the one you need directly: "
    "ClerkClient(secret_key) or Auth0ManagementClient(domain, client_id, client_secret)."
)


def _raise(message: str) -> Callable[[], UsersClient]:
    def fail() -> UsersClient:
        raise ConfigurationError(message)

    return fail


def users_client_factory(reader: ConfigReader, settings: Settings) -> Callable[[], UsersClient]:
    """Build the configured client now; return what gives it (or raises
    :class:`ConfigurationError` saying which keys to set) when ``idguard.users`` is used."""
    timeout, insecure = settings.http_timeout, settings.allow_insecure_http
    clerk: Callable[[], UsersClient] | None = None
    auth0: Callable[[], UsersClient] | None = None

    secret_key = reader.string("CLERK_SECRET_KEY")
    api_url = reader.string("CLERK_API_URL", "https://api.clerk.com")
    api_version = reader.string("CLERK_API_VERSION", "v1")
    if secret_key is not None:
        assert api_url is not None and api_version is not None
        try:
            client = ClerkClient(
                secret_key,
                api_url=api_url,
                api_version=api_version,
                timeout=timeout,
                allow_insecure_http=insecure,
            )
        except ValueError as exc:
            raise ConfigurationError(f"CLERK_API_URL / CLERK_API_VERSION: {exc}.") from None

        def clerk() -> UsersClient:
            return client

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
    if domain is not None and (client_id or token):
        try:
            management = Auth0ManagementClient(
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

        def auth0() -> UsersClient:
            return management

    if clerk is not None and auth0 is not None:
        return _raise(_BOTH)
    if clerk is None and auth0 is None and domain is not None:
        return _raise(
            "AUTH0_DOMAIN is set but the Management API needs credentials: set "
            "AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (or AUTH0_MANAGEMENT_TOKEN)."
        )
    return clerk or auth0 or _raise(_NONE)
