"""The cache workers and hosts share (``IDGUARD_CACHE``, a cachelib cache such as Redis).

It is an optimisation, never a dependency: :class:`SharedCache` answers a failing backend as
a miss, leaves it alone for :data:`RETRY_AFTER` seconds and logs one warning per outage, so
each worker falls back to what it holds itself. :func:`single_flight` lets one worker fetch a
document while the others wait for the copy it stores.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any
from typing import TypeVar

__all__ = ["RETRY_AFTER", "PeerFailed", "SharedCache", "single_flight"]

logger = logging.getLogger("flask_idguard")

T = TypeVar("T")

#: Seconds a failing shared cache is left alone before it is tried again.
RETRY_AFTER = 2.0
#: Seconds another worker's failed fetch is remembered (the shared cold-retry gap).
FAILURE_TTL = 1
#: Seconds between two looks at the shared cache while another worker fetches.
POLL_INTERVAL = 0.02


class PeerFailed(Exception):
    """Another worker's fetch of the same document failed moments ago."""


class SharedCache:
    """A cachelib cache whose failures are misses: logged once per outage, then skipped for
    :data:`RETRY_AFTER` seconds at a time."""

    def __init__(self, cache: Any) -> None:
        self.cache = cache
        self._skip_until = float("-inf")  # time.monotonic()
        self._down = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SharedCache({self.cache!r})"

    @classmethod
    def of(cls, cache: Any) -> SharedCache | None:
        """``cache`` wrapped (or as is, when it already is a :class:`SharedCache`)."""
        if cache is None or isinstance(cache, SharedCache):
            return cache
        return cls(cache)

    @property
    def available(self) -> bool:
        """False while a failure is being waited out."""
        return time.monotonic() >= self._skip_until

    def get(self, key: str) -> Any:
        """The value, or None (missing, or the cache failed)."""
        return self._call("get", lambda: self.cache.get(key))

    def set(self, key: str, value: Any, timeout: float) -> None:
        self._call("set", lambda: self.cache.set(key, value, timeout=_seconds(timeout)))

    def add(self, key: str, value: Any, timeout: float) -> bool | None:
        """True when stored, False when the key exists, None when the cache is unavailable."""
        added = self._call("add", lambda: self.cache.add(key, value, timeout=_seconds(timeout)))
        return None if added is None else bool(added)

    def delete(self, key: str) -> None:
        self._call("delete", lambda: self.cache.delete(key))

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        if not self.available:
            return None
        try:
            result = call()
        except Exception as exc:  # any backend error: the cache is an optimisation
            self._failed(what, exc)
            return None
        if self._down:
            with self._lock:
                if self._down:
                    self._down = False
                    logger.warning("IDGUARD_CACHE answers again; the workers share it again.")
        return result

    def _failed(self, what: str, exc: Exception) -> None:
        with self._lock:
            self._skip_until = time.monotonic() + RETRY_AFTER
            first = not self._down
            self._down = True
        if first:
            logger.warning(
                "IDGUARD_CACHE: the shared cache failed (%s on %s: %s); each worker uses its "
                "own in-process caches, trying the shared one again every %.0f s.",
                type(exc).__name__,
                what,
                exc,
                RETRY_AFTER,
            )
        else:
            logger.debug("IDGUARD_CACHE still failing (%s: %s)", type(exc).__name__, exc)


def _seconds(timeout: float) -> int:
    return max(1, math.ceil(timeout))


def single_flight(
    shared: SharedCache | None,
    key: str,
    fetch: Callable[[], T],
    read: Callable[[], T | None],
    *,
    hold: float,
    wait: bool,
) -> T | None:
    """``fetch()`` in one worker at a time; the others use the copy it shares.

    The worker that takes the lease ``<key>:lease`` (for at most ``hold`` seconds) fetches;
    the others, when ``wait`` is true, look for the result with ``read()`` until the lease
    is released, then fetch themselves if nothing came. Returns None when another worker is
    fetching and ``wait`` is false.

    :raises PeerFailed: when the worker holding the lease failed moments ago.
    """
    if shared is None:
        return fetch()
    lease = key + ":lease"
    taken = shared.add(lease, {"until": time.time() + hold}, timeout=hold)
    if taken is False:
        holder = shared.get(lease)
        _raise_if_failed(holder)
        if _live(holder) and not wait:
            return None
        result = _await_peer(shared, lease, read, hold) if _live(holder) else read()
        if result is not None:
            return result
    elif taken:
        result = read()  # a peer may have stored it between our miss and the lease
        if result is not None:
            shared.delete(lease)
            return result
    try:
        value = fetch()
    except Exception as exc:
        if taken:
            shared.set(lease, {"failed": str(exc)}, timeout=FAILURE_TTL)
        raise
    if taken:
        shared.delete(lease)
    return value


def _await_peer(
    shared: SharedCache, lease: str, read: Callable[[], T | None], hold: float
) -> T | None:
    """Poll for the lease holder's result; None when it went away without one."""
    for _ in range(math.ceil(hold / POLL_INTERVAL)):
        holder = shared.get(lease)
        _raise_if_failed(holder)
        result = read()
        if result is not None:
            return result
        if not _live(holder):
            return None  # released, expired or unreadable: fetch ourselves
        time.sleep(POLL_INTERVAL)
    return None


def _raise_if_failed(holder: object) -> None:
    if isinstance(holder, dict) and isinstance(holder.get("failed"), str):
        raise PeerFailed(f"another worker's fetch failed: {holder['failed']}")


def _live(holder: object) -> bool:
    """Whether ``holder`` is a lease still held (a stuck one expires by its own deadline)."""
    until = holder.get("until") if isinstance(holder, dict) else None
    return isinstance(until, (int, float)) and time.time() < until
