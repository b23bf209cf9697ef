"""Clerk sessions end to end: flask-idguard's Clerk provider, unchanged, against the local
identity provider, through a cookie-keeping client that follows every redirect.

Development instances carry the handshake result as a token in the URL; production ones as
a nonce in a cookie, fetched from the Backend API. Both run every step for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import requests
import time_machine
from flask import Flask

from flask_idguard.devidp import DevIdP
from flask_idguard.devidp import DevIdPConfig

from .conftest import Browser
from .conftest import app_for


def sign_in(browser: Browser, idp: DevIdP, app_url: str, user_id: str = "user_alice") -> None:
    r = browser.go(
        idp.config.base_url + "/sign-in",
        "POST",
        {"user_id": user_id, "redirect_url": app_url + "/dashboard"},
    )
    assert r.status_code == 200, browser.hops


def test_a_signed_out_page_goes_to_the_sign_in_page(
    idp: DevIdP, serve: Callable[[Flask], str], browser: Browser
) -> None:
    app_url = serve(app_for(idp.env()))
    r = browser.go(app_url + "/dashboard")
    assert r.status_code == 200
    assert r.url.startswith(idp.config.base_url + "/sign-in?redirect_url=")
    assert "Sign in as Alice Admin &lt;alice@example.test&gt;" in r.text
    assert "for development only" in r.text


def test_sign_in_runs_the_handshake_and_the_app_sees_the_user(
    idp: DevIdP, serve: Callable[[Flask], str], browser: Browser
) -> None:
    app_url = serve(app_for(idp.env()))
    sign_in(browser, idp, app_url)
    r = browser.session.get(app_url + "/dashboard", headers={"Accept": "application/json"})
    assert r.json() == {
        "user_id": "user_alice",
        "org_id": "org_acme",
        "org_role": "org:admin",
        "permissions": ["org:billing:manage", "org:billing:read", "org:reports:read"],
    }
    assert browser.reasons()[0] == "client-uat-but-no-session-token"
    assert browser.handshakes() == 1


def test_an_expired_token_is_renewed_through_the_handshake(
    idp: DevIdP, serve: Callable[[Flask], str], browser: Browser
) -> None:
    app_url = serve(app_for(idp.env()))
    sign_in(browser, idp, app_url)
    with time_machine.travel(time.time() + 120, tick=True):
        r = browser.go(app_url + "/dashboard")
        assert r.status_code == 200
        assert r.json()["user_id"] == "user_alice"
    assert browser.reasons()[0] == ("session-token-expired-refresh-non-eligible-no-refresh-cookie")
    assert browser.handshakes() == 1


def test_switching_organization_changes_the_role_the_app_sees(
    idp: DevIdP, serve: Callable[[Flask], str], browser: Browser
) -> None:
    app_url = serve(app_for(idp.env()))
    sign_in(browser, idp, app_url)
    assert browser.go(app_url + "/billing").status_code == 200
    r = browser.go(
        idp.config.base_url + "/organizations",
        "POST",
        {"organization_id": "org_globex", "redirect_url": app_url + "/dashboard"},
    )
    assert r.json()["org_role"] == "org:member"
    assert "session-token-iat-before-client-uat" in browser.reasons()
    assert browser.session.get(app_url + "/billing").status_code == 403


def test_sign_out_signs_the_app_out(
    idp: DevIdP, serve: Callable[[Flask], str], browser: Browser
) -> None:
    app_url = serve(app_for(idp.env()))
    sign_in(browser, idp, app_url)
    r = browser.go(
        idp.config.base_url + "/sign-out", "POST", {"redirect_url": app_url + "/dashboard"}
    )
    assert r.url.startswith(idp.config.base_url + "/sign-in")
    assert "session-token-missing" in browser.reasons()
    api = browser.session.get(app_url + "/dashboard", headers={"Accept": "application/json"})
    assert api.status_code == 401


@pytest.mark.parametrize("fmt", ["token", "nonce"])
@pytest.mark.parametrize("claims", ["v1", "v2"])
def test_every_handshake_format_and_claim_version(
    instance: str, fmt: str, claims: str, serve: Callable[[Flask], str], browser: Browser
) -> None:
    config = DevIdPConfig(instance=instance, handshake_format=fmt, org_claims=claims)  # type: ignore[arg-type]
    with DevIdP(config).serve() as idp:
        app_url = serve(app_for(idp.env()))
        sign_in(browser, idp, app_url, "user_bob")
        r = browser.session.get(app_url + "/dashboard", headers={"Accept": "application/json"})
        assert r.json()["org_role"] == "org:member"
        assert r.json()["permissions"] == ["org:reports:read"]
        carrier = "__clerk_handshake=" if fmt == "token" else "__clerk_handshake_nonce"
        handshake = next(h for h in browser.hops if "/v1/client/handshake" in h.url)
        after = browser.hops[browser.hops.index(handshake) + 1]
        in_cookie = fmt == "nonce" and instance == "production"
        assert (carrier in after.url) is not in_cookie


def test_a_wrong_password_is_refused(
    idp: DevIdP, serve: Callable[[Flask], str], browser: Browser
) -> None:
    r = browser.go(
        idp.config.base_url + "/sign-in",
        "POST",
        {"email": "alice@example.test", "password": "not-her-password"},
    )
    assert r.status_code == 422
    assert "Password is incorrect" in r.text
    r = browser.go(
        idp.config.base_url + "/sign-in",
        "POST",
        {"email": "ALICE@example.test", "password": "alice-password"},
    )
    assert r.status_code == 200
    assert "Signed in as alice@example.test" in r.text


def test_sign_up_creates_a_user_who_is_signed_in(
    idp: DevIdP, serve: Callable[[Flask], str], browser: Browser
) -> None:
    app_url = serve(app_for(idp.env()))
    r = browser.go(
        idp.config.base_url + "/sign-up",
        "POST",
        {"email": "dan@example.test", "password": "dan-password", "first_name": "Dan",
         "redirect_url": app_url + "/dashboard"},
    )  # fmt: skip
    user_id = r.json()["user_id"]
    assert user_id.startswith("user_") and idp.store.users[user_id].email == "dan@example.test"
    again = browser.go(idp.config.base_url + "/sign-up", "POST",
                       {"email": "dan@example.test", "password": "dan-password"})  # fmt: skip
    assert again.status_code == 422 and "taken" in again.text


@pytest.mark.parametrize(
    "target",
    ["https://evil.test/", "javascript:alert(1)", "//evil.test/x", "ftp://127.0.0.1/"],
)
def test_no_open_redirect(idp: DevIdP, browser: Browser, target: str) -> None:
    r = requests.get(
        idp.config.frontend_api_url + "/v1/client/handshake",
        params={"redirect_url": target},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "form_param_value_invalid"
    r = browser.go(
        idp.config.base_url + "/sign-in", "POST", {"user_id": "user_alice", "redirect_url": target}
    )
    assert r.url.startswith(idp.config.base_url + "/account")


def test_the_backend_api_wants_the_secret_key(idp: DevIdP) -> None:
    for headers in ({}, {"Authorization": "Bearer sk_test_wrong"}, {"Authorization": "Basic x"}):
        r = requests.get(idp.config.base_url + "/v1/jwks", headers=headers, timeout=10)
        assert r.status_code == 401
        error = r.json()["errors"][0]
        assert error["code"] == "authentication_invalid"
        assert error["message"] == "Unauthorized request"
    ok = requests.get(
        idp.config.base_url + "/v1/jwks",
        headers={"Authorization": f"Bearer {idp.secret_key}"},
        timeout=10,
    )
    assert ok.json()["keys"][0]["kid"] == idp.clerk_key.kid


def test_mounted_inside_the_app_on_the_same_origin(browser: Browser) -> None:
    """The provider under ``/__clerk`` of the app's own server: one origin, one port."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, Flask("placeholder"), threaded=True)
    app_url = f"http://127.0.0.1:{server.server_port}"
    idp = DevIdP(DevIdPConfig(base_url=app_url + "/__clerk", instance="production"))
    app = app_for(idp.env())
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/__clerk": idp.app})  # type: ignore[method-assign]
    server.app = app
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        r = browser.go(app_url + "/dashboard")
        assert r.url.startswith(app_url + "/__clerk/sign-in")
        sign_in(browser, idp, app_url)
        assert browser.handshakes() == 1
        assert all(h.url.startswith(app_url) for h in browser.hops)
        r = browser.session.get(app_url + "/dashboard", headers={"Accept": "application/json"})
        assert r.json()["user_id"] == "user_alice"
    finally:
        server.shutdown()
        thread.join()
