"""The example app (``make demo``) on the local identity provider, as a visitor uses it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests
from click.testing import CliRunner
from flask import Flask

from example_app import clerk_js_url
from example_app import create_app
from example_app.__main__ import banner
from example_app.__main__ import offline_config
from flask_idguard.devidp import DevIdP
from flask_idguard.devidp.__main__ import main as devidp_main
from flask_idguard.devidp.config import publishable_key

from .conftest import Browser


def test_the_demo_flow(idp: DevIdP, serve: Callable[[Flask], str], browser: Browser) -> None:
    app_url = serve(create_app(offline_config(idp)))
    page = browser.go(app_url + "/dashboard")
    assert page.url.startswith(idp.config.base_url + "/sign-in")
    page = browser.go(
        idp.config.base_url + "/sign-in",
        "POST",
        {"user_id": "user_alice", "redirect_url": app_url + "/dashboard"},
    )
    assert '<dd id="user">user_alice</dd>' in page.text
    assert 'role <span id="role">org:admin</span>' in page.text
    assert 'id="countdown"' in page.text
    assert "You may manage billing for <b>acme</b>" in browser.go(app_url + "/admin").text
    page = browser.go(
        idp.config.base_url + "/organizations",
        "POST",
        {"organization_id": "org_globex", "redirect_url": app_url + "/admin"},
    )
    assert page.status_code == 403
    assert "Missing permission &#39;org:billing:manage&#39;" in page.text
    api = browser.session.post(app_url + "/api/admin", headers={"Accept": "application/json"})
    assert api.status_code == 403 and api.json()["error"] == "insufficient_scope"


def test_the_demo_banner_names_the_users_and_a_machine_token_command(idp: DevIdP) -> None:
    text = banner(idp, "http://127.0.0.1:5000")
    assert "alice@example.test / alice-password" in text
    assert f"{idp.config.base_url}/oauth/token" in text
    assert offline_config(idp)["CLERK_PROXY_URL"] == idp.config.frontend_api_url


def test_the_command_refuses_a_non_loopback_address() -> None:
    result = CliRunner().invoke(devidp_main, ["--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "not a loopback address" in result.output
    result = CliRunner().invoke(devidp_main, ["--seed", "/nonexistent.json"])
    assert result.exit_code == 2


def test_the_users_page_and_a_machine_client(
    idp: DevIdP, serve: Callable[[Flask], str], browser: Browser
) -> None:
    app_url = serve(create_app(offline_config(idp)))
    browser.go(
        idp.config.base_url + "/sign-in",
        "POST",
        {"user_id": "user_bob", "redirect_url": app_url + "/users"},
    )
    page = browser.go(app_url + "/users")
    assert page.status_code == 200
    assert "<td>user_carol</td><td>carol@example.test</td>" in page.text
    m2m = next(iter(idp.store.m2m_clients.values()))
    token = requests.post(
        idp.config.base_url + "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": m2m.client_id,
              "client_secret": m2m.client_secret, "audience": idp.config.audience},
        timeout=10,
    ).json()["access_token"]  # fmt: skip
    api = requests.get(
        app_url + "/api/messages", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert api.status_code == 200, api.text


def test_the_state_file_keeps_keys_and_users(tmp_path: Path) -> None:
    state = tmp_path / "devidp.json"
    first = DevIdP(state_file=state)
    first.store.add_user("erin@example.test", "erin-password", first_name="Erin")
    first.save()
    again = DevIdP(state_file=state)
    assert again.secret_key == first.secret_key
    assert again.clerk_key.kid == first.clerk_key.kid
    assert again.store.authenticate("erin@example.test", "erin-password") is not None


def test_the_clerk_js_page_loads_the_sdk_from_the_proxy_and_needs_a_key() -> None:
    idp = DevIdP()
    page = create_app(offline_config(idp)).test_client().get("/clerk-js").text
    script = f"{idp.config.frontend_api_url}/npm/@clerk/clerk-js@6/dist/clerk.browser.js"
    assert f'<script src="{script}"' in page
    assert f'data-clerk-proxy-url="{idp.config.frontend_api_url}"' in page
    assert f'data-clerk-publishable-key="{idp.config.publishable_key}"' in page
    oidc_only = {"IDGUARD_ISSUER": "https://issuer.example", "IDGUARD_AUDIENCE": "api"}
    unconfigured = create_app(oidc_only).test_client().get("/clerk-js").text
    assert 'id="unconfigured"' in unconfigured and "<script src=" not in unconfigured


def test_without_a_proxy_the_sdk_comes_from_the_keys_frontend_api() -> None:
    key = publishable_key("development", "sweet-cat-12.clerk.accounts.dev")
    assert clerk_js_url(key, None) == (
        "https://sweet-cat-12.clerk.accounts.dev/npm/@clerk/clerk-js@6/dist/clerk.browser.js"
    )
    assert clerk_js_url(key, "https://app.example/__clerk/") == (
        "https://app.example/__clerk/npm/@clerk/clerk-js@6/dist/clerk.browser.js"
    )
    assert clerk_js_url(None, None) is None
    assert clerk_js_url("pk_test_%%%", None) is None


def test_the_command_takes_a_frontend_api_host() -> None:
    result = CliRunner().invoke(devidp_main, ["--frontend-api", "not a host"])
    assert result.exit_code == 2 and "frontend_api must be a host name" in result.output
