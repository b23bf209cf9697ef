"""Settings shared by every provider, read once at ``init_app``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import ConfigReader
from ..errors import ConfigurationError
from ..http import HttpClient
from ..jwt import ASYMMETRIC_ALGORITHMS

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
    cache: Any
    http: HttpClient

    @classmethod
    def from_config(cls, reader: ConfigReader) -> Settings:
        algorithms = reader.strings("IDGUARD_ALGORITHMS", ["RS256"]) or []
        bad = sorted(a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS)
        if bad or not algorithms:
            raise ConfigurationError(
                f"IDGUARD_ALGORITHMS contains {bad or 'nothing'}: only asymmetric algorithms "
                f"are accepted ({', '.join(sorted(ASYMMETRIC_ALGORITHMS))}). HS* and none are "
                "refused because a public key must never be usable as an HMAC secret."
            )
        timeout = reader.number("IDGUARD_HTTP_TIMEOUT", 5)
        if timeout == 0:
            raise ConfigurationError("IDGUARD_HTTP_TIMEOUT must be more than 0 seconds.")
        cache = reader.raw("IDGUARD_CACHE")
        if cache is not None and not all(hasattr(cache, m) for m in ("get", "set")):
            raise ConfigurationError(
                "IDGUARD_CACHE must be a cachelib cache (e.g. cachelib.RedisCache(...)), "
                f"got {type(cache).__name__}."
            )
        return cls(
            algorithms=frozenset(algorithms),
            clock_skew=reader.number("IDGUARD_CLOCK_SKEW", 5),
            http_timeout=timeout,
            jwks_cache_ttl=reader.number("IDGUARD_JWKS_CACHE_TTL", 300),
            jwks_cooldown=reader.number("IDGUARD_JWKS_COOLDOWN", 30),
            allow_insecure_http=reader.flag("IDGUARD_ALLOW_INSECURE_HTTP", False),
            cache=cache,
            http=HttpClient(timeout=timeout),
        )
