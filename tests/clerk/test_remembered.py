"""Remembered cookie decisions (providers/clerk/remembered.py): a repeated signed-in page view
skips the decision tree, and no change of any input it was keyed on reuses it.

The property test is differential: the same request goes to an app that remembers and to an
app that never does, after the remembering app has seen the baseline request, and both must
decide alike, whatever was changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard.providers.clerk.provider import ClerkProvider
from flask_idguard.providers.clerk.remembered import INPUTS

from .conftest import AZP
from .conftest import IAT
from .conftest import PK_LIVE
from .conftest import PK_TEST
from .conftest import SUFFIX_LIVE
from .conftest import USER
from .conftest import Answer
from .conftest import Clerk

LIVE = {"CLERK_PUBLISHABLE_KEY": PK_LIVE, "CLERK_SECRET_KEY": "sk_live_deadbeef"}
ORG_SYNC = {
    "CLERK_ORGANIZATION_SYNC_OPTIONS": {
        "organization_patterns": ["/orgs/:slug", "/orgs/:slug/(.*)"],
        "personal_account_patterns": ["/me", "/me/(.*)"],
    }
}
SAME_ORIGIN = "http://example.com/from"


def provider(app: Flask) -> ClerkProvider:
    found = app.extensions["idguard"].providers[0]
    assert isinstance(found, ClerkProvider)
    return found


class Spy:
    """Counts the decision tree's runs of one app."""

    def __init__(self, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        authenticator = provider(app).authenticator
        run = authenticator.authenticate

        def counted(rq: Any) -> Any:
            self.calls += 1
            return run(rq)

        monkeypatch.setattr(authenticator, "authenticate", counted)


def forgetful(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The same app, never answering from memory: the reference."""
    monkeypatch.setattr(provider(app), "remembered", lambda environ, now: None)
    return app


def signed_in_jar(clerk: Clerk, claims: dict[str, Any] | None = None) -> str:
    token = clerk.jwt(claims or {"org_id": "org_1", "org_slug": "acme"})
    return f"__client_uat={IAT - 10}; __session={token}"


def test_a_repeated_signed_in_page_view_is_decided_once(
    clerk: Clerk, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = clerk.app(**LIVE)
    spy = Spy(app, monkeypatch)
    jar = signed_in_jar(clerk)
    answers = [clerk.request(app, "/api/me", cookies=jar, now=IAT + 5) for _ in range(3)]
    assert [a.state["user_id"] for a in answers] == [answers[0].state["user_id"]] * 3
    assert answers[0].state["status"] == "signed-in"
    assert spy.calls == 1
    assert len(provider(app).decisions) == 1


@pytest.mark.parametrize(
    ("later", "why"),
    [
        (IAT + 60, "the token's exp (no leeway: it is decided afresh)"),
        (IAT - 11, "before the verification's start (a clock set back)"),
    ],
)
def test_a_remembered_decision_ends_with_the_token(
    clerk: Clerk, monkeypatch: pytest.MonkeyPatch, later: int, why: str
) -> None:
    app = clerk.app(**LIVE)
    spy = Spy(app, monkeypatch)
    jar = signed_in_jar(clerk)
    assert clerk.request(app, cookies=jar, now=IAT + 5).state["status"] == "signed-in"
    clerk.request(app, cookies=jar, now=later)
    assert spy.calls == 2, why


def test_a_remembered_decision_ends_with_its_verification(
    clerk: Clerk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token valid for an hour is re-verified after the verified-token cache's max_age
    (60 s), so a key withdrawn upstream stops working as fast as without this memory."""
    app = clerk.app(**LIVE)
    spy = Spy(app, monkeypatch)
    jar = f"__client_uat={IAT - 10}; __session={clerk.jwt({'exp': IAT + 3600})}"
    for now in (IAT + 1, IAT + 30, IAT + 62):
        assert clerk.request(app, cookies=jar, now=now).state["status"] == "signed-in"
    assert spy.calls == 2


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"headers": {"Authorization": "Bearer x"}}, "a header token decides alone"),
        ({"path": "/path?__clerk_synced=true"}, "a __clerk_* parameter may log"),
        ({"cookies": "__clerk_redirect_count=1"}, "the loop guard logs"),
        ({"cookies": "__clerk_handshake=garbage"}, "a handshake resolution logs"),
    ],
)
def test_requests_that_are_not_remembered(
    clerk: Clerk, monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], why: str
) -> None:
    app = clerk.app(**LIVE)
    spy = Spy(app, monkeypatch)
    jar = signed_in_jar(clerk)
    if "cookies" in change:
        change = {"cookies": f"{jar}; {change['cookies']}"}
    else:
        change = {"cookies": jar, **change}
    for _ in range(2):
        clerk.request(app, **change, now=IAT + 5)
    assert spy.calls == 2, why
    assert len(provider(app).decisions) == 0


