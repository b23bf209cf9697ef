"""The Backend API's session calls: session tokens (with templates) and refresh."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from flask import Flask

from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard.core.jwt import decode_unverified
from flask_idguard.devidp import DevIdP
from flask_idguard.devidp.tokens import session_token

from .conftest import Browser
from .conftest import app_for


def signed_in_session(idp: DevIdP) -> Any:
    client = idp.store.new_client()
    return idp.store.sign_in(client, idp.store.users["user_alice"])


def test_get_token_with_a_template_through_the_app(
    idp: DevIdP, serve: Callable[[Flask], str], browser: Browser
) -> None:
    app = app_for(idp.env())

    @app.get("/template")
    @requires_auth
    def template() -> Any:
        token = current_auth.get_token(template="integration")
        assert token is not None
        return decode_unverified(token).claims

    app_url = serve(app)
    browser.go(
        idp.config.base_url + "/sign-in",
        "POST",
        {"user_id": "user_alice", "redirect_url": app_url + "/dashboard"},
    )
    claims = browser.go(app_url + "/template").json()
    assert claims["role"] == "authenticated" and claims["sub"] == "user_alice"
    assert claims["exp"] - claims["iat"] == 300


def test_session_tokens_and_their_errors(idp: DevIdP) -> None:
    session = signed_in_session(idp)
    auth = {"Authorization": f"Bearer {idp.secret_key}"}
    url = f"{idp.config.base_url}/v1/sessions/{session.id}/tokens"
    r = requests.post(url, json={"expires_in_seconds": 120}, headers=auth, timeout=10)
    claims = decode_unverified(r.json()["jwt"]).claims
    assert r.json()["object"] == "token" and claims["exp"] - claims["iat"] == 120
    for body in ({"expires_in_seconds": 0}, {"expires_in_seconds": "60"}):
        bad = requests.post(url, json=body, headers=auth, timeout=10)
        assert bad.status_code == 422
    missing = requests.post(url + "/nope", headers=auth, timeout=10)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "resource_not_found"
    gone = requests.post(f"{idp.config.base_url}/v1/sessions/sess_x/tokens", headers=auth,
                         timeout=10)  # fmt: skip
    assert gone.status_code == 404


def test_refresh_hands_out_new_session_cookies(idp: DevIdP) -> None:
    session = signed_in_session(idp)
    expired = session_token(idp, session, now=time.time() - 3600)
    url = f"{idp.config.base_url}/v1/sessions/{session.id}/refresh"
    auth = {"Authorization": f"Bearer {idp.secret_key}"}
    body = {
        "format": "cookie",
        "expired_token": expired,
        "refresh_token": session.refresh_token,
        "request_origin": "http://127.0.0.1:5000",
        "request_headers": {},
    }
    r = requests.post(url, json=body, headers=auth, timeout=10)
    assert r.json()["object"] == "cookies"
    fresh = next(c for c in r.json()["cookies"] if c.startswith("__session="))
    claims = decode_unverified(fresh.split(";")[0].removeprefix("__session=")).claims
    assert claims["sid"] == session.id and claims["exp"] > time.time()
    assert claims["azp"] == "http://127.0.0.1:5000"
    wrong = requests.post(url, json={**body, "refresh_token": "x"}, headers=auth, timeout=10)
    assert wrong.status_code == 400
