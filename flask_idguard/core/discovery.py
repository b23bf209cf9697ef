"""OIDC discovery (or RFC 8414): the key set named by an issuer's metadata document.

The document is fetched lazily and kept for the key-set TTL (shared between workers through the
shared cache, like key sets); its ``issuer`` must equal the configured issuer exactly, and its
``jwks_uri`` passes the same URL rules as a configured one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from joserfc.jwk import Key

if TYPE_CHECKING:
    from cachelib import BaseCache

from .fetch import FetchError
from .fetch import HttpClient
from .jwks import COLD_RETRY_GAP
from .jwks import STALE_RETRY_GAP
from .jwks import KeySetOptions
from .jwks import RemoteJWKS
from .jwks import lease_for
from .keys import KeysUnavailable
from .shared import PeerFailed
from .shared import SharedCache
from .shared import single_flight
from .urls import check_url

__all__ = ["DiscoveredJWKS", "IssuerMismatch"]

logger = logging.getLogger("flask_idguard")


class IssuerMismatch(KeysUnavailable):
    """The discovery document names another issuer: its keys must not verify this issuer's
    tokens. Not an outage: answered ``401 invalid_token``, not ``503``."""


class _MismatchedIssuer(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class _Metadata:
    data: Mapping[str, object]
    jwks_uri: str
    fetched_at: float
    fresh_until: float


class DiscoveredJWKS:
    """The JWKS named by ``issuer``'s OpenID Connect (or RFC 8414) discovery document."""

    def __init__(
        self,
        issuer: str,
        *,
        http: HttpClient,
        ttl: float = 300,
        cooldown: float = 30,
        max_stale: float = 3600,
        cache: BaseCache | SharedCache | None = None,
        allow_insecure_http: bool = False,
        jwks_factory: Callable[[str], RemoteJWKS] | None = None,
    ) -> None:
        if ttl < 0 or cooldown < 0 or max_stale < 0:
            raise ValueError("ttl, cooldown and max_stale must not be negative")
        self.issuer = issuer
        #: Builds (or shares) the key set of a discovered ``jwks_uri``; default: a new one.
        self.jwks_factory = jwks_factory
        self.http = http
        self.ttl = float(ttl)
        self.cooldown = float(cooldown)
        self.max_stale = float(max_stale)
        self.cache = SharedCache.of(cache)
        self.cache_key = "idguard:discovery:" + hashlib.sha256(issuer.encode()).hexdigest()
        self.allow_insecure_http = allow_insecure_http
        self._options = KeySetOptions(http, self.ttl, self.cooldown, self.max_stale, self.cache)
        #: Number of discovery document fetch attempts (each URL tried counts).
        self.fetch_count = 0
        self._meta: _Metadata | None = None
        self._jwks: RemoteJWKS | None = None
        self._lock = threading.Lock()
        self._last_failure = float("-inf")
        self._last_error = ""
        self._mismatch = False

    @property
    def metadata(self) -> Mapping[str, object] | None:
        """The last good discovery document, or ``None``."""
        meta = self._meta
        return meta.data if meta is not None else None

    @property
    def jwks(self) -> RemoteJWKS | None:
        """The key set of the current ``jwks_uri`` (``None`` before discovery)."""
        return self._jwks

    def get(self, kid: str | None) -> Key | None:
        """The key for ``kid`` from the discovered JWKS.

        :raises KeysUnavailable: when discovery or the JWKS cannot be had.
        """
        meta = self._meta
        jwks = self._jwks
        if meta is None or jwks is None or not (meta.fetched_at <= time.time() < meta.fresh_until):
            jwks = self._discover()
        return jwks.get(kid)

    def _discovery_urls(self) -> list[str]:
        base = self.issuer.rstrip("/")
        parts = urlsplit(self.issuer)
        path = parts.path.rstrip("/")
        rfc8414 = f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{path}"
        return [base + "/.well-known/openid-configuration", rfc8414]

    def _discover(self) -> RemoteJWKS:
        jwks = self._jwks
        if jwks is not None and not self._lock.acquire(blocking=False):
            return jwks  # a refresh is under way; keep using the known jwks_uri
        if jwks is None:
            self._lock.acquire()
        try:
            now = time.time()
            meta = self._meta
            if meta is not None and self._jwks is not None and meta.fetched_at <= now:
                if now < meta.fresh_until:
                    return self._jwks
            shared = self._from_shared_cache(now)
            if shared is not None:
                return shared
            gap = COLD_RETRY_GAP if self._jwks is None else min(self.cooldown, STALE_RETRY_GAP)
            if not (0 <= now - self._last_failure < gap):
                try:
                    jwks = single_flight(
                        self.cache,
                        self.cache_key,
                        self._fetch_metadata,
                        lambda: self._from_shared_cache(time.time()),
                        hold=2 * lease_for(self.http),
                        wait=self._jwks is None,
                    )
                    if jwks is not None:
                        return jwks
                except (FetchError, ValueError, PeerFailed) as exc:
                    self._last_failure = time.time()
                    self._last_error = str(exc)
                    self._mismatch = isinstance(exc, _MismatchedIssuer)
                    logger.warning("OIDC discovery for %s failed: %s", self.issuer, exc)
            if self._jwks is not None:
                return self._jwks
            error = IssuerMismatch if self._mismatch else KeysUnavailable
            raise error(f"OIDC discovery for {self.issuer} failed: {self._last_error}")
        finally:
            self._lock.release()

    def _fetch_metadata(self) -> RemoteJWKS:
        first, second = self._discovery_urls()
        self.fetch_count += 1
        try:
            data, _ = self.http.get_json(first)
        except FetchError as exc:
            if exc.status != 404:
                raise
            self.fetch_count += 1
            data, _ = self.http.get_json(second)
        now = time.time()
        jwks = self._accept(data, now)
        if self.cache is not None:
            entry = {"metadata": data, "fetched_at": now}
            self.cache.set(self.cache_key, entry, timeout=self.ttl)
        return jwks

    def _accept(self, data: object, fetched_at: float) -> RemoteJWKS:
        """Check a discovery document and make it the current one.

        :raises ValueError: when it is unusable or names another issuer.
        """
        if not isinstance(data, dict):
            raise ValueError("the discovery document is not a JSON object")
        issuer = data.get("issuer")
        if not isinstance(issuer, str):
            raise ValueError("the discovery document has no 'issuer' string")
        if issuer != self.issuer:
            raise _MismatchedIssuer(
                f"the discovery document's issuer {issuer!r} does not equal the configured "
                f"issuer {self.issuer!r}"
            )
        jwks_uri = data.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise ValueError("the discovery document has no 'jwks_uri' string")
        check_url(jwks_uri, allow_insecure_http=self.allow_insecure_http, what="jwks_uri")
        self._meta = _Metadata(data, jwks_uri, fetched_at, fetched_at + self.ttl)
        self._last_failure = float("-inf")
        jwks = self._jwks
        if jwks is None or jwks.url != jwks_uri:
            factory = self.jwks_factory or self._options.remote
            jwks = factory(jwks_uri)
            self._jwks = jwks
        return jwks

    def _from_shared_cache(self, now: float) -> RemoteJWKS | None:
        """Take a fresh document another worker stored in the shared cache, if any."""
        if self.cache is None:
            return None
        entry = self.cache.get(self.cache_key)
        if not isinstance(entry, dict):
            return None
        fetched_at = entry.get("fetched_at")
        if not isinstance(fetched_at, (int, float)) or not (
            fetched_at <= now < fetched_at + self.ttl
        ):
            return None
        try:
            return self._accept(entry.get("metadata"), float(fetched_at))
        except ValueError:
            return None
