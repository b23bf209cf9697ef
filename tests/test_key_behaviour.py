"""Key-set behaviour seen through the app: cold start, floods, rotation, outages."""

from __future__ import annotations

import threading
import time

import requests
import time_machine
from flask import Flask

from flask_idguard.testing import TestIssuer

from .conftest import AppFactory
from .conftest import bearer


def _concurrently(app: Flask, tokens: list[str]) -> list[int]:
    statuses: list[int] = [0] * len(tokens)
    barrier = threading.Barrier(len(tokens))

    def worker(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        statuses[i] = client.get("/me", headers=bearer(tokens[i])).status_code

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(tokens))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_fifty_concurrent_cold_requests_fetch_once(app: Flask, issuer: TestIssuer) -> None:
    tokens = [issuer.token({"jti": str(i)}) for i in range(50)]
    assert _concurrently(app, tokens) == [200] * 50
    assert issuer.discovery_calls == 1
    assert issuer.jwks_calls == 1


def test_unknown_kid_flood_is_bounded_by_the_cooldown(app: Flask, issuer: TestIssuer) -> None:
    client = app.test_client()
    with time_machine.travel(time.time(), tick=False) as clock:
        assert client.get("/me", headers=bearer(issuer.token())).status_code == 200
        flood = [issuer.token(header={"kid": f"forged-{i}"}) for i in range(200)]
        assert set(_concurrently(app, flood[:50])) == {401}
        for token in flood[50:]:
            assert client.get("/me", headers=bearer(token)).status_code == 401
        assert issuer.jwks_calls == 2  # the routine fetch, then one refetch for the flood
        clock.shift(31)
        for token in flood[:50]:
            client.get("/me", headers=bearer(token))
        assert issuer.jwks_calls == 3


def test_a_key_rotated_in_right_after_a_routine_fetch_is_accepted(
    app: Flask, issuer: TestIssuer
) -> None:
    """Issue 12 (key rotation): the first token signed by a key published moments after a
    routine JWKS fetch is accepted, not refused until the cooldown ends."""
    client = app.test_client()
    with time_machine.travel(time.time(), tick=False) as clock:
        assert client.get("/me", headers=bearer(issuer.token())).status_code == 200
        new = issuer.add_key(make_default=True)
        clock.shift(2)  # well inside the 30 s cooldown
        assert client.get("/me", headers=bearer(issuer.token(kid=new))).status_code == 200
        assert issuer.jwks_calls == 2
        # past the TTL: a routine refresh, then another rotation right after it
        clock.shift(300)
        assert client.get("/me", headers=bearer(issuer.token(kid=new))).status_code == 200
        assert issuer.jwks_calls == 3
        newer = issuer.add_key(make_default=True)
        clock.shift(1)
        assert client.get("/me", headers=bearer(issuer.token(kid=newer))).status_code == 200
        assert issuer.jwks_calls == 4


def test_rotation_is_picked_up(app: Flask, issuer: TestIssuer) -> None:
    client = app.test_client()
    with time_machine.travel(time.time(), tick=False) as clock:
        assert client.get("/me", headers=bearer(issuer.token())).status_code == 200
        clock.shift(40)
        old = issuer.kid
        new = issuer.add_key(make_default=True)
        assert client.get("/me", headers=bearer(issuer.token(kid=new))).status_code == 200
        issuer.remove_key(old)
        clock.shift(301)  # past the TTL: the set is refreshed without the old key
        old_token = issuer.token(kid=old, expires_in=3600)
        r = client.get("/public", headers=bearer(old_token))
        assert r.json == {"status": "signed-out", "reason": "jwk-kid-mismatch"}


def test_stale_keys_are_served_while_the_provider_is_down(app: Flask, issuer: TestIssuer) -> None:
    client = app.test_client()
    with time_machine.travel(time.time(), tick=False) as clock:
        assert client.get("/me", headers=bearer(issuer.token())).status_code == 200
        issuer.fail_with = requests.ConnectionError("provider down")
        clock.shift(600)  # the set is stale; refreshing fails; the last good set serves
        assert client.get("/me", headers=bearer(issuer.token())).status_code == 200
        clock.shift(3600)  # beyond ttl + max staleness: no keys to trust
        assert client.get("/me", headers=bearer(issuer.token())).status_code == 503


def test_cold_outage_is_503_and_recovers(app: Flask, issuer: TestIssuer) -> None:
    issuer.fail_with = 500
    client = app.test_client()
    with time_machine.travel(time.time(), tick=False) as clock:
        assert client.get("/me", headers=bearer(issuer.token())).status_code == 503
        issuer.fail_with = None
        clock.shift(2)
        assert client.get("/me", headers=bearer(issuer.token())).status_code == 200


def test_verified_tokens_stop_working_when_their_key_is_withdrawn(
    make_app: AppFactory, issuer: TestIssuer
) -> None:
    app = make_app()
    client = app.test_client()
    with time_machine.travel(time.time(), tick=False) as clock:
        token = issuer.token(expires_in=3600)
        assert client.get("/me", headers=bearer(token)).status_code == 200
        issuer.add_key(make_default=True)
        issuer.remove_key(issuer.jwks()["keys"][0]["kid"])
        clock.shift(301)
        assert client.get("/me", headers=bearer(token)).status_code == 401


def test_shared_cache_lets_workers_share_one_fetch(issuer: TestIssuer) -> None:
    from cachelib import SimpleCache

    from .conftest import build_app

    shared = SimpleCache()
    workers = [
        build_app(
            IDGUARD_ISSUER=issuer.issuer,
            IDGUARD_AUDIENCE=issuer.audience,
            IDGUARD_JWKS_URL=issuer.jwks_uri,
            IDGUARD_CACHE=shared,
        )
        for _ in range(3)
    ]
    for worker in workers:
        assert worker.test_client().get("/me", headers=bearer(issuer.token())).status_code == 200
    assert issuer.jwks_calls == 1


def test_loopback_http_issuer_end_to_end_over_real_sockets() -> None:
    """An http:// issuer on 127.0.0.1 works with just IDGUARD_ISSUER and IDGUARD_AUDIENCE."""
    from example_app import create_app

    issuer = TestIssuer(audience="https://example-api.test")
    with issuer.serve():
        app = create_app(
            {"IDGUARD_ISSUER": issuer.issuer, "IDGUARD_AUDIENCE": "https://example-api.test"}
        )
        client = app.test_client()
        token = issuer.token({"scope": "read:messages"})
        assert client.get("/api/me", headers=bearer(token)).status_code == 200
        assert client.get("/api/messages", headers=bearer(token)).status_code == 200
        assert client.post("/api/admin", headers=bearer(token)).status_code == 403
        assert client.get("/api/me").status_code == 401
        assert b"signed-out" in client.get("/").data
