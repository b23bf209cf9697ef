"""What a remembered token costs the process: few objects for the cyclic garbage collector.

Every object the collector tracks that a full verified-token cache keeps makes full
collections come sooner (they are triggered by the objects that survive) and take longer
(they walk every tracked object). A cached bearer token keeps its state and its claims
(objects and arrays), and shares its scope, permission and role sets with every token that
has the same ones; the window of an entry is an untracked tuple of two floats.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

from flask import Flask

from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard.core.cache import VerifiedCache
from flask_idguard.core.frozen import EMPTY_SET
from flask_idguard.core.frozen import shared_set
from flask_idguard.providers.clerk import verify as clerk_verify
from flask_idguard.testing import ClerkTestInstance
from flask_idguard.testing import TestIssuer

TOKENS = 300


def tracked_objects() -> int:
    gc.collect()
    return len(gc.get_objects())


def oidc_app(issuer: TestIssuer) -> Flask:
    app = Flask("footprint")
    app.config.update(IDGUARD_ISSUER=issuer.issuer, IDGUARD_AUDIENCE=issuer.audience,
                      IDGUARD_PUBLIC_KEYS=issuer.jwks())  # fmt: skip
    IdGuard(app)

    @app.get("/me")
    @requires_auth
    def me() -> Any:
        return {"sub": current_auth.user_id}

    return app


def test_a_cached_bearer_token_keeps_three_tracked_objects(issuer: TestIssuer) -> None:
    """The state, the claims object and its one array (``permissions``): nine before."""
    client = oidc_app(issuer).test_client()
    claims = {"scope": "read:users write:users", "permissions": ["read:users", "write:users"]}
    tokens = [issuer.token({**claims, "jti": f"j{n}"}) for n in range(TOKENS + 10)]
    for token in tokens[:10]:  # the first requests' one-off allocations are not the entries'
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    before = tracked_objects()
    for token in tokens[10:]:
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    per_token = (tracked_objects() - before) / TOKENS
    assert 2.9 <= per_token <= 3.1, per_token


def test_a_cached_clerk_session_token_keeps_its_claims_only(
    idguard_clerk: ClerkTestInstance,
) -> None:
    prod = idguard_clerk
    """The verified claims (Clerk's carry the ``fva`` array): two tracked objects. The parse
    cache's entries are not counted: it is bounded in bytes, not by the traffic."""
    app = Flask("footprint-clerk")
    app.config.update(prod.config())
    IdGuard(app)

    @app.get("/me")
    @requires_auth
    def me() -> Any:
        return {"sub": current_auth.user_id}

    client = app.test_client(use_cookies=False)
    tokens = [prod.session_token(f"user_{n}") for n in range(TOKENS + 10)]
    for token in tokens[:10]:
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    clerk_verify.PARSED.clear()
    before = tracked_objects()
    for token in tokens[10:]:
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    clerk_verify.PARSED.clear()
    per_token = (tracked_objects() - before) / TOKENS
    assert 1.9 <= per_token <= 2.1, per_token


def test_states_share_equal_sets() -> None:
    assert shared_set(["b", "a"]) is shared_set(("a", "b", "a"))
    assert shared_set([]) is EMPTY_SET
    big = [f"p{n}" for n in range(100)]
    assert shared_set(big) == frozenset(big)  # kept out of the table, still right


def test_the_shared_set_table_is_bounded() -> None:
    from flask_idguard.core import frozen

    for n in range(frozen._SHARED_MAX * 3):
        assert shared_set([f"scope-{n}"]) == {f"scope-{n}"}
    assert len(frozen._SHARED) <= frozen._SHARED_MAX


def test_verified_cache_windows_are_half_open() -> None:
    cache: VerifiedCache[str] = VerifiedCache(size=8)
    cache.put("t", 10.0, 20.0, "state")
    assert cache.get("t", 9.999) is None
    assert cache.get("t", 10.0) == "state"
    assert cache.get("t", 19.999) == "state"
    assert cache.get("t", 20.0) is None
    assert cache.window("t") == (10.0, 20.0)
    assert cache.get("unknown", 15.0) is None and cache.window("unknown") is None


def test_verified_cache_lets_the_oldest_entry_go_for_each_new_one_when_full() -> None:
    cache: VerifiedCache[int] = VerifiedCache(size=16)
    for n in range(16):
        cache.put(n, 0.0, 100.0, n)
    cache.put(0, 0.0, 50.0, 0)  # an update of a present entry evicts nothing
    assert len(cache) == 16 and cache.window(0) == (0.0, 50.0)
    cache.put(16, 0.0, 100.0, 16)
    assert len(cache) == 16
    assert cache.get(0, 1.0) is None  # the oldest, updated or not
    assert all(cache.get(n, 1.0) == n for n in range(1, 17))
    for n in range(17, 100):
        cache.put(n, 0.0, 100.0, n)
        assert len(cache) == 16 and len(cache._order) == 16
    assert list(cache._windows) == list(range(84, 100))


def test_a_full_verified_cache_does_not_make_collections_come_sooner() -> None:
    """The collector runs its youngest generation after a number of tracked objects made net
    of those freed: a full cache that frees an entry's objects for each new entry's leaves
    that count where it was (a batch freed at once would be lost to it: it stops at zero)."""
    cache: VerifiedCache[list[object]] = VerifiedCache(size=64)
    for n in range(64):
        cache.put(n, 0.0, 100.0, [object()])
    gc.collect()
    gc.disable()
    try:
        before = gc.get_count()[0]
        for n in range(64, 64 + 500):
            cache.put(n, 0.0, 100.0, [n])  # one tracked object per entry
        after = gc.get_count()[0]
    finally:
        gc.enable()
    assert after - before <= 4  # 66 when an eighth of the entries went at once


def test_verified_cache_windows_are_not_tracked_by_the_collector() -> None:
    cache: VerifiedCache[object] = VerifiedCache()
    cache.put("t", 0.0, time.time() + 60, object())
    gc.collect()
    assert not gc.is_tracked(cache._windows["t"])


def test_verified_cache_readers_never_see_a_half_written_entry() -> None:
    """Readers run alongside puts that evict: an entry is either whole or absent."""
    cache: VerifiedCache[int] = VerifiedCache(size=64)
    stop = threading.Event()
    wrong: list[tuple[int, object]] = []

    def read() -> None:
        while not stop.is_set():
            for n in range(256):
                got = cache.get(n, 1.0)
                if got is not None and got != n:
                    wrong.append((n, got))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(50):
            for n in range(256):
                cache.put(n, 0.0, 100.0, n)
    finally:
        stop.set()
        reader.join()
    assert wrong == []
