"""Settings shared by every provider, read once at ``init_app``."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from types import MappingProxyType
from typing import Any
from typing import cast

from ..config import ConfigReader
from ..core.discovery import DiscoveredJWKS
from ..core.dpop import DEFAULT_ALGORITHMS
from ..core.dpop import MODES
from ..core.dpop import DPoPPolicy
from ..core.dpop import InProcessReplayCache
from ..core.dpop import Mode
from ..core.dpop import NonceIssuer
from ..core.dpop import SharedReplayCache
from ..core.dpop import proof_algorithms
from ..core.fetch import HttpClient
from ..core.jwks import KeySetOptions
from ..core.jwks import RemoteJWKS
from ..core.jwt import Policy
from ..core.jwt import Validator
from ..core.jwt import check_algorithms
from ..core.shared import SharedCache
from ..errors import ConfigurationError

#: The RFC 9068 profile (``IDGUARD_STRICT``): explicit type and the required claims.
RFC9068_TYP: frozenset[str | None] = frozenset({"at+jwt", "application/at+jwt"})
RFC9068_CLAIMS = frozenset({"iss", "exp", "aud", "sub", "client_id", "iat", "jti"})
#: Built-in checks a validator set to ``False`` may switch off.
_DISABLEABLE = frozenset({"iss", "aud", "azp"})

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """The ``IDGUARD_*`` keys that apply to all providers."""

    algorithms: frozenset[str]
    clock_skew: float
    http_timeout: float
    jwks_cache_ttl: float
    jwks_cooldown: float
    allow_insecure_http: bool
    #: ``IDGUARD_CACHE``, wrapped once so that every user sees one outage (and one warning).
    cache: SharedCache | None
    http: HttpClient
    allow_query_token: bool = False
    allow_form_token: bool = False
    max_token_age: float | None = None
    strict: bool = False
    required_claims: frozenset[str] = frozenset()
    validators: Mapping[str, Validator | bool] = field(default_factory=dict)
    #: Shared DPoP rules (``IDGUARD_DPOP_*``); each provider adds its mode.
    dpop: DPoPPolicy = field(default_factory=DPoPPolicy)
    nonces: NonceIssuer | None = None

    @property
    def key_sets(self) -> KeySetOptions:
        """How remote key sets are fetched and kept (``IDGUARD_JWKS_*``, ``IDGUARD_CACHE``)."""
        return KeySetOptions(
            self.http, ttl=self.jwks_cache_ttl, cooldown=self.jwks_cooldown, cache=self.cache
        )

    def discovered(
        self, issuer: str, *, jwks_factory: Callable[[str], RemoteJWKS] | None = None
    ) -> DiscoveredJWKS:
        """The key set that ``issuer``'s discovery document names."""
        options = self.key_sets
        return DiscoveredJWKS(
            issuer,
            http=options.http,
            ttl=options.ttl,
            cooldown=options.cooldown,
            max_stale=options.max_stale,
            cache=options.cache,
            allow_insecure_http=self.allow_insecure_http,
            jwks_factory=jwks_factory,
        )

    def dpop_policy(self, reader: ConfigReader, *keys: str) -> DPoPPolicy:
        """The DPoP policy of a provider whose mode is the first of ``keys`` that is set."""
        mode: str = "allowed"
        for key in keys:
            value = reader.string(key)
            if value is not None:
                mode = value.lower()
                if mode not in MODES:
                    raise ConfigurationError(
                        f"{key} must be one of {', '.join(MODES)}, got {value!r}."
                    )
                break
        return replace(self.dpop, mode=cast(Mode, mode))

    def policy(
        self, *, issuer: str, audience: frozenset[str], parties: frozenset[str] | None = None
    ) -> Policy:
        """The verification policy of a token provider for ``issuer`` and ``audience``."""
        disabled = {k for k, v in self.validators.items() if v is False}
        return Policy(
            algorithms=self.algorithms,
            issuer=issuer,
            check_issuer="iss" not in disabled,
            audience=None if "aud" in disabled else audience,
            authorized_parties=None if "azp" in disabled else parties,
            leeway=self.clock_skew,
            typ=RFC9068_TYP if self.strict else None,
            max_token_age=self.max_token_age,
            required_claims=self.required_claims | (RFC9068_CLAIMS if self.strict else set()),
            validators={k: v for k, v in self.validators.items() if v is not False},
        )

    def overridden(
        self,
        reader: ConfigReader,
        *,
        algorithms: str,
        clock_skew: str,
        max_token_age: str,
        strict: str,
    ) -> Settings:
        """These settings with a provider's own keys (e.g. ``AUTH0_ALGORITHMS``) applied.

        Each argument names the key that, when set, replaces the ``IDGUARD_*`` value.
        """
        changes: dict[str, Any] = {}
        if reader.raw(algorithms) is not None:
            try:
                changes["algorithms"] = check_algorithms(reader.strings(algorithms) or [])
            except ValueError as exc:
                raise ConfigurationError(f"{algorithms}: {exc}") from None
        if reader.raw(clock_skew) is not None:
            changes["clock_skew"] = reader.number(clock_skew, 5)
        if reader.raw(max_token_age) is not None:
            changes["max_token_age"] = reader.number(max_token_age, 0, minimum=1)
        if reader.raw(strict) is not None:
            changes["strict"] = reader.flag(strict, False)
        return replace(self, **changes) if changes else self

    @classmethod
    def from_config(cls, reader: ConfigReader) -> Settings:
        try:
            algorithms = check_algorithms(reader.strings("IDGUARD_ALGORITHMS", ["RS256"]) or [])
        except ValueError as exc:
            raise ConfigurationError(f"IDGUARD_ALGORITHMS: {exc}") from None
        timeout = reader.number("IDGUARD_HTTP_TIMEOUT", 5)
        if timeout == 0:
            raise ConfigurationError("IDGUARD_HTTP_TIMEOUT must be more than 0 seconds.")
        cache = reader.raw("IDGUARD_CACHE")
        if cache is not None and not all(hasattr(cache, m) for m in ("get", "set", "add")):
            raise ConfigurationError(
                "IDGUARD_CACHE must be a cachelib cache (e.g. cachelib.RedisCache(...)), "
                f"got {type(cache).__name__}."
            )
        shared = SharedCache.of(cache)
        max_age = reader.raw("IDGUARD_MAX_TOKEN_AGE")
        nonces = _nonces(reader)
        return cls(
            dpop=_dpop(reader, shared, nonces),
            nonces=nonces,
            allow_query_token=reader.flag("IDGUARD_ALLOW_QUERY_TOKEN", False),
            allow_form_token=reader.flag("IDGUARD_ALLOW_FORM_TOKEN", False),
            max_token_age=(
                reader.number("IDGUARD_MAX_TOKEN_AGE", 0, minimum=1)
                if max_age is not None
                else None
            ),
            strict=reader.flag("IDGUARD_STRICT", False),
            required_claims=frozenset(reader.strings("IDGUARD_REQUIRED_CLAIMS") or ()),
            validators=_validators(reader.raw("IDGUARD_VALIDATORS")),
            algorithms=algorithms,
            clock_skew=reader.number("IDGUARD_CLOCK_SKEW", 5),
            http_timeout=timeout,
            jwks_cache_ttl=reader.number("IDGUARD_JWKS_CACHE_TTL", 300, minimum=1),
            jwks_cooldown=reader.number("IDGUARD_JWKS_COOLDOWN", 30),
            allow_insecure_http=reader.flag("IDGUARD_ALLOW_INSECURE_HTTP", False),
            cache=shared,
            http=HttpClient(timeout=timeout),
        )


