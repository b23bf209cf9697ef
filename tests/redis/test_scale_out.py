"""Several worker processes sharing ``IDGUARD_CACHE=RedisCache(...)`` on a real Redis.

Each worker is its own Python process (``tests/redis/worker.py``) reached over HTTP as
``http://api.test``, as behind a load balancer; the identity provider is a
:class:`~flask_idguard.testing.TestIssuer` served on loopback, which counts its fetches.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from flask_idguard.core.shared import RETRY_AFTER
from flask_idguard.testing import DPoPKey
from flask_idguard.testing import TestIssuer

from .conftest import HOST
from .conftest import RedisServer
from .conftest import Worker

URL = f"http://{HOST}/me"
NONCE_SECRET = "a nonce secret every worker shares"
OUTAGE_WARNING = "IDGUARD_CACHE: the shared cache failed"

Spawn = Callable[..., list[Worker]]


@pytest.fixture
def issuer() -> Iterator[TestIssuer]:
    issuer = TestIssuer(audience="https://api.test")
    with issuer.serve():
        yield issuer


def config(issuer: TestIssuer, redis: RedisServer, **extra: Any) -> dict[str, Any]:
    """A worker configuration with a key prefix of its own (tests share one Redis)."""
    return {
        "issuer": issuer.issuer,
        "audience": issuer.audience,
        "redis_port": redis.port,
        "prefix": f"test-{secrets.token_hex(4)}:",
        "extra": extra,
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def dpop(token: str, proof: str) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": proof}


def test_workers_make_one_jwks_fetch_and_one_discovery_fetch_between_them(
    issuer: TestIssuer, redis_server: RedisServer, workers: Spawn
) -> None:
    pool = workers(4, **config(issuer, redis_server))
    # 8 cold requests per worker, all released at once
    barrier = threading.Barrier(32)
    token = issuer.token()

    def call(i: int) -> int:
        barrier.wait()
        return pool[i % 4].get("/me", bearer(token)).status_code

    with ThreadPoolExecutor(max_workers=32) as threads:
        statuses = list(threads.map(call, range(32)))
    assert statuses == [200] * 32
    assert (issuer.discovery_calls, issuer.jwks_calls) == (1, 1)
    # a worker started later finds both in Redis
    (late,) = workers(1, **pool[0].config)
    assert late.get("/me", bearer(issuer.token())).status_code == 200
    assert (issuer.discovery_calls, issuer.jwks_calls) == (1, 1)


def test_a_dpop_proof_replayed_to_another_worker_is_refused(
    issuer: TestIssuer, redis_server: RedisServer, workers: Spawn
) -> None:
    first, second, third = workers(3, **config(issuer, redis_server))
    key = DPoPKey()
    token = issuer.token(dpop=key)
    proof = key.proof("GET", URL, token)
    assert first.get("/me", dpop(token, proof)).status_code == 200
    for other in (second, third):
        replayed = other.get("/me", dpop(token, proof))
        assert replayed.status_code == 400
        assert "already been used" in replayed.json()["error_description"]
    # a fresh proof is fine anywhere
    assert second.get("/me", dpop(token, key.proof("GET", URL, token))).status_code == 200


def test_a_server_nonce_issued_by_one_worker_is_accepted_by_another(
    issuer: TestIssuer, redis_server: RedisServer, workers: Spawn
) -> None:
    first, second = workers(2, **config(issuer, redis_server, IDGUARD_DPOP_NONCE=NONCE_SECRET))
    key = DPoPKey()
    token = issuer.token(dpop=key)
    challenge = first.get("/me", dpop(token, key.proof("GET", URL, token)))
    assert challenge.status_code == 401
    assert 'error="use_dpop_nonce"' in challenge.headers["WWW-Authenticate"]
    nonce = challenge.headers["DPoP-Nonce"]
    answer = second.get("/me", dpop(token, key.proof("GET", URL, token, nonce=nonce)))
    assert answer.status_code == 200
    assert answer.json() == {"user_id": "user_123"}


def _round(pool: list[Worker], issuer: TestIssuer, key: DPoPKey) -> list[int]:
    """One bearer and one DPoP request (with the worker's nonce) to every worker."""
    statuses = []
    token = issuer.token(dpop=key)
    for worker in pool:
        statuses.append(worker.get("/me", bearer(issuer.token())).status_code)
        challenge = worker.get("/me", dpop(token, key.proof("GET", URL, token)))
        nonce = challenge.headers.get("DPoP-Nonce")
        proof = key.proof("GET", URL, token, nonce=nonce)
        statuses.append(worker.get("/me", dpop(token, proof)).status_code)
    return statuses


def test_redis_going_away_degrades_to_per_process_caches(
    issuer: TestIssuer, redis_servers: Callable[[], RedisServer], workers: Spawn
) -> None:
    redis = redis_servers()  # this test's own: it is stopped mid-run
    settings = config(issuer, redis, IDGUARD_DPOP_NONCE=NONCE_SECRET, IDGUARD_JWKS_CACHE_TTL=2)
    pool = workers(3, **settings)
    key = DPoPKey()
    assert set(_round(pool, issuer, key)) == {200}
    assert (issuer.discovery_calls, issuer.jwks_calls) == (1, 1)

    redis.stop()
    time.sleep(2.1)  # past the key-set TTL: every worker needs a refresh, without Redis
    statuses = _round(pool, issuer, key) + _round(pool, issuer, key)
    assert set(statuses) == {200}
    # each worker refreshed on its own (no shared copy to take)
    assert issuer.jwks_calls >= 1 + len(pool)
    # replays are still caught by the worker that saw the proof
    token = issuer.token(dpop=key)
    nonce = pool[0].get("/me", dpop(token, key.proof("GET", URL, token))).headers["DPoP-Nonce"]
    proof = key.proof("GET", URL, token, nonce=nonce)
    assert pool[0].get("/me", dpop(token, proof)).status_code == 200
    assert pool[0].get("/me", dpop(token, proof)).status_code == 400
    # a worker started during the outage serves too
    (late,) = workers(1, **settings)
    assert set(_round([late], issuer, key)) == {200}
    for worker in [*pool, late]:
        assert worker.logs().count(OUTAGE_WARNING) == 1, worker.logs()

    # Redis comes back (empty): the workers share it again
    redis.start()
    time.sleep(RETRY_AFTER + 0.1)
    assert set(_round(pool, issuer, key)) == {200}
    assert all("answers again" in w.logs() for w in pool)


def test_a_worker_never_answers_500_while_redis_is_down_from_the_start(
    issuer: TestIssuer, redis_servers: Callable[[], RedisServer], workers: Spawn
) -> None:
    redis = redis_servers()
    redis.stop()
    pool = workers(2, **config(issuer, redis, IDGUARD_DPOP_NONCE=NONCE_SECRET))
    key = DPoPKey()
    assert set(_round(pool, issuer, key)) == {200}
    assert issuer.jwks_calls == len(pool)  # one fetch per process, no sharing
    for worker in pool:
        assert OUTAGE_WARNING in worker.logs()
