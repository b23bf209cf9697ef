"""Remote key sets: a JWKS fetched from a URL, and :class:`KeySetOptions`, the one factory.

Remote sets are fetched lazily, cached for a TTL (capped by ``Cache-Control: max-age``), refetched
for an unknown ``kid`` at most once per cooldown window, fetched once for concurrent callers (and,
through a shared cache, for concurrent workers), and served past their TTL (bounded by
``max_stale``) when the identity provider cannot be reached.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import cast

from joserfc.jwk import Key

from .fetch import FetchError
from .fetch import HttpClient
from .keys import KeyIndex
from .keys import KeysUnavailable
from .keys import import_public_jwk
from .shared import PeerFailed
from .shared import SharedCache
from .shared import single_flight
from .urls import safe_url

if TYPE_CHECKING:
    from cachelib import BaseCache

__all__ = ["COLD_RETRY_GAP", "STALE_RETRY_GAP", "KeySetOptions", "RemoteJWKS", "lease_for"]

logger = logging.getLogger("flask_idguard")

#: Minimum gap between two attempts while nothing usable is cached.
COLD_RETRY_GAP = 1.0
#: Upper bound of the gap between two refresh attempts while a stale set is served.
STALE_RETRY_GAP = 5.0


@dataclass(frozen=True, slots=True)
class _KeyState:
    index: KeyIndex
    raw: Mapping[str, object]
    fetched_at: float
    fresh_until: float
    stale_until: float


def _max_age(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``Cache-Control`` (0 for no-store/no-cache), or ``None`` when absent/bad."""
    value = headers.get("Cache-Control")
    if not isinstance(value, str):
        return None
    result: float | None = None
    for directive in value.split(","):
        name, _, arg = directive.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-store", "no-cache"):
            return 0.0
        if name == "max-age":
            arg = arg.strip().strip('"')
            if arg.isdigit():
                result = float(arg)
    return result


def _parse_jwks(data: object) -> list[Key]:
    """Usable keys of a fetched JWKS; raise ValueError when there are none."""
    if not isinstance(data, dict):
        raise ValueError("the JWKS is not a JSON object")
    entries = data.get("keys")
    if not isinstance(entries, list):
        raise ValueError("the JWKS has no 'keys' list")
    keys: list[Key] = []
    seen: set[str | None] = set()
    for i, entry in enumerate(entries):
        try:
            key = import_public_jwk(entry)
        except ValueError as exc:
            logger.debug("skipping JWKS key #%d: %s", i, exc)
            continue
        if key.kid is not None and key.kid in seen:
            logger.debug("skipping JWKS key #%d: duplicate kid", i)
            continue
        seen.add(key.kid)
        keys.append(key)
    if not keys:
        raise ValueError("the JWKS has no usable public signature key")
    return keys


def lease_for(http: HttpClient) -> float:
    """Seconds a worker may hold the shared fetch lease: a fetch with its retries."""
    return 3 * http.timeout + 1


