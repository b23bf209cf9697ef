"""The generic OIDC provider: any issuer with discovery or a JWKS (``IDGUARD_*`` keys)."""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from joserfc.jwk import KeySet

from ..config import ConfigReader
from ..core.keys import KeySource
from ..core.keys import StaticKeySet
from ..core.urls import check_url
from ..errors import ConfigurationError
from .issuers import NO_KEYS
from .issuers import IssuerRouter
from .issuers import Issuers
from .settings import Settings
from .token import TokenProvider

__all__ = ["OIDCProvider", "build_key_source", "static_keys"]


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


class OIDCProvider(TokenProvider):
    """Access tokens of one OIDC issuer, enabled by ``IDGUARD_ISSUER`` + ``IDGUARD_AUDIENCE``."""

    @classmethod
    def from_config(cls, reader: ConfigReader, settings: Settings) -> OIDCProvider | None:
        issuer = reader.string("IDGUARD_ISSUER")
        audience = reader.strings("IDGUARD_AUDIENCE")
        jwks_url = reader.string("IDGUARD_JWKS_URL")
        public_keys = reader.raw("IDGUARD_PUBLIC_KEYS")
        parties = reader.strings("IDGUARD_AUTHORIZED_PARTIES")
        issuers = Issuers.from_config(reader, "IDGUARD_ISSUERS", _issuer_url(settings))
        if issuers is not None:
            clash = [k for k, v in (("IDGUARD_ISSUER", issuer), ("IDGUARD_JWKS_URL", jwks_url),
                     ("IDGUARD_PUBLIC_KEYS", public_keys)) if v is not None]  # fmt: skip
            if clash:
                raise ConfigurationError(
                    f"IDGUARD_ISSUERS cannot be combined with {', '.join(clash)}: each of "
                    "several issuers is verified with the keys its discovery document names."
                )
            if not audience:
                raise ConfigurationError(
                    "IDGUARD_AUDIENCE is required with IDGUARD_ISSUERS: set it to this API's "
                    "identifier (the 'aud' its tokens carry)."
                )
            template = settings.policy(
                issuer="",
                audience=frozenset(audience),
                parties=frozenset(parties) if parties else None,
            )
            router = IssuerRouter("oidc", issuers, template, settings)
            return cls(
                "oidc",
                template,
                NO_KEYS,
                router=router,
                dpop=settings.dpop_policy(reader, "IDGUARD_DPOP"),
                nonces=settings.nonces,
            )
        if issuer is None:
            if audience or jwks_url or public_keys is not None or parties:
                raise ConfigurationError(
                    "IDGUARD_ISSUER is not set, but other IDGUARD_ provider keys are: set "
                    "IDGUARD_ISSUER to the issuer URL (the exact 'iss' of its tokens)."
                )
            return None
        try:
            check_url(issuer, allow_insecure_http=settings.allow_insecure_http, what="issuer")
        except ValueError as exc:
            raise ConfigurationError(f"IDGUARD_ISSUER: {exc}") from exc
        if not audience:
            raise ConfigurationError(
                "IDGUARD_AUDIENCE is required with IDGUARD_ISSUER: set it to this API's "
                "identifier (the 'aud' its tokens carry)."
            )
        keys = build_key_source(
            issuer,
            settings,
            jwks_url=jwks_url,
            public_keys=public_keys,
            jwks_key="IDGUARD_JWKS_URL",
            public_keys_key="IDGUARD_PUBLIC_KEYS",
        )
        policy = settings.policy(
            issuer=issuer,
            audience=frozenset(audience),
            parties=frozenset(parties) if parties else None,
        )
        dpop = settings.dpop_policy(reader, "IDGUARD_DPOP")
        return cls("oidc", policy, keys, dpop=dpop, nonces=settings.nonces)


def _issuer_url(settings: Settings) -> Callable[[str], str]:
    """Check an ``IDGUARD_ISSUERS`` entry (an issuer URL, kept exactly as written)."""

    def check(url: str) -> str:
        check_url(url, allow_insecure_http=settings.allow_insecure_http, what=f"issuer {url!r}")
        return url

    return check