def test_only_signed_in_decisions_are_remembered(
    clerk: Clerk, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = clerk.app(**LIVE, **ORG_SYNC)
    spy = Spy(app, monkeypatch)
    jars = [
        "__client_uat=0",  # signed out
        f"__client_uat={IAT + 30}; __session={clerk.jwt()}",  # handshake: outdated token
    ]
    for jar in jars:
        for _ in range(2):
            assert clerk.request(app, "/orgs/other", cookies=jar, now=IAT + 5).state.get(
                "status"
            ) != ("signed-in")
    assert spy.calls == 4
    assert len(provider(app).decisions) == 0


def test_the_memory_is_bounded(clerk: Clerk) -> None:
    app = clerk.app(**LIVE)
    memory = provider(app).decisions
    jar = signed_in_jar(clerk)
    client = app.test_client(use_cookies=False)
    with time_machine.travel(IAT + 5, tick=False):
        for i in range(2100):
            client.get(f"/p{i}", headers={"Host": "example.com", "Cookie": jar})
    assert 0 < len(memory) <= 2048


# -- the differential property: no change of any input reuses a decision ---------------------

OTHER_USER = {"sub": "user_other", "org_id": "org_2", "org_slug": "globex"}


def baseline(clerk: Clerk, development: bool) -> dict[str, Any]:
    """A signed-in page view (organization acme, at its page), remembered first."""
    jar = signed_in_jar(clerk) + ("; __clerk_db_jwt=dvb_1" if development else "")
    return {
        "method": "GET",
        "path": "/orgs/acme",
        "base_url": "http://clerk.com",
        "headers": {"Host": "example.com", "Referer": SAME_ORIGIN, "Sec-Fetch-Dest": "document"},
        "cookies": jar,
        "now": IAT + 5,
    }


def _jars(clerk: Clerk, jar: str) -> list[str]:
    uat = f"__client_uat={IAT - 10}"
    return [
        jar.replace(uat, f"__client_uat={IAT + 1}"),  # the token predates the client's update
        jar.replace(uat, "__client_uat=0"),
        uat,
        jar.replace("; __clerk_db_jwt=dvb_1", ""),
        jar.replace(signed_in_jar(clerk), f"{uat}; __session={clerk.jwt(OTHER_USER)}"),
        jar.replace(
            signed_in_jar(clerk), f"{uat}; __session={clerk.jwt({'azp': 'https://e.vil'})}"
        ),
        f"{jar}; __client_uat_{SUFFIX_LIVE}=0",
        f"{jar}; __refresh_{SUFFIX_LIVE}=r",
        f"{jar}; __clerk_redirect_count=2",
        f"{jar}; other=1",
    ]


#: Per input, values that may change the decision (None drops a header).
HEADER_VALUES: dict[str, list[str | None]] = {
    "Referer": [None, "https://satellite.test/x", "https://accounts.example.com/", "nonsense"],
    "Sec-Fetch-Dest": [None, "empty", "iframe"],
    "Accept": ["text/html", "application/json"],
    "X-Forwarded-Host": ["example.com", "evil.test", "example.com:8443"],
    "X-Forwarded-Proto": ["http", "https", "ftp"],
    "Host": ["other.test", "EXAMPLE.com"],
    "Authorization": ["Bearer x"],
}
OTHER_VALUES: dict[str, list[Any]] = {
    "method": ["GET", "POST", "HEAD", "PUT"],
    "path": ["/orgs/globex", "/me", "/path", "/orgs/acme?x=1", "/orgs/acme?__clerk_db_jwt=d2",
             "/orgs/acme?%5F%5Fclerk_synced=false", "/orgs/%61cme", "/orgs/acme/"],
    "base_url": ["https://clerk.com", "https://clerk.com:80", "http://clerk.com:8080"],
    "now": [IAT + 59, IAT + 60, IAT + 64, IAT + 70, IAT - 11],
}  # fmt: skip
INPUT_NAMES = ["cookies", *HEADER_VALUES, *OTHER_VALUES]


@st.composite
def changed_requests(draw: st.DrawFn, clerk: Clerk, development: bool) -> dict[str, Any]:
    """The baseline with one to three of its inputs changed."""
    request = baseline(clerk, development)
    request["headers"] = dict(request["headers"])
    for name in draw(st.lists(st.sampled_from(INPUT_NAMES), min_size=1, max_size=3, unique=True)):
        if name == "cookies":
            request["cookies"] = draw(st.sampled_from(_jars(clerk, request["cookies"])))
        elif name in HEADER_VALUES:
            request["headers"][name] = draw(st.sampled_from(HEADER_VALUES[name]))
        else:
            request[name] = draw(st.sampled_from(OTHER_VALUES[name]))
    return request


def seen(answer: Answer) -> tuple[Any, ...]:
    state = answer.state
    return (
        answer.status_code,
        answer.status,
        answer.reason,
        state.get("user_id"),
        state.get("org_id"),
        answer.location,
        sorted(answer.set_cookies),
    )


@pytest.fixture(params=["production", "development"])
def instance(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    config: dict[str, Any] = dict(ORG_SYNC, CLERK_AUTHORIZED_PARTIES=[AZP, "http://example.com"])
    if request.param == "production":
        config.update(LIVE)
    else:
        config["CLERK_PUBLISHABLE_KEY"] = PK_TEST
    yield config


def served(app: Flask, raw_target: bool) -> Flask:
    """``app`` behind a server that does (gunicorn) or does not (wsgiref) send the raw target."""
    if not raw_target:
        wsgi = app.wsgi_app

        def without_raw_target(environ: dict[str, Any], start_response: Any) -> Any:
            environ.pop("RAW_URI", None)
            environ.pop("REQUEST_URI", None)
            return wsgi(environ, start_response)

        app.wsgi_app = without_raw_target  # type: ignore[method-assign]
    return app


def single_changes() -> list[tuple[str, Any]]:
    """Every (input, value) of the tables, one at a time; cookie jars by index."""
    changes: list[tuple[str, Any]] = [("cookies", i) for i in range(10)]
    changes += [(name, v) for name, values in HEADER_VALUES.items() for v in values]
    changes += [(name, v) for name, values in OTHER_VALUES.items() for v in values]
    return changes


def changed(clerk: Clerk, request: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    request = {**request, "headers": dict(request["headers"])}
    if name == "cookies":
        request["cookies"] = _jars(clerk, request["cookies"])[value]
    elif name in HEADER_VALUES:
        request["headers"][name] = value
    else:
        request[name] = value
    return request


#: A second signed-in base: a cross-origin POST to another organization's page is not
#: eligible for a handshake, so it is signed in; the same request as a GET is not.
NOT_ELIGIBLE = {"method": "POST", "path": "/orgs/globex"}


@pytest.mark.parametrize("raw_target", [True, False], ids=["raw-target", "no-raw-target"])
@pytest.mark.parametrize("base", ["baseline", "not-eligible"])
def test_each_input_alone_changes_what_is_reused(
    clerk: Clerk,
    instance: dict[str, Any],
    raw_target: bool,
    base: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    development = instance["CLERK_PUBLISHABLE_KEY"] == PK_TEST
    remembering = served(clerk.app(**instance), raw_target)
    reference = served(forgetful(clerk.app(**instance), monkeypatch), raw_target)
    start = baseline(clerk, development)
    if base == "not-eligible":
        start = {**start, **NOT_ELIGIBLE}
        start["headers"] = {**start["headers"], "Referer": "https://satellite.test/"}
    first = clerk.request(remembering, **start)
    assert (first.status, first.state.get("user_id")) == ("signed-in", USER)
    differing = 0
    for name, value in single_changes():
        request = changed(clerk, start, name, value)
        expected = seen(clerk.request(reference, **request))
        differing += expected != seen(first)
        assert seen(clerk.request(remembering, **request)) == expected, (name, value)
    assert differing >= 5  # the changes include ones that matter


@pytest.mark.parametrize("raw_target", [True, False], ids=["raw-target", "no-raw-target"])
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_change_of_an_input_reuses_a_decision(
    clerk: Clerk,
    instance: dict[str, Any],
    raw_target: bool,
    monkeypatch: pytest.MonkeyPatch,
    data: st.DataObject,
) -> None:
    """The remembering app sees the baseline and one changed request, then answers another
    changed request twice (the second time possibly from memory) as the reference does."""
    development = instance["CLERK_PUBLISHABLE_KEY"] == PK_TEST
    remembering = served(clerk.app(**instance), raw_target)
    reference = served(forgetful(clerk.app(**instance), monkeypatch), raw_target)
    first = clerk.request(remembering, **baseline(clerk, development))
    assert (first.status, first.state.get("user_id")) == ("signed-in", USER)
    primer, changed = data.draw(st.tuples(*[changed_requests(clerk, development)] * 2))
    clerk.request(remembering, **primer)
    for _ in range(2):
        assert seen(clerk.request(remembering, **changed)) == seen(
            clerk.request(reference, **changed)
        )


class Recording(dict[str, Any]):
    """A WSGI environ that notes which entries are read while ``active``."""

    active = False

    def __init__(self, environ: dict[str, Any], read: set[str]) -> None:
        super().__init__(environ)
        self.read = read

    def _note(self, key: object) -> None:
        if self.active:
            self.read.add(str(key))

    def get(self, key: str, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)


@pytest.mark.parametrize("development", [False, True])
def test_the_key_holds_every_entry_the_decision_reads(
    clerk: Clerk, monkeypatch: pytest.MonkeyPatch, development: bool
) -> None:
    """Every environ entry Clerk's decision reads for a signed-in page view is in INPUTS
    (the environ records what is read from the moment the provider is asked)."""
    config: dict[str, Any] = dict(ORG_SYNC)
    if not development:
        config.update(LIVE)
    app = clerk.app(**config)
    found = provider(app)
    decide = found.authenticate
    recorded: set[str] = set()
    wsgi = app.wsgi_app

    def recording_app(environ: dict[str, Any], start_response: Any) -> Any:
        return wsgi(Recording(environ, recorded), start_response)

    def recording(ctx: Any) -> Any:
        environ = ctx.request.environ
        assert isinstance(environ, Recording)
        environ.active = True
        try:
            return decide(ctx)
        finally:
            environ.active = False

    monkeypatch.setattr(app, "wsgi_app", recording_app)
    monkeypatch.setattr(found, "authenticate", recording)
    jar = signed_in_jar(clerk) + ("; __clerk_db_jwt=dvb_1" if development else "")
    headers = {"Referer": SAME_ORIGIN, "X-Forwarded-Host": "example.com", "Accept": "text/html"}
    answer = clerk.request(app, "/orgs/acme?x=1", cookies=jar, headers=headers, now=IAT + 5)
    assert answer.state["status"] == "signed-in"
    assert {"HTTP_COOKIE", "HTTP_REFERER"} <= recorded
    assert recorded - set(INPUTS) == set()
