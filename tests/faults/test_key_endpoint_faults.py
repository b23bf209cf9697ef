"""Fault injection through the app: the issuer's discovery and JWKS endpoints break.

Once keys are cached, valid tokens keep verifying whatever the endpoints do; with nothing
cached the answer is ``503 temporarily_unavailable``, never a ``500``; every request is
answered, quickly, and the app recovers by itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask

from flask_idguard.testing import TestIssuer

from ..conftest import bearer
from ..conftest import build_app
from .conftest import ALL_FAULTS
from .conftest import SLOW
from .conftest import TIMEOUT
from .conftest import KeyServer

DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/.well-known/jwks.json"


@pytest.fixture
def idp(key_server: KeyServer) -> TestIssuer:
    """An issuer whose documents the key server serves."""
    issuer = TestIssuer(key_server.url + "/", audience="https://api.test")
    key_server.documents[DISCOVERY] = issuer.discovery
    key_server.documents[JWKS] = issuer.jwks
    return issuer


@pytest.fixture
def app(idp: TestIssuer) -> Flask:
    return build_app(
        IDGUARD_ISSUER=idp.issuer, IDGUARD_AUDIENCE=idp.audience, IDGUARD_HTTP_TIMEOUT=TIMEOUT
    )


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(time.time(), tick=False) as traveller:
        yield traveller


@pytest.mark.parametrize("fault", ALL_FAULTS)
def test_a_broken_key_endpoint_never_stops_valid_requests_once_keys_are_cached(
    fault: str,
    app: Flask,
    idp: TestIssuer,
    key_server: KeyServer,
    clock: time_machine.Traveller,
) -> None:
    client = app.test_client()
    assert client.get("/me", headers=bearer(idp.token())).status_code == 200
    key_server.break_with(fault)
    clock.shift(301)  # discovery document and key set are both due for a refresh
    before = key_server.total
    started = time.monotonic()
    statuses = [client.get("/me", headers=bearer(idp.token())).status_code for _ in range(30)]
    forged = client.get("/me", headers=bearer(idp.token(header={"kid": "forged"})))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 30
    assert forged.status_code == 401
    # one attempt per document (and one refetch for the forged kid), retries included
    assert key_server.total - before <= 9
    assert elapsed < 3 * SLOW * 3
    # repaired: the next attempt, after the retry gap, refreshes the set
    key_server.repair()
    clock.shift(6)
    before = key_server.calls[JWKS]
    assert client.get("/me", headers=bearer(idp.token())).status_code == 200
    assert key_server.calls[JWKS] == before + 1


@pytest.mark.parametrize("fault", ALL_FAULTS)
def test_a_broken_key_endpoint_at_start_up_is_503_until_it_recovers(
    fault: str,
    app: Flask,
    idp: TestIssuer,
    key_server: KeyServer,
    clock: time_machine.Traveller,
) -> None:
    client = app.test_client()
    key_server.break_with(fault)
    answers = [client.get("/me", headers=bearer(idp.token())) for _ in range(10)]
    assert {r.status_code for r in answers} == {503}
    assert {r.json["error"] for r in answers if r.json} == {"temporarily_unavailable"}
    assert key_server.total <= 3  # one attempt (with retries) per cold-retry gap
    key_server.repair()
    clock.shift(1.5)
    assert client.get("/me", headers=bearer(idp.token())).status_code == 200


def test_a_slow_refresh_holds_up_no_more_than_the_requests_doing_it(
    app: Flask, idp: TestIssuer, key_server: KeyServer, clock: time_machine.Traveller
) -> None:
    assert app.test_client().get("/me", headers=bearer(idp.token())).status_code == 200
    key_server.break_with("slow")
    clock.shift(301)
    latencies: list[float] = []
    statuses: list[int] = []
    barrier = threading.Barrier(12)

    def call() -> None:
        client = app.test_client()
        barrier.wait()
        started = time.monotonic()
        statuses.append(client.get("/me", headers=bearer(idp.token())).status_code)
        latencies.append(time.monotonic() - started)

    threads = [threading.Thread(target=call) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 12
    # one thread refreshes discovery, one the key set; the others use the stale copies
    assert sum(latency > TIMEOUT for latency in latencies) <= 2


def test_keys_rotating_at_the_endpoint_are_followed_at_once(
    app: Flask, idp: TestIssuer, key_server: KeyServer, clock: time_machine.Traveller
) -> None:
    client = app.test_client()
    assert client.get("/me", headers=bearer(idp.token())).status_code == 200
    for _ in range(5):
        clock.shift(31)  # one rotation per cooldown window
        old = idp.kid
        new = idp.add_key(make_default=True)
        idp.remove_key(old)
        assert client.get("/me", headers=bearer(idp.token())).status_code == 200
        # the refetch that found the new key dropped the retired one
        retired = client.get("/public", headers=bearer(idp.token(kid=old)))
        assert retired.json == {"status": "signed-out", "reason": "jwk-kid-mismatch"}
        assert idp.kid == new
    assert key_server.calls[JWKS] == 6
    assert key_server.calls[DISCOVERY] == 1
