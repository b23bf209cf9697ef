"""Fault injection through the app: Clerk's Backend API (``/v1/jwks``) answers 429s and 5xxs.

Signed-in requests keep being verified with the cached key set through the whole storm,
by header and by cookie; a storm at start-up is ``503`` until the API answers again; the
API is not hammered meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask

from flask_idguard.testing import ClerkTestInstance

from ..conftest import bearer
from ..conftest import build_app
from .conftest import TIMEOUT
from .conftest import KeyServer

JWKS = "/v1/jwks"
STORMS = ["status-429", "storm", "down", "slow"]  # storm: 429, 500, 502, 503, 504...


@pytest.fixture
def clerk(key_server: KeyServer) -> ClerkTestInstance:
    instance = ClerkTestInstance()
    key_server.documents[JWKS] = instance.jwks
    return instance


@pytest.fixture
def app(clerk: ClerkTestInstance, key_server: KeyServer) -> Flask:
    config = clerk.config(CLERK_API_URL=key_server.url, IDGUARD_HTTP_TIMEOUT=TIMEOUT)
    del config["CLERK_JWT_KEY"]  # keys from the Backend API
    return build_app(**config)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(time.time(), tick=False) as traveller:
        yield traveller


def _signed_in(app: Flask, clerk: ClerkTestInstance) -> list[int]:
    """One request by header and one by cookie, with fresh session tokens."""
    by_header = app.test_client().get("/me", headers=bearer(clerk.session_token()))
    browser = clerk.signed_in(app.test_client(), "user_cookie")
    return [by_header.status_code, browser.get("/me").status_code]


@pytest.mark.parametrize("storm", STORMS)
def test_a_backend_api_storm_never_stops_signed_in_requests(
    storm: str,
    app: Flask,
    clerk: ClerkTestInstance,
    key_server: KeyServer,
    clock: time_machine.Traveller,
) -> None:
    assert _signed_in(app, clerk) == [200, 200]
    assert key_server.calls[JWKS] == 1
    key_server.break_with(storm)
    statuses: list[int] = []
    for _ in range(3):  # ten minutes of storm, the key set long past its TTL
        clock.shift(200)
        statuses += [code for _ in range(5) for code in _signed_in(app, clerk)]
    assert statuses == [200] * 30
    # one attempt (with its retries) per 200 s step once the set is stale, not one per request
    assert key_server.total - 1 <= 2 * 3
    forged = app.test_client().get("/me", headers=bearer(clerk.sign(clerk.claims(), kid="x")))
    assert forged.status_code == 401
    key_server.repair()
    clock.shift(6)
    assert _signed_in(app, clerk) == [200, 200]
    assert key_server.calls[JWKS] >= 2


@pytest.mark.parametrize("storm", STORMS)
def test_a_backend_api_storm_at_start_up_is_503_then_recovers(
    storm: str,
    app: Flask,
    clerk: ClerkTestInstance,
    key_server: KeyServer,
    clock: time_machine.Traveller,
) -> None:
    key_server.break_with(storm)
    answers = [
        app.test_client().get("/me", headers=bearer(clerk.session_token())) for _ in range(10)
    ]
    assert {r.status_code for r in answers} == {503}
    assert key_server.total <= 3
    key_server.repair()
    clock.shift(1.5)
    assert _signed_in(app, clerk) == [200, 200]
