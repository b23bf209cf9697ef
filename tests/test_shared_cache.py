"""The shared cache (``IDGUARD_CACHE``): outages as misses, and one fetch for many workers.

Workers are simulated here by separate key-set objects sharing one cachelib cache; the real
thing (processes, Redis) is in ``tests/redis``.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cachelib import SimpleCache

from flask_idguard.core import shared as shared_module
from flask_idguard.core.discovery import DiscoveredJWKS
from flask_idguard.core.fetch import FetchError
from flask_idguard.core.fetch import HttpClient
from flask_idguard.core.jwks import RemoteJWKS
from flask_idguard.core.keys import KeysUnavailable
from flask_idguard.core.shared import PeerFailed
from flask_idguard.core.shared import SharedCache
from flask_idguard.core.shared import single_flight
from flask_idguard.testing import TestIssuer


class LockedCache(SimpleCache):
    """A SimpleCache whose ``add`` is atomic across threads, like Redis ``SET NX``."""

    def __init__(self) -> None:
        super().__init__()
        self._add_lock = threading.Lock()

    def add(self, key: str, value: Any, timeout: Any = None) -> bool:
        with self._add_lock:
            return bool(super().add(key, value, timeout))


class FlakyCache(SimpleCache):
    """Fails while ``down`` is set."""

    down = False

    def get(self, key: str) -> Any:
        if self.down:
            raise ConnectionError("redis down")
        return super().get(key)


def test_an_outage_is_a_miss_logged_once_and_left_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(shared_module, "RETRY_AFTER", 0.05)
    backend = FlakyCache()
    cache = SharedCache(backend)
    cache.set("k", 1, timeout=60)
    assert cache.get("k") == 1
    backend.down = True
    with caplog.at_level(logging.WARNING, logger="flask_idguard"):
        assert [cache.get("k") for _ in range(100)] == [None] * 100
    failures = [r for r in caplog.records if "the shared cache failed" in r.getMessage()]
    assert len(failures) == 1
    assert not cache.available  # left alone for RETRY_AFTER
    backend.down = False
    time.sleep(0.06)
    assert cache.get("k") == 1
    assert "answers again" in caplog.text
    assert SharedCache.of(cache) is cache and SharedCache.of(None) is None


def test_one_worker_fetches_while_the_others_wait_for_its_copy() -> None:
    cache = SharedCache(LockedCache())
    fetches: list[int] = []
    stored: dict[str, int] = {}
    barrier = threading.Barrier(8)

    def worker(i: int) -> int | None:
        def fetch() -> int:
            fetches.append(i)
            time.sleep(0.1)
            stored["value"] = 42
            return 42

        barrier.wait()
        return single_flight(cache, "doc", fetch, lambda: stored.get("value"), hold=5, wait=True)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(worker, range(8)))
    assert results == [42] * 8
    assert len(fetches) == 1


def test_a_peer_failure_is_shared_for_a_moment() -> None:
    cache = SharedCache(LockedCache())

    def failing() -> int:
        raise FetchError("GET https://idp.test/jwks answered HTTP 500")

    with pytest.raises(FetchError):
        single_flight(cache, "doc", failing, lambda: None, hold=5, wait=True)
    with pytest.raises(PeerFailed, match="HTTP 500"):
        single_flight(cache, "doc", lambda: 1, lambda: None, hold=5, wait=True)


def test_a_stuck_lease_does_not_block_anyone() -> None:
    backend = LockedCache()
    backend.set("doc:lease", {"until": time.time() - 1}, timeout=0)  # its holder died
    cache = SharedCache(backend)
    assert single_flight(cache, "doc", lambda: 7, lambda: None, hold=5, wait=True) == 7
    assert single_flight(cache, "doc", lambda: 8, lambda: None, hold=5, wait=False) == 8


def _workers(issuer: TestIssuer, cache: SharedCache, n: int) -> list[DiscoveredJWKS]:
    http = HttpClient(timeout=2)
    return [DiscoveredJWKS(issuer.issuer, http=http, cache=cache) for _ in range(n)]


def test_discovery_and_keys_are_fetched_once_for_concurrent_workers() -> None:
    issuer = TestIssuer()
    cache = SharedCache(LockedCache())
    with issuer.serve():
        sources = _workers(issuer, cache, 6)
        barrier = threading.Barrier(6)

        def verify(source: DiscoveredJWKS) -> object:
            barrier.wait()
            return source.get(issuer.kid)

        with ThreadPoolExecutor(max_workers=6) as pool:
            keys = list(pool.map(verify, sources))
    assert all(key is not None for key in keys)
    assert (issuer.discovery_calls, issuer.jwks_calls) == (1, 1)


def test_a_cold_outage_seen_by_one_worker_spares_the_others_a_fetch() -> None:
    issuer = TestIssuer()
    issuer.fail_with = 500
    cache = SharedCache(LockedCache())
    with issuer.serve():
        first, second = _workers(issuer, cache, 2)
        with pytest.raises(KeysUnavailable, match="500"):
            first.get(issuer.kid)
        with pytest.raises(KeysUnavailable, match="another worker"):
            second.get(issuer.kid)
    assert issuer.discovery_calls == 1


def test_a_stale_worker_serves_its_keys_while_a_peer_refreshes() -> None:
    issuer = TestIssuer()
    cache = SharedCache(LockedCache())
    with issuer.serve():
        http = HttpClient(timeout=2)
        source = RemoteJWKS(issuer.jwks_uri, http=http, ttl=0.1, cooldown=0, cache=cache)
        key = source.get(issuer.kid)
        assert key is not None
        cache.add(source.cache_key + ":lease", {"until": time.time() + 60}, timeout=60)
        time.sleep(0.15)  # stale; a peer holds the lease
        assert source.get(issuer.kid) is key
        assert issuer.jwks_calls == 1
