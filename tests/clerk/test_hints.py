"""Where Clerk's message is empty, the state says why the cookies gave no session (issue 14).

The hint names cookies and the instance's frontend API, never a cookie's contents; the
``x-clerk-auth-message`` debug header stays Clerk's; a debug log line says the same.
"""

from __future__ import annotations

import logging

import pytest

from ..docs_quotes import quoted_in
from .conftest import FAPI
from .conftest import IAT
from .conftest import PK_LIVE
from .conftest import SUFFIX_LIVE
from .conftest import Clerk

LIVE = {"CLERK_PUBLISHABLE_KEY": PK_LIVE, "CLERK_SECRET_KEY": "sk_live_deadbeef"}


def test_a_session_of_another_frontend_api_says_it_was_not_read(
    clerk: Clerk, caplog: pytest.LogCaptureFixture
) -> None:
    """The case that took reading the source: valid-looking cookies, ``iss`` of another
    frontend API, so Clerk's suffix rules read the suffixed names instead."""
    caplog.set_level(logging.DEBUG, logger="flask_idguard")
    token = clerk.jwt({"iss": "https://clerk.other-app.example"})
    jar = f"__session={token}; __client_uat={IAT - 10}"
    app = clerk.app(**LIVE, CLERK_DEBUG_HEADERS=True)
    answer = clerk.request(app, "/api/me", cookies=jar, document=False, now=IAT + 5)
    assert answer.status_code == 401
    assert answer.state == {}
    state = clerk.request(app, cookies=jar, document=False, now=IAT + 5).state
    assert (state["status"], state["reason"]) == ("signed-out", "session-token-and-uat-missing")
    message = state["message"]
    assert message == (
        "__session, __client_uat not read: Clerk reads "
        f"__session_{SUFFIX_LIVE} and __client_uat_{SUFFIX_LIVE} here (the __session cookie was "
        f"not issued by this instance's frontend API ({FAPI}): it belongs to another app on "
        "this site), and they are absent."
    )
    assert token not in message and "other-app" not in message
    assert quoted_in("clerk.rst", message)  # the docs show this very message
    assert answer.headers.get("x-clerk-auth-message") is None  # Clerk's header: no message
    assert any(message in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)


def test_no_clerk_cookies_at_all(clerk: Clerk) -> None:
    state = clerk.request(clerk.app(**LIVE), cookies="theme=dark", now=IAT + 5).state
    assert state["message"] == "No Clerk session cookies (__session, __client_uat) in the request."


def test_cookies_of_another_instance_only(clerk: Clerk) -> None:
    jar = f"__session_aBcDeFgH={clerk.jwt()}; __client_uat_aBcDeFgH={IAT - 10}"
    state = clerk.request(clerk.app(**LIVE), cookies=jar, now=IAT + 5).state
    assert state["message"] == (
        "No session cookie of this Clerk instance: __client_uat_aBcDeFgH, __session_aBcDeFgH "
        f"belong to another instance (this one's cookie suffix is {SUFFIX_LIVE})."
    )


def test_a_development_instance_says_it_needs_the_dev_browser(clerk: Clerk) -> None:
    """A development key silently needed ``__clerk_db_jwt``: now the state says so (the
    request is not a page navigation, so it is signed out rather than redirected)."""
    jar = f"__session={clerk.jwt()}; __client_uat={IAT - 10}"
    state = clerk.request(clerk.app(), cookies=jar, document=False, now=IAT + 5).state
    assert (state["status"], state["reason"]) == ("signed-out", "dev-browser-missing")
    assert "__clerk_db_jwt" in state["message"]


def test_clerks_own_messages_are_kept(clerk: Clerk) -> None:
    jar = f"__session={clerk.jwt({'exp': IAT + 1})}; __client_uat={IAT - 10}"
    state = clerk.request(clerk.app(**LIVE), cookies=jar, document=False, now=IAT + 60).state
    assert state["reason"] == "session-token-expired-refresh-non-eligible-no-refresh-cookie"
    assert "JWT is expired" in state["message"]
