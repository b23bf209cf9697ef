"""The DPoP ``jti`` replay cache (not in Auth0's SDKs).

It remembers each accepted proof for as long as its ``iat`` keeps it acceptable: in-process and
bounded, or in a shared cachelib cache with an atomic ``add``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from ..shared import SharedCache

__all__ = ["InProcessReplayCache", "SharedReplayCache"]

logger = logging.getLogger("flask_idguard")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class InProcessReplayCache:
    """Bounded, thread-safe set of recently used proofs, each kept for its TTL.

    When full of live entries the oldest one is dropped (and a warning logged): memory
    stays bounded, and a replay needs a proof older than ``size`` newer ones. Share the
    cache between workers with ``IDGUARD_CACHE`` instead.
    """

    def __init__(self, size: int = 100_000, *, what: str = "DPoP proofs") -> None:
        self._size = size
        #: What is remembered, for the warning (the webhook view keeps deliveries here).
        self._what = what
        self._entries: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._warned = False

    def add(self, key: str, ttl: float) -> bool:
        """Remember ``key`` for ``ttl`` seconds; False when it is already remembered."""
        digest = _digest(key)
        now = time.monotonic()
        with self._lock:
            until = self._entries.get(digest)
            if until is not None and until > now:
                return False
            self._entries.pop(digest, None)
            self._expire(now)
            self._entries[digest] = now + ttl
            return True

    def _expire(self, now: float) -> None:
        entries = self._entries
        while entries:
            oldest, until = next(iter(entries.items()))
            if until > now and len(entries) < self._size:
                return
            if until > now and not self._warned:
                self._warned = True
                logger.warning(
                    "Replay cache full (%d live %s); dropping the oldest. Configure "
                    "IDGUARD_CACHE (e.g. a RedisCache) for a larger, shared cache.",
                    self._size,
                    self._what,
                )
            del entries[oldest]

    def __len__(self) -> int:
        return len(self._entries)


class SharedReplayCache:
    """The replay cache in a cachelib cache (``IDGUARD_CACHE``): one for all workers.

    Uses the backend's atomic ``add`` (Redis ``SET NX``, memcached ``add``), so two workers
    never both accept the same proof. While the backend fails (Redis down), proofs are
    remembered in-process (:class:`~flask_idguard.core.shared.SharedCache` logs the outage):
    replays are still caught per worker.
    """

    def __init__(self, cache: Any, prefix: str = "idguard:dpop:jti:") -> None:
        self._cache = SharedCache(cache) if not isinstance(cache, SharedCache) else cache
        self._prefix = prefix
        self._fallback = InProcessReplayCache()

    def add(self, key: str, ttl: float) -> bool:
        """Remember ``key`` for ``ttl`` seconds; False when it is already remembered."""
        added = self._cache.add(self._prefix + _digest(key), 1, timeout=ttl)
        if added is None:  # the shared cache is unavailable
            return self._fallback.add(key, ttl)
        return added
