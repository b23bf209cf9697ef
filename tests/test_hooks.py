"""The request hook (``flask_idguard.hooks``) and the guards' skip for a signed-in request.

A decision already made (a bearer token verified moments ago, a Clerk page view decided
within its token's window, a request without credentials) is answered without asking the
providers again; everything else, a ``Host`` header not yet found valid first, takes the
general path. The answers are the general path's, signals included.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from flask import Flask

from flask_idguard import AuthState
from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard.app_state import IdGuardState
from flask_idguard.checks import requirement
from flask_idguard.signals import authentication_failed
from flask_idguard.signals import request_authenticated
from flask_idguard.testing import ClerkTestInstance
from flask_idguard.testing import DPoPKey
from flask_idguard.testing import TestIssuer

from .conftest import AppFactory
from .conftest import bearer

PAGE = {"Sec-Fetch-Dest": "document"}


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests the providers were asked about (apps built after this)."""
    asked: list[str] = []
    decide = IdGuardState.decide

    def counting(self: IdGuardState, req: Any) -> AuthState:
        asked.append(req.path)
        return decide(self, req)

    monkeypatch.setattr(IdGuardState, "decide", counting)
    return asked


def clerk_app(clerk: ClerkTestInstance, **config: Any) -> Flask:
    app = Flask("hooks-clerk")
    app.config.update(clerk.config(**config))
    IdGuard(app)
    app.add_url_rule("/", "home", requires_auth(lambda: current_auth.user_id or "?"))
    return app


@pytest.mark.parametrize(
    "config",
    [{}, {"IDGUARD_ALLOW_QUERY_TOKEN": True}, {"IDGUARD_ALLOW_FORM_TOKEN": True}],
    ids=["header-only", "query-tokens", "form-tokens"],
)
def test_the_hook_is_a_plain_function(make_app: AppFactory, config: dict[str, Any]) -> None:
    """Flask inspects the hook on every request (``ensure_sync``): a plain function is the
    cheapest to inspect."""
    (hook,) = make_app(**config).before_request_funcs[None]
    assert inspect.isfunction(hook)


def test_the_clerk_hook_is_a_plain_function(idguard_clerk: ClerkTestInstance) -> None:
    (hook,) = clerk_app(idguard_clerk).before_request_funcs[None]
    assert inspect.isfunction(hook)


def test_a_repeated_token_is_not_decided_again(
    make_app: AppFactory, issuer: TestIssuer, decisions: list[str]
) -> None:
    client = make_app().test_client()
    token = issuer.token({"sub": "u1"})
    for _ in range(3):
        r = client.get("/me", headers=bearer(token))
        assert r.status_code == 200 and r.json is not None and r.json["user_id"] == "u1"
    assert client.get("/public").json == {"status": "signed-out", "reason": "token-missing"}
    assert decisions == ["/me"]


def test_a_remembered_token_with_a_forged_host_is_refused(
    make_app: AppFactory, issuer: TestIssuer, decisions: list[str]
) -> None:
    """The attack: a token the app verified moments ago, sent again with a Host header
    the app has not found valid. The Host check comes before any remembered decision."""
    client = make_app().test_client()
    token = issuer.token()
    assert client.get("/me", headers=bearer(token)).status_code == 200
    for host in ("evil.com/path", "evil.com:65536", "a.com, b.com"):
        r = client.get("/me", headers=bearer(token), environ_overrides={"HTTP_HOST": host})
        assert r.status_code == 400, host
        assert r.json is not None and r.json["error_description"] == "Invalid Host header"
    # a valid Host header never seen before is checked once, then remembered
    r = client.get("/me", headers=bearer(token), environ_overrides={"HTTP_HOST": "api.test"})
    assert r.status_code == 200
    assert decisions == ["/me"]


