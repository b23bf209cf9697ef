"""Clerk's own browser SDK against the local identity provider: headless Chromium loads the
example app's ``/clerk-js`` page, whose ``@clerk/clerk-js`` (the version pinned by
``clerkjs/package-lock.json``, served by the provider) signs in with a password, keeps the
session token fresh by itself, switches the organization and signs out; after each step the
Flask side (``/api/me``, fetched from the page: no navigation, so no handshake can help) must
agree. Nothing may leave loopback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import Literal
from urllib.parse import urlsplit

import pytest
from flask import Flask
from joserfc import jws

from example_app import create_app
from example_app.__main__ import offline_config
from flask_idguard.devidp import DevIdP
from flask_idguard.devidp import DevIdPConfig
from flask_idguard.devidp.clerk_js import find_clerk_js
from flask_idguard.devidp.config import CLERK_JS_FRONTEND_API
from flask_idguard.devidp.sign_ins import TEST_CODE

from ..conftest import unavailable
from .conftest import LOOPBACK_HOSTS
from .conftest import Tab

#: Short enough that the SDK must refresh the token within the test; the app allows no skew.
TOKEN_LIFETIME = 3
#: How long the SDK may take to bring a fresh token or a new organization to the cookie (its
#: poller runs every 1.5 s in a focused tab, 5 s otherwise).
SDK_WAIT = 8.0
ASK_FLASK = """async () => {
  const answer = await fetch("/api/me", { headers: { Accept: "application/json" } });
  return { status: answer.status, body: answer.status === 200 ? await answer.json() : null };
}"""


@pytest.fixture
def idp(request: pytest.FixtureRequest) -> Iterator[DevIdP]:
    """The provider: a development instance unless the test asks for ``production``. A
    development instance's frontend API is named like Clerk's, for the SDK's dev browser."""
    installed = find_clerk_js(None)
    if installed is None:
        unavailable("@clerk/clerk-js is not installed: run `make clerk-js` (needs npm)")
    instance: Literal["development", "production"] = getattr(request, "param", "development")
    config = DevIdPConfig(
        instance=instance,
        token_lifetime=TOKEN_LIFETIME,
        frontend_api=CLERK_JS_FRONTEND_API if instance == "development" else "clerk.devidp.test",
    )
    with DevIdP(config).serve() as served:
        yield served


@pytest.fixture
def app_url(idp: DevIdP, serve: Callable[[Flask], str]) -> str:
    return serve(create_app({**offline_config(idp), "IDGUARD_CLOCK_SKEW": 0}))


@pytest.fixture
def offline(tab: Tab) -> Tab:
    """The tab, with every request off loopback aborted before it leaves the machine (the
    test still fails on it: :meth:`Tab.off_loopback` lists it)."""
    tab.page.context.route(
        lambda url: (urlsplit(url).hostname or "") not in LOOPBACK_HOSTS,
        lambda route: route.abort(),
    )
    return tab


def sign_in_page(tab: Tab, app_url: str) -> None:
    tab.page.goto(app_url + "/clerk-js")
    tab.page.wait_for_selector("#clerk-status[data-loaded]")


def flask_sees(tab: Tab) -> dict[str, Any]:
    """What the Flask view says, asked by the page (its cookies, no navigation)."""
    answer = tab.page.evaluate(ASK_FLASK)
    assert isinstance(answer, dict)
    return answer


def session_cookie(tab: Tab) -> str | None:
    cookies = tab.page.context.cookies()
    return next((c["value"] for c in cookies if c["name"] == "__session" and c["value"]), None)


def claims(token: str) -> dict[str, Any]:
    payload = jws.extract_compact(token.encode()).payload
    data = json.loads(payload)
    assert isinstance(data, dict)
    return data


def wait_until(check: Callable[[], bool], what: str, timeout: float = SDK_WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.2)


@pytest.mark.parametrize("idp", ["development", "production"], indirect=True)
def test_clerk_js_sign_in_refresh_switch_organization_sign_out(
    offline: Tab, idp: DevIdP, app_url: str
) -> None:
    tab, page = offline, offline.page
    sign_in_page(tab, app_url)
    script = "/clerk/npm/@clerk/clerk-js@6/dist/clerk.browser.js"
    assert [url.startswith(idp.config.base_url) for url in tab.to(script)] == [True]
    assert flask_sees(tab)["status"] == 401
    tab.step("loaded")

    page.fill("input[name=identifier]", "alice@example.test")
    page.fill("input[name=password]", "alice-password")
    page.click("#password-sign-in")
    page.wait_for_selector("#signed-in:not([hidden])")
    seen = flask_sees(tab)
    assert seen["status"] == 200, seen
    assert (seen["body"]["user_id"], seen["body"]["org_id"]) == ("user_alice", "org_acme")
    assert seen["body"]["org_role"] == "org:admin"
    tab.step("signed-in")

    # The SDK refreshes the token on its own: past the first token's expiry the cookie holds a
    # newer one and the view still sees Alice, with no handshake (no page load at all).
    first = session_cookie(tab)
    assert first is not None
    first_exp = claims(first)["exp"]
    since = len(tab.requests)
    time.sleep(max(0.0, first_exp + 0.2 - time.time()))
    wait_until(
        lambda: claims(session_cookie(tab) or first)["exp"] > time.time() + 0.5,
        "the SDK put a fresh session token in the cookie",
    )
    seen = flask_sees(tab)
    assert seen["status"] == 200 and seen["body"]["user_id"] == "user_alice", seen
    assert tab.to("/clerk/v1/client/handshake", since=since) == []
    assert tab.to("/clerk/v1/client/sessions/" + seen["body"]["session_id"] + "/tokens", since)
    tab.step("refreshed")

    page.select_option("#organization", "org_globex")
    page.wait_for_function("document.getElementById('clerk-org').textContent === 'globex'")
    wait_until(
        lambda: (flask_sees(tab)["body"] or {}).get("org_id") == "org_globex",
        "the Flask view sees the organization the SDK switched to",
    )
    assert flask_sees(tab)["body"]["org_role"] == "org:member"
    tab.step("switched")

    with page.expect_navigation():
        page.click("#sign-out")  # the SDK signs out, then loads the page again
    page.wait_for_selector("#clerk-status[data-loaded]")
    page.wait_for_selector("#sign-in:not([hidden])")
    assert flask_sees(tab)["status"] == 401
    assert session_cookie(tab) is None
    assert idp.store.sessions[seen["body"]["session_id"]].status == "ended"
    tab.step("signed-out")

    assert tab.off_loopback() == []


def test_clerk_js_email_code_sign_in_with_clerks_test_code(
    offline: Tab, idp: DevIdP, app_url: str
) -> None:
    """Clerk's test mode: a ``+clerk_test`` address signs in with the code 424242."""
    user = idp.store.add_user("dora+clerk_test@example.test", "dora-password")
    page = offline.page
    sign_in_page(offline, app_url)
    page.fill("input[name=identifier]", user.email)
    page.click("#send-code")
    page.wait_for_selector("#code-step:not([hidden])")
    page.fill("input[name=code]", "000000")
    page.click("#verify-code")
    page.wait_for_function("document.getElementById('error').textContent === 'Incorrect code'")
    page.fill("input[name=code]", TEST_CODE)
    page.click("#verify-code")
    page.wait_for_selector("#signed-in:not([hidden])")
    seen = flask_sees(offline)
    assert seen["status"] == 200 and seen["body"]["user_id"] == user.id, seen
    assert offline.off_loopback() == []
