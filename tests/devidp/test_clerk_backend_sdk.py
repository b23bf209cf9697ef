"""Wire compatibility: Clerk's own ``@clerk/backend`` 3.25.0 against the local identity provider.

``createClerkClient`` gets only what :meth:`DevIdP.env` prints (secret key, publishable key,
proxy URL, API URL; no ``jwtKey``), so it fetches the JWKS and the handshake payloads from the
provider's Backend API over loopback. Node is the app: ``tests/differential/devidp.mjs`` runs
``authenticateRequest`` on the requests this module builds, one JSON job per line, in one node
process for the module. A ``requests`` session plays the browser: it signs in on the provider's
pages, follows the SDK's handshake ``Location`` to the provider (never to the app, which has no
server), and keeps the cookies, ``Set-Cookie`` headers from the SDK included.

Needs ``make differential-deps`` (the install tests/clerk/test_differential.py uses); skipped
without it, and failed instead when ``CI`` is set.
"""

from __future__ import annotations

import json
import select
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import IO
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest
import requests
import time_machine

from flask_idguard.core.jwt import decode_unverified
from flask_idguard.devidp import DEFAULT_SEED
from flask_idguard.devidp import DevIdP
from flask_idguard.devidp import DevIdPConfig
from flask_idguard.providers.clerk.instance import cookie_suffix

from ..clerk.test_differential import NODE_DIR
from ..clerk.test_differential import clerk_backend_node

#: Seconds to wait for node's answer to one job.
JOB_TIMEOUT = 20
#: The app's origin. Node plays the app, so nothing listens there and the browser never goes
#: there; it only shares the provider's host, so both see the same cookies (as an app on
#: ``localhost:3000`` and a provider on ``localhost:8765`` would).
APP = "http://127.0.0.1:3000"
DASHBOARD = APP + "/dashboard"
#: What a browser sends on a page navigation: the SDK only handshakes documents.
NAVIGATION = {"sec-fetch-dest": "document", "accept": "text/html"}
#: The cookies the app's domain carries for Clerk (and their suffixed variants).
APP_COOKIES = (
    "__session",
    "__client_uat",
    "__clerk_db_jwt",
    "__clerk_handshake",
    "__clerk_handshake_nonce",
)
HOST = "127.0.0.1"
EXPIRED = "session-token-expired-refresh-non-eligible-no-refresh-cookie"
OUTDATED = "session-token-iat-before-client-uat"

#: The only options the SDK gets: what the provider prints, as an app would paste them.
SDK_ENV = ("CLERK_SECRET_KEY", "CLERK_PUBLISHABLE_KEY", "CLERK_PROXY_URL", "CLERK_API_URL")


# -- node ----------------------------------------------------------------------------------------


