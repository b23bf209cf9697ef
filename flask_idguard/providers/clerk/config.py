"""The ``CLERK_*`` configuration, read and validated once at ``init_app``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ...config import ConfigReader
from ...errors import ConfigurationError
from .instance import PublishableKey
from .instance import check_secret_key
from .instance import is_development_secret_key
from .instance import parse_publishable_key
from .organizations import OrganizationSync

__all__ = ["ClerkConfig"]


@dataclass(frozen=True)
class ClerkConfig:
    """Everything the Clerk provider reads from the app's configuration."""

    publishable_key: PublishableKey
    secret_key: str
    jwt_key: str | None
    api_url: str
    api_version: str
    authorized_parties: tuple[str, ...]
    audience: tuple[str, ...]
    sign_in_url: str | None
    sign_up_url: str | None
    domain: str | None
    is_satellite: bool
    proxy_url: str | None
    satellite_auto_sync: bool
    organization_sync: OrganizationSync | None
    debug_headers: bool
    treat_pending_as_signed_out: bool

    def __repr__(self) -> str:  # never show the secret key
        return (
            f"ClerkConfig(publishable_key={self.publishable_key.key!r}, api_url={self.api_url!r})"
        )

    @property
    def production(self) -> bool:
        return self.publishable_key.instance_type == "production"

    @classmethod
    def from_config(cls, reader: ConfigReader) -> ClerkConfig | None:
        """The Clerk configuration, or None when ``CLERK_PUBLISHABLE_KEY`` is not set."""
        pk_value = reader.string("CLERK_PUBLISHABLE_KEY")
        if pk_value is None:
            # CLERK_SECRET_KEY alone configures only the users API client (idguard.users).
            return None
        sk = reader.string("CLERK_SECRET_KEY")
        # Clerk's order (§11.1): the publishable key first, then the secret key.
        pk = parse_publishable_key(pk_value)
        if sk is None:
            raise ConfigurationError(
                "Missing Clerk Secret Key. Go to https://dashboard.clerk.com and get your key "
                "for your instance, then set CLERK_SECRET_KEY."
            )
        check_secret_key(sk, pk)
        api_url = reader.string("CLERK_API_URL", "https://api.clerk.com") or ""
        _absolute("CLERK_API_URL", api_url)
        api_version = reader.string("CLERK_API_VERSION", "v1") or "v1"
        domain = reader.string("CLERK_DOMAIN")
        if domain is not None:
            domain = re.sub(r"^https?://", "", domain, flags=re.IGNORECASE).rstrip("/")
        proxy_url = reader.string("CLERK_PROXY_URL")
        if proxy_url is not None and not proxy_url.startswith("/"):
            _absolute("CLERK_PROXY_URL", proxy_url)
        is_satellite = reader.flag("CLERK_IS_SATELLITE")
        sign_in_url = reader.string("CLERK_SIGN_IN_URL")
        if is_satellite:
            _check_satellite(sk, sign_in_url, domain=domain, proxy_url=proxy_url)
        parties = reader.strings("CLERK_AUTHORIZED_PARTIES") or []
        jwt_key = reader.string("CLERK_JWT_KEY")
        return cls(
            publishable_key=pk,
            secret_key=sk,
            jwt_key=jwt_key,
            api_url=api_url.rstrip("/"),
            api_version=api_version,
            authorized_parties=tuple(parties),
            audience=tuple(reader.strings("CLERK_AUDIENCE") or ()),
            sign_in_url=sign_in_url,
            sign_up_url=reader.string("CLERK_SIGN_UP_URL"),
            domain=domain,
            is_satellite=is_satellite,
            proxy_url=proxy_url,
            satellite_auto_sync=reader.flag("CLERK_SATELLITE_AUTO_SYNC"),
            organization_sync=OrganizationSync.from_value(
                reader.raw("CLERK_ORGANIZATION_SYNC_OPTIONS")
            ),
            debug_headers=reader.flag("CLERK_DEBUG_HEADERS", True),
            treat_pending_as_signed_out=reader.flag("CLERK_TREAT_PENDING_AS_SIGNED_OUT", True),
        )


def _check_satellite(
    secret_key: str, sign_in_url: str | None, *, domain: str | None, proxy_url: str | None
) -> None:
    """Clerk's satellite assertions, in Clerk's order, with Clerk's messages."""
    if is_development_secret_key(secret_key) and sign_in_url is None:
        raise ConfigurationError(
            "Missing signInUrl. Pass a signInUrl for dev instances if an app is "
            "satellite: set CLERK_SIGN_IN_URL to the primary domain's sign-in page."
        )
    if sign_in_url is not None:
        # Clerk checks this per request when an Origin header is present; a
        # configuration mistake is reported here, once, instead.
        _absolute(
            "CLERK_SIGN_IN_URL", sign_in_url, "The signInUrl needs to have a absolute url format."
        )
    if proxy_url is None and domain is None:
        raise ConfigurationError(
            "Missing domain and proxyUrl. A satellite application needs to specify a "
            "domain or a proxyUrl: set CLERK_DOMAIN or CLERK_PROXY_URL."
        )


def _absolute(key: str, url: str, message: str | None = None) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"{message + ' ' if message else ''}{key} must be an absolute http(s) URL, got {url!r}."
        )