def _dpop(
    reader: ConfigReader, cache: SharedCache | None, nonces: NonceIssuer | None
) -> DPoPPolicy:
    """The shared DPoP rules: ``IDGUARD_DPOP_ALGORITHMS``, ``_IAT_OFFSET``, ``_IAT_LEEWAY``..."""
    try:
        algorithms = proof_algorithms(
            reader.strings("IDGUARD_DPOP_ALGORITHMS", list(DEFAULT_ALGORITHMS)) or []
        )
    except ValueError as exc:
        raise ConfigurationError(f"IDGUARD_DPOP_ALGORITHMS: {exc}") from None
    replay = SharedReplayCache(cache) if cache is not None else InProcessReplayCache()
    return DPoPPolicy(
        algorithms=algorithms,
        iat_offset=reader.number("IDGUARD_DPOP_IAT_OFFSET", 300),
        iat_leeway=reader.number("IDGUARD_DPOP_IAT_LEEWAY", 30),
        reject_bound_bearer=reader.flag("IDGUARD_DPOP_REJECT_BOUND_BEARER", False),
        nonce_check=nonces.check if nonces is not None else None,
        replay_check=replay.add,
    )


def _nonces(reader: ConfigReader) -> NonceIssuer | None:
    """``IDGUARD_DPOP_NONCE``: a secret (str/bytes), True (a random per-process secret), off."""
    value = reader.raw("IDGUARD_DPOP_NONCE")
    if isinstance(value, str) and value.strip().lower() in ("", "0", "false", "no", "off"):
        return None
    if value is None or value is False:
        return None
    if value is True or (
        isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on")
    ):
        secret = secrets.token_bytes(32)
    elif isinstance(value, (str, bytes)):
        secret = value.encode() if isinstance(value, str) else value
        if len(secret) < 16:
            raise ConfigurationError(
                "IDGUARD_DPOP_NONCE must be a secret of at least 16 bytes (or True)."
            )
    else:
        raise ConfigurationError(
            f"IDGUARD_DPOP_NONCE must be a secret string or True, got {type(value).__name__}."
        )
    lifetime = reader.number("IDGUARD_DPOP_NONCE_LIFETIME", 300, minimum=1)
    return NonceIssuer(secret, lifetime)


def _validators(value: Any) -> Mapping[str, Validator | bool]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            "IDGUARD_VALIDATORS must be a dict of claim name → False, a literal, or "
            f"fn(value, claims, header) -> bool; got {type(value).__name__}."
        )
    for name, check in value.items():
        if not isinstance(name, str):
            raise ConfigurationError("IDGUARD_VALIDATORS keys must be claim names (strings).")
        if check is False and name not in _DISABLEABLE:
            raise ConfigurationError(
                f"IDGUARD_VALIDATORS[{name!r}] = False: only the built-in checks "
                f"{', '.join(sorted(_DISABLEABLE))} can be switched off."
            )
        if not (callable(check) or isinstance(check, (str, int, float, bool))):
            raise ConfigurationError(
                f"IDGUARD_VALIDATORS[{name!r}] must be False, a str/number/bool literal, or a "
                "callable fn(value, claims, header) -> bool."
            )
    return MappingProxyType(dict(value))
