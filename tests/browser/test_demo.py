"""The demo flow in a real browser: Debian's headless Chromium, the example app and the local
identity provider on loopback, for a development and a production Clerk instance.

The driver is Playwright for Python, not Selenium: the proof that a reload went through
Clerk's handshake is the list of requests the page made, and Playwright reports every request,
each redirect hop included, with ``context.on("request")``, where Selenium would need
chromedriver's performance log (the DevTools protocol) to see redirects. Playwright also waits
for pages by itself, ships its type hints (mypy strict needs no override), and installs from
PyPI alone: it drives ``/usr/bin/chromium`` through ``executable_path`` (never
``playwright install``), with no chromium-driver package to keep at the browser's version.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask import Flask

from example_app import create_app
from example_app.__main__ import offline_config
from flask_idguard.devidp import DevIdP
from flask_idguard.devidp import DevIdPConfig

from .conftest import Tab

#: Session tokens live 2 s and the app allows no clock skew, so they expire within the test.
TOKEN_LIFETIME = 2
ALICE = "Sign in as Alice Admin <alice@example.test>"
GLOBEX = "Globex Corporation (org:member)"
#: The app's handshake loop counter (``__clerk_redirect_count``) lives 2 s; at 3 it signs the
#: browser out instead of starting a handshake (Clerk's loop guard). Seconds, with a margin.
LOOP_COUNTER_MAX_AGE = 2.1


@pytest.fixture(params=["development", "production"])
def idp(request: pytest.FixtureRequest) -> Iterator[DevIdP]:
    config = DevIdPConfig(instance=request.param, token_lifetime=TOKEN_LIFETIME)
    with DevIdP(config).serve() as served:
        yield served


@pytest.fixture
def app_url(idp: DevIdP, serve: Callable[[Flask], str]) -> str:
    return serve(create_app({**offline_config(idp), "IDGUARD_CLOCK_SKEW": 0}))


def token_exp(tab: Tab) -> int:
    """The ``exp`` of the session token the dashboard was rendered with."""
    exp = tab.page.get_attribute("#countdown", "data-exp")
    assert exp is not None
    return int(exp)


def sleep_until(instant: float) -> None:
    time.sleep(max(0.0, instant - time.time()))


def test_sign_in_refresh_switch_organization_sign_out(tab: Tab, idp: DevIdP, app_url: str) -> None:
    page = tab.page
    sign_in = idp.config.base_url + "/sign-in"
    dashboard = app_url + "/dashboard"

    page.goto(dashboard)
    assert page.url.startswith(sign_in + "?"), page.url
    tab.step("sign-in")

    page.get_by_role("button", name=ALICE).click()
    page.wait_for_url(dashboard)
    counter_lapsed = time.time() + LOOP_COUNTER_MAX_AGE
    assert page.text_content("#user") == "user_alice"
    assert page.text_content("#role") == "org:admin"
    assert "org:billing:manage" in (page.text_content("#permissions") or "")
    tab.step("dashboard")

    # Past the session token's expiry (no skew: expired once now >= exp), and past the
    # handshake loop counter the sign-in's handshakes left (two on a development instance: a
    # third handshake within its lifetime, for the organization switch, would be refused).
    exp = token_exp(tab)
    sleep_until(max(exp + 0.05, counter_lapsed))
    reload = len(tab.requests)
    page.reload()
    page.wait_for_url(dashboard)
    assert page.text_content("#user") == "user_alice"
    handshakes = tab.to("/clerk/v1/client/handshake", since=reload)
    assert len(handshakes) == 1, tab.requests[reload:]
    assert handshakes[0].startswith(idp.config.base_url + "/")
    (reason,) = parse_qs(urlsplit(handshakes[0]).query)["__clerk_hs_reason"]
    assert reason.startswith("session-token-expired"), reason
    tab.step("dashboard-after-handshake")

    account = idp.config.base_url + "/account?"
    page.get_by_role("link", name="Account", exact=True).click()
    page.wait_for_url(lambda url: url.startswith(account))
    tab.step("account")
    page.get_by_role("button", name=GLOBEX).click()  # back to the dashboard, via a handshake
    page.wait_for_url(dashboard)
    assert page.text_content("#role") == "org:member"
    tab.step("dashboard-member")

    response = page.goto(app_url + "/admin")
    assert response is not None and response.status == 403
    assert page.locator("#admin").count() == 0
    assert "Missing permission 'org:billing:manage'" in page.inner_text("body")
    assert page.locator("#forbidden").count() == 1  # the HTML page, not the JSON answer
    tab.step("admin-forbidden")

    page.get_by_role("link", name="Account", exact=True).click()
    page.wait_for_url(lambda url: url.startswith(account))
    page.get_by_role("button", name="Sign out").click()  # back to the app: signed out
    page.wait_for_url(lambda url: url.startswith(sign_in + "?"))
    tab.step("signed-out")
    page.goto(dashboard)
    assert page.url.startswith(sign_in + "?"), page.url
    tab.step("sign-in-again")

    assert tab.off_loopback() == []
