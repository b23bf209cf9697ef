"""The Auth0 provider: access tokens of ``https://<AUTH0_DOMAIN>/`` for ``AUTH0_AUDIENCE``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..config import ConfigReader
from ..errors import ConfigurationError
from ..keys import is_loopback
from .base import TokenProvider
from .base import string_set
from .oidc import build_key_source
from .settings import Settings

__all__ = ["Auth0Provider", "normalize_domain"]


def normalize_domain(domain: str) -> str:
    """The issuer for an Auth0 domain: ``tenant.auth0.com`` → ``https://tenant.auth0.com/``.

    ``https://`` may be given; ``http://`` is refused except on a loopback host (local
    development servers). A path, query, fragment or credentials are refused.
    """
    text = domain.strip()
    scheme = "https"
    if "://" in text:
        scheme, _, rest = text.partition("://")
        scheme = scheme.lower()
        text = rest
    parts = urlsplit(f"{scheme}://{text}")
    host = (parts.hostname or "").lower()
    if scheme not in ("https", "http") or not host:
        raise ValueError(f"{domain!r} is not a domain such as 'tenant.us.auth0.com'")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(f"{domain!r} must not contain credentials, a query or a fragment")
    if parts.path not in ("", "/"):
        raise ValueError(f"{domain!r} must be a bare domain, without a path")
    if scheme == "http" and not is_loopback(host):
        raise ValueError(f"{domain!r}: https is required (http only for a loopback host)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{domain!r} has an invalid port") from None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}/"


class Auth0Provider(TokenProvider):
    """Auth0 access tokens; Auth0's RBAC ``permissions`` claim counts as permissions and scopes."""

    @classmethod
    def from_config(cls, reader: ConfigReader, settings: Settings) -> Auth0Provider | None:
        domain = reader.string("AUTH0_DOMAIN")
        audience = reader.strings("AUTH0_AUDIENCE")
        if domain is None:
            if audience:
                raise ConfigurationError(
                    "AUTH0_AUDIENCE is set but AUTH0_DOMAIN is not: set AUTH0_DOMAIN to your "
                    "tenant's domain, e.g. 'tenant.us.auth0.com'."
                )
            return None
        try:
            issuer = normalize_domain(domain)
        except ValueError as exc:
            raise ConfigurationError(f"AUTH0_DOMAIN: {exc}.") from exc
        if not audience:
            raise ConfigurationError(
                "AUTH0_AUDIENCE is required with AUTH0_DOMAIN: set it to the API identifier "
                "shown in the Auth0 dashboard (APIs → Identifier)."
            )
        keys = build_key_source(issuer, settings, jwks_url=None, public_keys=None, prefix="AUTH0")
        policy = settings.policy(issuer=issuer, audience=frozenset(audience))
        dpop = settings.dpop_policy(reader, "AUTH0_DPOP", "AUTH0_DPOP_MODE", "IDGUARD_DPOP")
        return cls("auth0", policy, keys, dpop=dpop, nonces=settings.nonces)

    def scopes(self, claims: Mapping[str, Any]) -> frozenset[str]:
        return super().scopes(claims) | string_set(claims.get("permissions"))
