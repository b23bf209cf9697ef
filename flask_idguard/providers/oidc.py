"""The generic OIDC provider: any issuer with discovery or a JWKS (``IDGUARD_*`` keys)."""

from __future__ import annotations

from collections.abc import Callable

from ..config import ConfigReader
from ..core.urls import check_url
from ..errors import ConfigurationError
from .issuers import Issuers
from .settings import Settings
from .token import TokenProvider
from .token_config import TokenKeys
from .token_config import TokenSources
from .token_config import build_token_provider

__all__ = ["OIDCProvider"]

KEYS = TokenKeys(
    provider="oidc",
    issuer="IDGUARD_ISSUER",
    issuers="IDGUARD_ISSUERS",
    jwks_url="IDGUARD_JWKS_URL",
    public_keys="IDGUARD_PUBLIC_KEYS",
    audience="IDGUARD_AUDIENCE",
    routed_reason="each of several issuers is verified with the keys its discovery document names.",
)


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
        if issuers is None and issuer is None:
            if audience or jwks_url or public_keys is not None or parties:
                raise ConfigurationError(
                    "IDGUARD_ISSUER is not set, but other IDGUARD_ provider keys are: set "
                    "IDGUARD_ISSUER to the issuer URL (the exact 'iss' of its tokens)."
                )
            return None
        return build_token_provider(
            cls,
            KEYS,
            TokenSources(issuer, jwks_url, public_keys, issuers, audience, parties),
            settings,
            one_issuer=lambda: _one_issuer(issuer, settings),
            dpop=lambda: settings.dpop_policy(reader, "IDGUARD_DPOP"),
        )


def _one_issuer(issuer: str | None, settings: Settings) -> str:
    """``IDGUARD_ISSUER``, checked (set whenever ``IDGUARD_ISSUERS`` is not)."""
    assert issuer is not None
    try:
        check_url(issuer, allow_insecure_http=settings.allow_insecure_http, what="issuer")
    except ValueError as exc:
        raise ConfigurationError(f"IDGUARD_ISSUER: {exc}") from exc
    return issuer


def _issuer_url(settings: Settings) -> Callable[[str], str]:
    """Check an ``IDGUARD_ISSUERS`` entry (an issuer URL, kept exactly as written)."""

    def check(url: str) -> str:
        check_url(url, allow_insecure_http=settings.allow_insecure_http, what=f"issuer {url!r}")
        return url

    return check