def test_a_remembered_token_is_refused_without_its_proof_once_bound(
    make_app: AppFactory, issuer: TestIssuer, decisions: list[str]
) -> None:
    """A DPoP-bound token verified with its proof is not answered from memory as Bearer,
    and a request with a ``DPoP`` header always takes the general path (its proof is
    checked every time)."""
    key = DPoPKey()
    token = issuer.token(dpop=key)
    client = make_app().test_client()
    url = "http://localhost/me"
    proof = key.proof("GET", url, token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    assert client.get("/me", headers=headers).status_code == 200
    replayed = client.get("/me", headers=headers)
    assert replayed.status_code == 400  # the same proof again: its jti was seen
    assert replayed.json is not None and "already been used" in replayed.json["error_description"]
    bound_as_bearer = "DPoP-bound token requires the DPoP authentication scheme, not Bearer"
    for sent in (bearer(token), {**bearer(token), "DPoP": key.proof("GET", url, token)}):
        r = client.get("/me", headers=sent)
        assert r.status_code == 401
        assert r.json == {"error": "invalid_token", "error_description": bound_as_bearer}
    assert decisions == ["/me"] * 4


def test_signals_for_remembered_decisions(
    make_app: AppFactory, issuer: TestIssuer, idguard_clerk: ClerkTestInstance
) -> None:
    seen: list[str | None] = []
    failed: list[str | None] = []

    def ok(sender: Flask, state: AuthState, **extra: Any) -> None:
        seen.append(state.user_id)

    def bad(sender: Flask, state: AuthState, **extra: Any) -> None:
        failed.append(state.reason)

    clerk = idguard_clerk.signed_in(clerk_app(idguard_clerk).test_client(), "user_1")
    api = make_app().test_client()
    token = issuer.token({"sub": "u1"})
    with request_authenticated.connected_to(ok), authentication_failed.connected_to(bad):
        for _ in range(2):
            assert clerk.get("/", headers=PAGE).status_code == 200
            assert api.get("/me", headers=bearer(token)).status_code == 200
            assert api.get("/public").status_code == 200
    assert seen == ["user_1", "u1"] * 2
    assert failed == []  # a request without credentials announces nothing


def test_a_remembered_clerk_page_view_is_not_decided_again(
    idguard_clerk: ClerkTestInstance, decisions: list[str]
) -> None:
    client = idguard_clerk.signed_in(clerk_app(idguard_clerk).test_client(), "user_1")
    for _ in range(3):
        r = client.get("/", headers=PAGE)
        assert r.status_code == 200 and r.text == "user_1"
    # an Authorization header, a DPoP header: decided afresh
    assert client.get("/", headers={**PAGE, "Authorization": "Bearer x"}).status_code == 401
    assert client.get("/", headers={**PAGE, "DPoP": "x"}).status_code == 200
    assert decisions == ["/"] * 3


def test_a_remembered_clerk_page_view_with_a_forged_host_is_refused(
    idguard_clerk: ClerkTestInstance,
) -> None:
    client = idguard_clerk.signed_in(clerk_app(idguard_clerk).test_client(), "user_1")
    assert client.get("/", headers=PAGE).status_code == 200
    r = client.get("/", headers=PAGE, environ_overrides={"HTTP_HOST": "evil.com:abc"})
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("options", "sign_in_only"),
    [
        ({}, True),
        ({"redirect": False}, True),
        ({"scopes": "read"}, False),
        ({"optional": True}, False),
        ({"accepts_token": "any"}, False),
        ({"accepts_token": ["session_token", "api_key"]}, False),
    ],
)
def test_only_a_plain_sign_in_requirement_is_met_by_any_signed_in_state(
    options: dict[str, Any], sign_in_only: bool
) -> None:
    assert requirement(**options).sign_in_only is sign_in_only


def test_a_signed_in_state_still_meets_every_other_requirement_check(
    make_app: AppFactory, issuer: TestIssuer
) -> None:
    """The guards skip their checks for a signed-in request only when sign-in is all they
    require: scopes are still checked, request after request."""
    client = make_app().test_client()
    token = issuer.token({"scope": "read:a"})
    for _ in range(2):
        assert client.get("/me", headers=bearer(token)).status_code == 200
        assert client.get("/scoped", headers=bearer(token)).status_code == 403
