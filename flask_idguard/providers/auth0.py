"""The Auth0 provider: access tokens of an Auth0 tenant (``AUTH0_*`` keys).

The issuer and its keys come from exactly one of:

(a) ``AUTH0_DOMAIN`` (or ``ISSUER_BASE_URL``): issuer ``https://<domain>/``, keys by discovery;
(b) ``AUTH0_JWKS_URI``, with ``AUTH0_ISSUER`` or ``AUTH0_DOMAIN`` naming the issuer: no discovery;
(c) ``AUTH0_PUBLIC_KEY`` (PEM, JWK or JWKS), with ``AUTH0_ISSUER`` or ``AUTH0_DOMAIN``: no network;
(d) ``AUTH0_DOMAINS``: several custom domains, a list or a resolver (see :mod:`.issuers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from ..config import ConfigReader
from ..core.dpop import DPoPPolicy
from ..core.urls import check_url
from ..core.urls import normalize_domain
from ..errors import ConfigurationError
from ..state import AuthState
from .issuers import Issuers
from .settings import Settings
from .token import TokenProvider
from .token import string_set
from .token_config import TokenKeys
from .token_config import TokenSources
from .token_config import build_token_provider

__all__ = ["Auth0Provider", "custom_claims"]

KEYS = TokenKeys(
    provider="auth0",
    issuer="AUTH0_ISSUER",
    issuers="AUTH0_DOMAINS",
    jwks_url="AUTH0_JWKS_URI",
    public_keys="AUTH0_PUBLIC_KEY",
    audience="AUTH0_AUDIENCE",
    routed_reason=(
        "each of several domains is verified with the keys its own discovery document names."
    ),
)


def custom_claims(claims: Mapping[str, Any], namespace: str | None) -> Mapping[str, Any]:
    """The claims whose name starts with ``namespace``, keyed by the rest of the name."""
    if not namespace:
        return MappingProxyType({})
    n = len(namespace)
    return MappingProxyType(
        {k[n:]: v for k, v in claims.items() if k.startswith(namespace) and len(k) > n}
    )


def _namespace(value: str | None) -> str | None:
    """``AUTH0_CLAIMS_NAMESPACE`` as a prefix: a ``/`` is added unless it ends in ``/`` or ``:``."""
    if value is None:
        return None
    return value if value.endswith(("/", ":")) else value + "/"


def _domain(reader: ConfigReader, settings: Settings) -> tuple[str, str] | None:
    """``(key, value)`` of the configured domain: ``AUTH0_DOMAIN``, else ``ISSUER_BASE_URL``.

    ``AUTH0_DOMAIN`` is written back normalised (lower case, no ``https://``, no ``/``), as
    the value used; an ``http://`` loopback domain keeps its scheme.
    """
    for key in ("AUTH0_DOMAIN", "ISSUER_BASE_URL"):
        value = reader.string(key)
        if value is not None:
            if key == "AUTH0_DOMAIN":
                value = normalized_domain(_issuer(key, value, settings))
                reader.write_back(key, value)
            return key, value
    return None


def normalized_domain(issuer: str) -> str:
    """The domain an issuer of :func:`~flask_idguard.core.urls.normalize_domain` names."""
    host = issuer.removesuffix("/")
    return host.removeprefix("https://")


def _refuse_stray_keys(reader: ConfigReader, public_key: Any) -> None:
    """No domain nor issuer is set: other ``AUTH0_*`` keys of the provider are a mistake."""
    stray = [k for k in ("AUTH0_AUDIENCE", "AUTH0_JWKS_URI") if reader.raw(k)]
    stray += ["AUTH0_PUBLIC_KEY"] if public_key is not None else []
    if stray:
        raise ConfigurationError(
            f"{', '.join(stray)} set but AUTH0_DOMAIN is not: set AUTH0_DOMAIN to your "
            "tenant's domain, e.g. 'tenant.us.auth0.com' (or AUTH0_ISSUER with "
            "AUTH0_JWKS_URI or AUTH0_PUBLIC_KEY)."
        )


def _dpop_policy(reader: ConfigReader, settings: Settings) -> DPoPPolicy:
    """``AUTH0_DPOP`` (or ``AUTH0_DPOP_MODE``, ``IDGUARD_DPOP``) and ``AUTH0_DPOP_IAT_*``."""
    dpop = settings.dpop_policy(reader, "AUTH0_DPOP", "AUTH0_DPOP_MODE", "IDGUARD_DPOP")
    # Auth0's own names for the proof iat window, over IDGUARD_DPOP_IAT_* (api-js options).
    return replace(
        dpop,
        iat_offset=reader.number("AUTH0_DPOP_IAT_OFFSET", dpop.iat_offset),
        iat_leeway=reader.number("AUTH0_DPOP_IAT_LEEWAY", dpop.iat_leeway),
    )


def _one_issuer(domain: tuple[str, str] | None, sources: TokenSources, settings: Settings) -> str:
    """The issuer: ``AUTH0_ISSUER`` (which needs explicit keys), else the domain's."""
    issuer_url = sources.issuer
    if issuer_url is not None and sources.jwks_url is None and sources.public_keys is None:
        raise ConfigurationError(
            "AUTH0_ISSUER skips discovery, so it needs AUTH0_JWKS_URI or "
            "AUTH0_PUBLIC_KEY; or remove it and let AUTH0_DOMAIN's discovery find the keys."
        )
    # With both, AUTH0_ISSUER names the issuer and AUTH0_DOMAIN only the tenant
    # (Management API); the domain is still validated.
    from_domain = _issuer(*domain, settings) if domain is not None else None
    issuer = _issuer("AUTH0_ISSUER", issuer_url, settings) if issuer_url else from_domain
    assert issuer is not None
    return issuer


def _issuer(key: str, value: str, settings: Settings) -> str:
    try:
        if key == "AUTH0_ISSUER":
            check_url(value, allow_insecure_http=settings.allow_insecure_http, what="the issuer")
            return value
        return normalize_domain(value)
    except ValueError as exc:
        raise ConfigurationError(f"{key}: {exc}.") from exc


class Auth0Provider(TokenProvider):
    """Auth0 access tokens; Auth0's RBAC ``permissions`` claim counts as permissions and scopes.

    With ``AUTH0_CLAIMS_NAMESPACE``, namespaced custom claims are exposed without their prefix
    as ``current_auth.custom_claims``, and a namespaced ``roles`` list counts as roles.
    """

    claims_namespace: str | None = None

    @classmethod
    def from_config(cls, reader: ConfigReader, settings: Settings) -> Auth0Provider | None:
        domain = _domain(reader, settings)
        issuer_url = reader.string("AUTH0_ISSUER")
        jwks_uri = reader.string("AUTH0_JWKS_URI")
        public_key = reader.raw("AUTH0_PUBLIC_KEY")
        domains = Issuers.from_config(reader, "AUTH0_DOMAINS", normalize_domain)
        if domain is None and issuer_url is None and domains is None:
            _refuse_stray_keys(reader, public_key)
            return None
        audience = reader.strings("AUTH0_AUDIENCE") or reader.strings("AUDIENCE")
        if not audience:
            raise ConfigurationError(
                "AUTH0_AUDIENCE is required for the Auth0 provider: set it to the API identifier "
                "shown in the Auth0 dashboard (APIs → Identifier)."
            )
        settings = settings.overridden(
            reader,
            algorithms="AUTH0_ALGORITHMS",
            clock_skew="AUTH0_CLOCK_TOLERANCE",
            max_token_age="AUTH0_MAX_TOKEN_AGE",
            strict="AUTH0_STRICT",
        )
        dpop = _dpop_policy(reader, settings)
        sources = TokenSources(issuer_url, jwks_uri, public_key, domains, audience)
        provider = build_token_provider(
            cls,
            KEYS,
            sources,
            settings,
            one_issuer=lambda: _one_issuer(domain, sources, settings),
            dpop=lambda: dpop,
        )
        provider.claims_namespace = _namespace(reader.string("AUTH0_CLAIMS_NAMESPACE"))
        return provider

    def scopes(self, claims: Mapping[str, Any]) -> frozenset[str]:
        return super().scopes(claims) | string_set(claims.get("permissions"))

    def signed_in_state(self, token: str, claims: Mapping[str, Any]) -> AuthState:
        state = super().signed_in_state(token, claims)
        if self.claims_namespace is None:
            return state
        custom = custom_claims(state.claims, self.claims_namespace)  # the read-only claims
        return replace(
            state, custom_claims=custom, roles=state.roles | string_set(custom.get("roles"))
        )