class RemoteJWKS:
    """A JWKS fetched from ``url``: lazy, cached, cooldown-limited, single-flight, stale-if-error.

    ``cache`` (a cachelib cache) shares fetched sets between workers and hosts. Routine
    fetches (cold, past the TTL) are not rate-limited beyond the retry gaps; refetches for an
    unknown ``kid`` are, at most one per ``cooldown`` window.
    """

    def __init__(
        self,
        url: str,
        *,
        http: HttpClient,
        ttl: float = 300,
        cooldown: float = 30,
        max_stale: float = 3600,
        cache: BaseCache | SharedCache | None = None,
    ) -> None:
        if ttl < 0 or cooldown < 0 or max_stale < 0:
            raise ValueError("ttl, cooldown and max_stale must not be negative")
        self.url = url
        self.http = http
        self.ttl = float(ttl)
        self.cooldown = float(cooldown)
        self.max_stale = float(max_stale)
        self.cache = SharedCache.of(cache)
        self.cache_key = "idguard:jwks:" + hashlib.sha256(url.encode()).hexdigest()
        #: Number of HTTP fetch attempts.
        self.fetch_count = 0
        self._state: _KeyState | None = None
        self._lock = threading.Lock()
        self._last_kid_refetch = float("-inf")  # the last refetch for an unknown kid
        self._last_failure = float("-inf")
        self._last_error = ""

    def get(self, kid: str | None) -> Key | None:
        """The key for ``kid``, refreshing the set as needed.

        :raises KeysUnavailable: when no set was ever loaded and none can be fetched, or the
            last good set is older than ``ttl + max_stale`` and cannot be refreshed.
        """
        attempts = self.fetch_count
        state = self._state
        if state is None or not (state.fetched_at <= time.time() < state.fresh_until):
            state = self._refresh()
        key = state.index.find(kid)
        if key is not None or self.fetch_count != attempts:
            return key  # the set was just fetched (or just failed to be): a refetch can't help
        return self._refetch_for(kid)

    # internals ----------------------------------------------------------------------------

    def _within(self, since: float, gap: float) -> bool:
        return 0 <= time.time() - since < gap

    def _refresh(self) -> _KeyState:
        """A fresh state, or the last good one within its staleness bound."""
        state = self._state
        servable = state is not None and state.fetched_at <= time.time() <= state.stale_until
        if servable:
            # Serve the stale set rather than wait for a refresh already under way.
            if not self._lock.acquire(blocking=False):
                return cast(_KeyState, state)
        else:
            self._lock.acquire()
        try:
            now = time.time()
            state = self._state
            if state is not None and state.fetched_at <= now < state.fresh_until:
                return state  # another thread refreshed it
            shared = self._from_shared_cache(now)
            if shared is not None:
                return shared
            usable = state is not None and state.fetched_at <= now <= state.stale_until
            gap = min(self.cooldown, STALE_RETRY_GAP) if usable else COLD_RETRY_GAP
            if not self._within(self._last_failure, gap):
                try:
                    fetched = single_flight(
                        self.cache,
                        self.cache_key,
                        self._fetch,
                        lambda: self._from_shared_cache(time.time()),
                        hold=lease_for(self.http),
                        wait=not usable,
                    )
                    # None: another worker is fetching; the stale set serves meanwhile
                    return fetched if fetched is not None else cast(_KeyState, state)
                except (FetchError, ValueError, PeerFailed) as exc:
                    self._failed(exc)
                    self._warn(cast(_KeyState, state) if usable else None, now)
            if usable:
                return cast(_KeyState, state)
            raise KeysUnavailable(f"no key set from {safe_url(self.url)}: {self._last_error}")
        finally:
            self._lock.release()

    def _warn(self, state: _KeyState | None, now: float) -> None:
        if state is not None:
            logger.warning(
                "Refreshing the JWKS from %s failed (%s); serving the last good key set "
                "fetched %.0f s ago.",
                safe_url(self.url),
                self._last_error,
                now - state.fetched_at,
            )
        else:
            logger.warning(
                "Fetching the JWKS from %s failed: %s", safe_url(self.url), self._last_error
            )

    def _failed(self, exc: Exception) -> None:
        self._last_failure = time.time()
        self._last_error = str(exc)

    def _refetch_for(self, kid: str | None) -> Key | None:
        """One refetch for a ``kid`` the current set does not hold, at most one per cooldown
        window (routine fetches do not count)."""
        if self._within(self._last_kid_refetch, self.cooldown):
            return None
        with self._lock:
            state = self._state
            if state is not None:
                key = state.index.find(kid)
                if key is not None:
                    return key  # another thread's refetch brought it
            if self._within(self._last_kid_refetch, self.cooldown):
                return None
            now = time.time()
            self._last_kid_refetch = now
            known = state.fetched_at if state is not None else float("-inf")
            shared = self._from_shared_cache(now, newer_than=known)
            if shared is not None:
                key = shared.index.find(kid)
                if key is not None:
                    return key
            try:
                return self._fetch().index.find(kid)
            except (FetchError, ValueError) as exc:
                self._failed(exc)
                logger.warning(
                    "Refetching the JWKS from %s for an unknown kid failed: %s",
                    safe_url(self.url),
                    self._last_error,
                )
                return None

    def _fetch(self) -> _KeyState:
        """One HTTP attempt (lock held); install and share the set.

        :raises FetchError: or ValueError (not a usable JWKS).
        """
        self.fetch_count += 1
        data, headers = self.http.get_json(self.url)
        if not isinstance(data, dict):
            raise ValueError("the JWKS is not a JSON object")
        fetched_at = time.time()
        fresh_for = self._fresh_for(_max_age(headers))
        state = self._install(data, fetched_at, fresh_for)
        if self.cache is not None:
            entry = {"jwks": state.raw, "fetched_at": fetched_at, "fresh_for": fresh_for}
            self.cache.set(self.cache_key, entry, timeout=self.ttl + self.max_stale)
        return state

    def _fresh_for(self, max_age: float | None) -> float:
        # Cache-Control may shorten the TTL, but not below the cooldown: a `no-cache` JWKS
        # endpoint must not turn every request into a fetch.
        if max_age is None:
            return self.ttl
        return min(self.ttl, max(max_age, self.cooldown))

    def _install(
        self,
        raw: Mapping[str, object],
        fetched_at: float,
        fresh_for: float,
    ) -> _KeyState:
        """Make ``raw`` the current set; keys are imported only when ``raw`` changed."""
        old = self._state
        if old is not None and old.raw == raw:
            index = old.index  # unchanged: keep the imported keys
        else:
            index = KeyIndex.build(_parse_jwks(raw))
        state = _KeyState(
            index=index,
            raw=raw,
            fetched_at=fetched_at,
            fresh_until=fetched_at + fresh_for,
            stale_until=fetched_at + self.ttl + self.max_stale,
        )
        self._state = state
        self._last_failure = float("-inf")
        return state

    def _from_shared_cache(
        self, now: float, *, newer_than: float = float("-inf")
    ) -> _KeyState | None:
        """Install a fresh set another worker stored in the shared cache, if any."""
        if self.cache is None:
            return None
        entry = self.cache.get(self.cache_key)
        if not isinstance(entry, dict):
            return None
        raw = entry.get("jwks")
        fetched_at = entry.get("fetched_at")
        fresh_for = entry.get("fresh_for")
        if not (
            isinstance(raw, dict)
            and isinstance(fetched_at, (int, float))
            and isinstance(fresh_for, (int, float))
        ):
            return None
        fresh_for = min(float(fresh_for), self.ttl)
        if not (fetched_at <= now < fetched_at + fresh_for) or fetched_at <= newer_than:
            return None
        try:
            return self._install(raw, float(fetched_at), fresh_for)
        except ValueError:
            return None


@dataclass(frozen=True)
class KeySetOptions:
    """How remote key sets are fetched and kept: the one place :class:`RemoteJWKS` (and
    :class:`~.discovery.DiscoveredJWKS`) objects are made from configured settings."""

    http: HttpClient
    ttl: float = 300
    cooldown: float = 30
    max_stale: float = 3600
    cache: BaseCache | SharedCache | None = None

    def remote(
        self, url: str, *, http: HttpClient | None = None, cache_key: str | None = None
    ) -> RemoteJWKS:
        """The key set at ``url``; ``http`` replaces the client (e.g. one that sends a secret),
        ``cache_key`` the shared-cache entry's name."""
        jwks = RemoteJWKS(
            url,
            http=http or self.http,
            ttl=self.ttl,
            cooldown=self.cooldown,
            max_stale=self.max_stale,
            cache=self.cache,
        )
        if cache_key is not None:
            jwks.cache_key = cache_key
        return jwks
