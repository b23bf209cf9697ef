"""Building a token provider from its configuration: the steps the OIDC and Auth0 providers share.

Each provider reads its own keys (:class:`TokenSources`) and names them (:class:`TokenKeys`);
:func:`build_token_provider` then makes either a provider routed among several issuers or one
verifying a single issuer's tokens with discovery, a JWKS URL or static keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from joserfc.jwk import KeySet

from ..core.dpop import DPoPPolicy
from ..core.keys import KeySource
from ..core.keys import StaticKeySet
from ..core.urls import check_url
from ..errors import ConfigurationError
from .issuers import NO_KEYS
from .issuers import IssuerRouter
from .issuers import Issuers
from .settings import Settings
from .token import TokenProvider

__all__ = [
    "TokenKeys",
    "TokenSources",
    "build_key_source",
    "build_token_provider",
    "static_keys",
]

P = TypeVar("P", bound=TokenProvider)


@dataclass(frozen=True)
class TokenKeys:
    """A token provider's name and the names of its configuration keys, as errors show them."""

    #: The provider's name (``TokenProvider.name``, ``IssuerRouter.name``).
    provider: str
    #: One issuer URL.
    issuer: str
    #: Several issuers: a list or a resolver.
    issuers: str
    #: A JWKS URL, instead of discovery.
    jwks_url: str
    #: Static public keys, instead of discovery.
    public_keys: str
    #: The audiences accepted.
    audience: str
    #: Why several issuers take no issuer or keys: the end of the error refusing them.
    routed_reason: str


@dataclass(frozen=True)
class TokenSources:
    """The values of a provider's :class:`TokenKeys` as configured (``None`` when not set)."""

    issuer: str | None
    jwks_url: str | None
    public_keys: Any
    issuers: Issuers | None
    audience: list[str] | None
    parties: list[str] | None = None


def build_token_provider(
    cls: type[P],
    keys: TokenKeys,
    sources: TokenSources,
    settings: Settings,
    *,
    one_issuer: Callable[[], str],
    dpop: Callable[[], DPoPPolicy],
) -> P:
    """The provider of ``sources``: routed among ``sources.issuers``, else of one issuer.

    ``one_issuer`` validates and returns the single issuer (called only without several
    issuers); ``dpop`` gives the DPoP policy once the issuer, audience and keys are settled.
    """
    parties = frozenset(sources.parties) if sources.parties else None
    if sources.issuers is not None:
        _refuse_with_several(keys, sources)
        audience = _audience(keys, keys.issuers, sources.audience)
        template = settings.policy(issuer="", audience=audience, parties=parties)
        router = IssuerRouter(keys.provider, sources.issuers, template, settings)
        return cls(
            keys.provider, template, NO_KEYS, router=router, dpop=dpop(), nonces=settings.nonces
        )
    issuer = one_issuer()
    audience = _audience(keys, keys.issuer, sources.audience)
    key_source = build_key_source(
        issuer,
        settings,
        jwks_url=sources.jwks_url,
        public_keys=sources.public_keys,
        jwks_key=keys.jwks_url,
        public_keys_key=keys.public_keys,
    )
    policy = settings.policy(issuer=issuer, audience=audience, parties=parties)
    return cls(keys.provider, policy, key_source, dpop=dpop(), nonces=settings.nonces)


def _refuse_with_several(keys: TokenKeys, sources: TokenSources) -> None:
    """Several issuers find their keys by discovery: an issuer or key source is refused."""
    configured = (
        (keys.issuer, sources.issuer),
        (keys.jwks_url, sources.jwks_url),
        (keys.public_keys, sources.public_keys),
    )
    clash = [key for key, value in configured if value is not None]
    if clash:
        raise ConfigurationError(
            f"{keys.issuers} cannot be combined with {', '.join(clash)}: {keys.routed_reason}"
        )


def _audience(keys: TokenKeys, required_by: str, audience: list[str] | None) -> frozenset[str]:
    if not audience:
        raise ConfigurationError(
            f"{keys.audience} is required with {required_by}: set it to this API's "
            "identifier (the 'aud' its tokens carry)."
        )
    return frozenset(audience)


def static_keys(value: Any, key: str) -> StaticKeySet:
    """A networkless key set from a PEM, a JWK/JWKS (dict or JSON text) or a joserfc KeySet."""
    try:
        if isinstance(value, KeySet):
            return StaticKeySet.from_keyset(value)
        if isinstance(value, (str, bytes)):
            text = value.decode() if isinstance(value, bytes) else value
            if text.lstrip().startswith("{"):
                return StaticKeySet.from_jwks(json.loads(text))
            return StaticKeySet.from_pem(text)
        if isinstance(value, Mapping):
            return StaticKeySet.from_jwks(value)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{key} could not be used as a public key: {exc}") from exc
    raise ConfigurationError(
        f"{key} must be a PEM public key, a JWKS (dict or JSON) or a joserfc KeySet, "
        f"got {type(value).__name__}."
    )


def build_key_source(
    issuer: str,
    settings: Settings,
    *,
    jwks_url: str | None,
    public_keys: Any,
    jwks_key: str,
    public_keys_key: str,
) -> KeySource:
    """Discovery, a JWKS URL, or static keys: exactly one, checked at start-up.

    ``jwks_key`` and ``public_keys_key`` name the configuration keys in error messages.
    """
    if jwks_url is not None and public_keys is not None:
        raise ConfigurationError(
            f"{jwks_key} and {public_keys_key} are mutually exclusive: keep one."
        )
    if public_keys is not None:
        return static_keys(public_keys, public_keys_key)
    if jwks_url is not None:
        try:
            check_url(jwks_url, allow_insecure_http=settings.allow_insecure_http, what="JWKS URL")
        except ValueError as exc:
            raise ConfigurationError(f"{jwks_key}: {exc}") from exc
        return settings.key_sets.remote(jwks_url)
    return settings.discovered(issuer)