class ClerkSDK:
    """One node process running devidp.mjs: a job in, a result out."""

    def __init__(self, proc: subprocess.Popen[str], stderr: IO[str]) -> None:
        self.proc = proc
        self.stderr = stderr
        self.jobs = 0

    def _stderr(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()

    def authenticate(self, idp: DevIdP, url: str, cookies: str) -> dict[str, Any]:
        """``authenticateRequest`` on a GET navigation to ``url`` with ``cookies``, at this
        process's clock (which a test may have sent travelling)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.jobs += 1
        headers = [*NAVIGATION.items()] + ([("cookie", cookies)] if cookies else [])
        env = {k: v for k, v in idp.env().items() if k in SDK_ENV}
        job = {
            "id": self.jobs,
            "env": env,
            "url": url,
            "headers": headers,
            "now_ms": int(time.time() * 1000),
        }
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], JOB_TIMEOUT)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            pytest.fail(f"devidp.mjs gave no answer to job {job}:\n{self._stderr()}")
        result: dict[str, Any] = json.loads(line)
        assert result["id"] == self.jobs, result
        assert result["error"] is None, result["error"]
        # Not even a warning (a missing azp, a failed handshake payload...).
        assert result["logs"] == [], result["logs"]
        return result


@pytest.fixture(scope="module")
def sdk() -> Iterator[ClerkSDK]:
    node, env = clerk_backend_node("@clerk/backend against the local identity provider")
    with tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(
            [node, "devidp.mjs"],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
        )
        try:
            yield ClerkSDK(proc, stderr)
        finally:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()


# -- the browser ---------------------------------------------------------------------------------


def set_cookies(result: dict[str, Any]) -> list[str]:
    return [value for name, value in result["headers"] if name == "set-cookie"]


def header(result: dict[str, Any], name: str) -> str | None:
    return next((value for n, value in result["headers"] if n == name), None)


def cookie_value(directives: list[str], name: str) -> str | None:
    """The value the last ``Set-Cookie`` of ``name`` gives, or None."""
    values = [d.split(";", 1)[0].partition("=")[2] for d in directives if d.startswith(name + "=")]
    return values[-1] if values else None


@dataclass
class Flow:
    """A browser on the provider's pages and the SDK as the app: the steps of a session."""

    idp: DevIdP
    sdk: ClerkSDK
    browser: requests.Session = field(default_factory=requests.Session)
    #: Every Backend API call the SDK made, in order: (method, path, status).
    fetches: list[tuple[str, str, int | None]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.idp.config.base_url

    def names(self) -> set[str]:
        suffix = cookie_suffix(self.idp.config.publishable_key)
        return {*APP_COOKIES, *(f"{n}_{suffix}" for n in APP_COOKIES)}

    def app_cookies(self) -> str:
        """The Cookie header the app gets: the Clerk cookies the browser holds for its host."""
        names = self.names()
        now = time.time()
        return "; ".join(
            f"{c.name}={c.value}"
            for c in self.browser.cookies
            if c.domain == HOST and c.name in names and not c.is_expired(int(now))
        )

    def cookie(self, name: str) -> str | None:
        return self.browser.cookies.get(name, domain=HOST)

    def authenticate(self, url: str = DASHBOARD) -> dict[str, Any]:
        result = self.sdk.authenticate(self.idp, url, self.app_cookies())
        for call in result["fetches"]:
            parts = urlsplit(call["url"])
            assert parts.netloc == urlsplit(self.base).netloc, call
            self.fetches.append((call["method"], parts.path, call["status"]))
        self.store(set_cookies(result))
        return result

    def store(self, directives: list[str]) -> None:
        """What a browser does with the app's ``Set-Cookie`` headers (the SDK's)."""
        for directive in directives:
            pair, *attributes = (p.strip() for p in directive.split(";"))
            name, _, value = pair.partition("=")
            max_age = next(
                (a.partition("=")[2] for a in attributes if a.lower().startswith("max-age=")),
                None,
            )
            if max_age is not None and int(max_age) <= 0:
                try:
                    self.browser.cookies.clear(HOST, "/", name)
                except KeyError:
                    pass
                continue
            expires = int(time.time()) + int(max_age) if max_age is not None else None
            self.browser.cookies.set(name, value, domain=HOST, path="/", expires=expires)

    def page(self, path: str, data: dict[str, str]) -> requests.Response:
        """Submit one of the provider's forms; it answers with a redirect to the app."""
        r = self.browser.post(self.base + path, data=data, allow_redirects=False, timeout=10)
        assert r.status_code == 303, (r.status_code, r.text)
        assert r.headers["Location"] == data["redirect_url"]
        return r

    def follow(self, location: str) -> str:
        """Follow the SDK's handshake redirect to the provider; where it sends the browser back
        (the app: not followed)."""
        r = self.browser.get(location, headers=NAVIGATION, allow_redirects=False, timeout=10)
        assert r.status_code == 307, (r.status_code, r.text)
        back = r.headers["Location"]
        assert back.startswith(DASHBOARD), back
        return back

    def handshake(self, result: dict[str, Any]) -> str:
        """The SDK asked for a handshake: follow it; the URL the browser comes back to."""
        assert (result["status"], header(result, "cache-control")) == ("handshake", "no-store")
        location = header(result, "location")
        assert location is not None
        return self.follow(location)


def handshake_params(result: dict[str, Any], idp: DevIdP) -> dict[str, str]:
    """The handshake ``Location``'s query, after checking that it is the provider's endpoint."""
    location = header(result, "location")
    assert location is not None
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        idp.config.frontend_api_url + "/v1/client/handshake"
    )
    params = parse_qsl(parts.query, keep_blank_values=True)
    assert len({k for k, _ in params}) == len(params), params
    return dict(params)


# -- cases ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    instance: str
    handshake_format: str = "auto"
    org_claims: str = "v2"
    user: str = "user_alice"

    @property
    def id(self) -> str:
        return f"{self.instance}-{self.carrier}-{self.org_claims}-{self.user}"

    @property
    def carrier(self) -> str:
        """How the handshake's answer comes back to the app."""
        fmt = self.handshake_format
        if fmt == "auto":
            fmt = "nonce" if self.instance == "production" else "token"
        if fmt == "token":
            return "token-in-url"
        return "nonce-cookie" if self.instance == "production" else "nonce-in-url"

    def provider(self) -> DevIdP:
        return DevIdP(
            DevIdPConfig(
                instance=self.instance,  # type: ignore[arg-type]
                handshake_format=self.handshake_format,  # type: ignore[arg-type]
                org_claims=self.org_claims,  # type: ignore[arg-type]
            )
        )


CASES = [
    Case("development"),
    Case("development", handshake_format="nonce", user="user_bob"),
    Case("development", org_claims="v1"),
    Case("production"),
    Case("production", org_claims="v1", user="user_bob"),
    Case("production", user="user_carol"),
]


def seeded_auth(user_id: str) -> dict[str, Any]:
    """What the seed says the SDK should see: the user's first organization is active."""
    org = next((o for o in DEFAULT_SEED.organizations if user_id in o.members), None)
    if org is None:
        return {"userId": user_id, "orgId": None, "orgRole": None, "orgPermissions": []}
    role = org.members[user_id]
    return {
        "userId": user_id,
        "orgId": org.id,
        "orgRole": role,
        "orgSlug": org.slug,
        "orgPermissions": sorted(DEFAULT_SEED.roles[role]),
    }


def auth_of(result: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    auth = result["toAuth"] or {}
    got = {name: auth.get(name) for name in expected}
    got["orgPermissions"] = sorted(auth.get("orgPermissions") or [])
    return got


def resolved(flow: Flow, case: Case, back: str) -> dict[str, Any]:
    """The SDK on the URL the provider sent the browser back to, carrying the handshake's answer
    as ``case`` says; it must resolve it and hand out a session cookie."""
    query = dict(parse_qsl(urlsplit(back).query))
    nonce_cookie = flow.cookie("__clerk_handshake_nonce")
    if case.carrier == "token-in-url":
        assert set(query) == {"__clerk_handshake"}, back
    elif case.carrier == "nonce-in-url":
        assert set(query) == {"__clerk_handshake_nonce"}, back
    else:
        assert back == DASHBOARD and nonce_cookie, (back, nonce_cookie)
    calls = len(flow.fetches)
    result = flow.authenticate(back)
    if case.carrier != "token-in-url":
        method, path, status = flow.fetches[calls]
        assert (method, path, status) == ("GET", "/v1/clients/handshake_payload", 200)
    if case.instance == "development":
        # The SDK sends the browser on to the same URL without the handshake's parameters.
        assert header(result, "location") == DASHBOARD
    assert flow.cookie("__clerk_handshake_nonce") is None
    return result


def sign_in(flow: Flow, case: Case) -> dict[str, Any]:
    """Sign in on the provider's page, then the app's first request: a handshake (the browser
    has ``__client_uat`` and no session token yet) that the SDK resolves. The resolved state."""
    flow.page("/sign-in", {"user_id": case.user, "redirect_url": DASHBOARD})
    assert flow.cookie("__session") is None and flow.cookie("__client_uat") not in (None, "0")
    first = flow.authenticate()
    assert first["reason"] == "client-uat-but-no-session-token"
    return resolved(flow, case, flow.handshake(first))


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    assert isinstance(request.param, Case)
    return request.param


@pytest.fixture
def flow(case: Case, sdk: ClerkSDK) -> Iterator[Flow]:
    with case.provider().serve() as idp:
        flow = Flow(idp, sdk)
        with flow.browser:
            yield flow


# -- tests ---------------------------------------------------------------------------------------


def test_the_sdk_accepts_the_session_the_provider_hands_out(flow: Flow, case: Case) -> None:
    state = sign_in(flow, case)
    assert state["status"] == "signed-in", state
    token = cookie_value(set_cookies(state), "__session")
    assert token and flow.cookie("__session") == token
    expected = seeded_auth(case.user)
    assert auth_of(state, expected) == expected

    # The app's next request carries the cookies: signed in, nothing more to do.
    again = flow.authenticate()
    assert (again["status"], again["reason"], again["message"]) == ("signed-in", None, None)
    assert set_cookies(again) == [] and header(again, "location") is None
    assert auth_of(again, expected) == expected
    assert again["toAuth"]["sessionId"] == decode_unverified(token).claims["sid"]
    # Keys from the provider's Backend API, not from a jwtKey.
    assert ("GET", "/v1/jwks", 200) in flow.fetches
    assert {status for _, _, status in flow.fetches} == {200}


def test_an_expired_token_is_renewed_by_a_handshake_the_sdk_resolves(
    flow: Flow, case: Case
) -> None:
    signed_in = sign_in(flow, case)
    old = flow.cookie("__session")
    assert signed_in["status"] == "signed-in" and old
    lifetime = flow.idp.config.token_lifetime
    with time_machine.travel(time.time() + 2 * lifetime, tick=True):
        state = flow.authenticate()
        assert (state["status"], state["reason"]) == ("handshake", EXPIRED), state
        params = handshake_params(state, flow.idp)
        assert params["redirect_url"] == DASHBOARD
        assert params["__clerk_hs_reason"] == EXPIRED
        assert params["suffixed_cookies"] == "true"
        assert params["format"] == "nonce"
        assert params["__session"] == old
        assert params["__clerk_api_version"]
        if case.instance == "development":
            assert params["__clerk_db_jwt"] == flow.cookie("__clerk_db_jwt")
        else:
            assert "__clerk_db_jwt" not in params

        back = flow.handshake(state)
        renewed = resolved(flow, case, back)
        assert renewed["status"] == "signed-in", renewed
        new = cookie_value(set_cookies(renewed), "__session")
        assert new and new != old and flow.cookie("__session") == new
        claims = decode_unverified(new).claims
        assert claims["exp"] > time.time() and claims["sid"] == decode_unverified(old).claims["sid"]
        expected = seeded_auth(case.user)
        assert auth_of(renewed, expected) == expected

        again = flow.authenticate()
        assert (again["status"], again["reason"]) == ("signed-in", None)
        assert auth_of(again, expected) == expected


@pytest.mark.parametrize(
    "case", [Case("development"), Case("production")], ids=["development", "production"]
)
def test_a_signed_out_client_handshakes_to_signed_out(flow: Flow, case: Case) -> None:
    assert sign_in(flow, case)["status"] == "signed-in"
    flow.page("/sign-out", {"redirect_url": DASHBOARD})

    state = flow.authenticate()
    # Signing out sets __client_uat=0, as Clerk's frontend API does.
    assert (state["status"], state["reason"]) == ("handshake", "session-token-but-no-client-uat")
    assert handshake_params(state, flow.idp)["redirect_url"] == DASHBOARD
    out = resolved(flow, case, flow.handshake(state))
    assert (out["status"], out["reason"], out["toAuth"]["userId"]) == (
        "signed-out",
        "session-token-missing",
        None,
    )
    cleared = set_cookies(out)
    assert cookie_value(cleared, "__session") == "" and cookie_value(cleared, "__client_uat") == "0"
    assert flow.cookie("__session") is None and flow.cookie("__client_uat") == "0"

    after = flow.authenticate()
    assert (after["status"], after["reason"]) == ("signed-out", "session-token-and-uat-missing")
