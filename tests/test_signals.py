"""Signals: one per request, with the state, and nothing for requests without credentials."""

from __future__ import annotations

from typing import Any

from flask import Flask

from flask_idguard import AuthState
from flask_idguard.signals import authentication_failed
from flask_idguard.signals import request_authenticated
from flask_idguard.testing import TestIssuer

from .conftest import bearer


def test_signals_report_each_outcome(app: Flask, issuer: TestIssuer) -> None:
    seen: list[tuple[str, str | None]] = []

    def ok(sender: Flask, state: AuthState, **extra: Any) -> None:
        assert sender is app
        seen.append(("ok", state.user_id))

    def failed(sender: Flask, state: AuthState, **extra: Any) -> None:
        seen.append(("failed", state.reason))

    token = issuer.token({"sub": "u1"})
    with (
        request_authenticated.connected_to(ok, sender=app),
        authentication_failed.connected_to(failed, sender=app),
    ):
        client = app.test_client()
        client.get("/me", headers=bearer(token))
        client.get("/me", headers=bearer(token))  # the cached path is announced too
        client.get("/public")  # no credentials: no signal
        client.get("/me", headers=bearer(issuer.token(expires_in=-60)))
        client.get("/me", headers={"Authorization": "Bearer"})
    assert seen == [
        ("ok", "u1"),
        ("ok", "u1"),
        ("failed", "token-expired"),
        ("failed", "authorization-header-malformed"),
    ]
