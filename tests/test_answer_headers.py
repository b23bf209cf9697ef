"""The state's response headers reach the answer once, however the state was decided; a
request that needs none runs no code for them.

The code that adds them (``app_state.after_request``) is arranged per request by
``app_state.keep`` (``after_this_request``), not registered as an app-wide hook: Flask
inspects every hook it calls on every request.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask import Response
from flask import g

from flask_idguard import AuthState
from flask_idguard import IdGuard
from flask_idguard import app_state as app_state_module
from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard.testing import ClerkTestInstance
from flask_idguard.testing import TestIssuer

from .conftest import AppFactory
from .conftest import bearer


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the headers were added, request after request."""
    calls: list[int] = []
    original = app_state_module.after_request

    def counting(response: Response) -> Response:
        calls.append(1)
        return original(response)

    monkeypatch.setattr(app_state_module, "after_request", counting)
    return calls


def test_no_app_wide_after_request_hook(make_app: AppFactory) -> None:
    assert make_app().after_request_funcs == {}
    assert make_app(IDGUARD_ALLOW_QUERY_TOKEN=True).after_request_funcs == {}


def test_a_signed_in_request_runs_nothing_after_the_view(
    make_app: AppFactory, issuer: TestIssuer, answered: list[int]
) -> None:
    client = make_app().test_client()
    token = issuer.token()
    for _ in range(2):  # verified, then remembered
        assert client.get("/me", headers=bearer(token)).status_code == 200
    assert client.get("/me").status_code == 401
    assert answered == []


def test_a_remembered_clerk_page_view_runs_nothing_after_the_view(
    idguard_clerk: ClerkTestInstance, answered: list[int]
) -> None:
    app = Flask("answer-clerk")
    app.config.update(idguard_clerk.config())
    IdGuard(app)
    app.add_url_rule("/", "home", requires_auth(lambda: "home"))
    client = idguard_clerk.signed_in(app.test_client(), "user_1")
    for _ in range(3):
        assert client.get("/", headers={"Sec-Fetch-Dest": "document"}).status_code == 200
    assert answered == []


def test_a_query_token_answer_is_private_also_when_decided_before_the_hook(
    issuer: TestIssuer, answered: list[int]
) -> None:
    """Another ``before_request`` hook, registered first, reads ``current_auth``: the state is
    decided there, not in IdGuard's hook, and the answer still gets its header, once."""
    app = Flask("answer-lazy")
    app.config.update(IDGUARD_ISSUER=issuer.issuer, IDGUARD_AUDIENCE=issuer.audience,
                      IDGUARD_ALLOW_QUERY_TOKEN=True)  # fmt: skip
    seen: list[str] = []

    @app.before_request
    def early() -> None:
        seen.append(current_auth.status)

    IdGuard(app)
    app.add_url_rule("/me", "me", requires_auth(lambda: "me"))
    r = app.test_client().get(f"/me?access_token={issuer.token()}")
    assert r.status_code == 200 and seen == ["signed-in"]
    assert r.headers.getlist("Cache-Control") == ["private"]
    assert answered == [1]


def test_headers_are_added_once_however_often_the_state_is_kept(make_app: AppFactory) -> None:
    app = make_app()
    with app.test_request_context("/"):
        stored: dict[str, Any] = g.__dict__
        first = AuthState("signed-out", headers=(("X-One", "1"),))
        app_state_module.keep(stored, first)
        app_state_module.keep(stored, AuthState("signed-out", headers=(("X-Two", "2"),)))
        response = app.process_response(Response("x"))
    assert response.headers.getlist("X-One") == []  # the state kept last is the answer's
    assert response.headers.getlist("X-Two") == ["2"]
