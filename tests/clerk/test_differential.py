"""Differential test: the same requests through ``@clerk/backend`` 3.25.0 and through IdGuard.

Node runs ``tests/differential/authenticate.mjs`` once over every scenario of
:mod:`tests.clerk.scenarios`; each scenario is then replayed through a Flask app with
``IdGuard(app)`` at the same frozen instant, with the same canned Backend API answers, and the
answers are compared: status, reason, message, HTTP status, ``Location`` (origin, path and the
ordered query parameters), every ``Set-Cookie`` in order, the ``x-clerk-auth-*``,
``Cache-Control`` and ``Access-Control-Allow-*`` headers, the auth fields and the Backend API
calls made. The node side needs ``make differential-deps`` (``npm ci`` in tests/differential/).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest
import requests
import responses
import time_machine
from flask import Flask
from flask import Response
from flask import jsonify

from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard.errors import ConfigurationError
from flask_idguard.providers.clerk.hints import HINTED

from ..conftest import unavailable
from .scenarios import API_URL
from .scenarios import Scenario
from .scenarios import scenarios

NODE_DIR = Path(__file__).resolve().parents[1] / "differential"
CLERK_VERSION = "3.25.0"
NODE_TIMEOUT = 60

#: Response headers compared (besides Location and Set-Cookie, compared structurally).
COMPARED_HEADERS = (
    "x-clerk-auth-status",
    "x-clerk-auth-reason",
    "x-clerk-auth-message",
    "cache-control",
    "access-control-allow-origin",
    "access-control-allow-credentials",
)
#: Headers of the app's own answer (the JSON view), not of the authentication.
APP_HEADERS = ("content-type", "content-length", "vary")
AUTH_FIELDS = ("userId", "sessionId", "orgId", "orgRole", "orgSlug", "orgPermissions")
#: The auth object of a machine scenario (one with ``acceptsToken``), when Clerk builds one.
MACHINE_FIELDS = ("tokenType", "machineId", "subject", "scopes", "claims")
#: Refresh request body members compared (request_headers differ by construction: each server
#: sees its own header set).
REFRESH_BODY = ("format", "expired_token", "refresh_token", "request_origin",
                "secret", "token", "access_token")  # fmt: skip

_OPTION_KEYS = {
    "publishableKey": "CLERK_PUBLISHABLE_KEY",
    "secretKey": "CLERK_SECRET_KEY",
    "jwtKey": "CLERK_JWT_KEY",
    "apiUrl": "CLERK_API_URL",
    "authorizedParties": "CLERK_AUTHORIZED_PARTIES",
    "audience": "CLERK_AUDIENCE",
    "domain": "CLERK_DOMAIN",
    "isSatellite": "CLERK_IS_SATELLITE",
    "proxyUrl": "CLERK_PROXY_URL",
    "signInUrl": "CLERK_SIGN_IN_URL",
    "satelliteAutoSync": "CLERK_SATELLITE_AUTO_SYNC",
    "machineSecretKey": "CLERK_MACHINE_SECRET_KEY",
}


# -- node side -----------------------------------------------------------------------------------


def _missing_install() -> str | None:
    if shutil.which("node") is None:
        return "node is not on PATH"
    package = NODE_DIR / "node_modules" / "@clerk" / "backend" / "package.json"
    if not package.is_file():
        return f"{package.parent} is missing"
    version = json.loads(package.read_text())["version"]
    if version != CLERK_VERSION:
        return (
            f"@clerk/backend {version} is installed, the scenarios are written for {CLERK_VERSION}"
        )
    return None


def clerk_backend_node(what: str) -> tuple[str, dict[str, str]]:
    """node and its environment for running @clerk/backend, or skip (fail under CI) saying
    why ``what`` cannot run."""
    problem = _missing_install()
    if problem is not None:
        unavailable(f"{what} cannot run: {problem}; run `make differential-deps`")
    node = shutil.which("node")
    assert node is not None
    return node, {"PATH": os.environ.get("PATH", ""), "CLERK_TELEMETRY_DISABLED": "1"}


@pytest.fixture(scope="session")
def clerk_results() -> dict[str, dict[str, Any]]:
    """Every scenario through @clerk/backend, in one node run: {id: result}."""
    node, env = clerk_backend_node("differential test against @clerk/backend")
    payload = json.dumps([s.node_input() for s in scenarios()])
    proc = subprocess.run(
        [node, "authenticate.mjs"],
        cwd=NODE_DIR,
        input=payload,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"authenticate.mjs exited with {proc.returncode}:\n{proc.stderr}")
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    return {r["id"]: r for r in results}


def _params() -> Iterator[Any]:
    for s in scenarios():
        marks = [pytest.mark.xfail(strict=True, reason=s.deviation)] if s.deviation else []
        yield pytest.param(s, id=s.id, marks=marks)


@pytest.mark.parametrize("scenario", [pytest.param(s, id=s.id) for s in scenarios()])
def test_clerk_behaves_as_the_spec_says(
    scenario: Scenario, clerk_results: dict[str, dict[str, Any]]
) -> None:
    """The harness check: node's answer is the one the spec predicts for this scenario."""
    result = clerk_results[scenario.id]
    status, reason = scenario.expect
    unexpected = [c for c in result["bapi_calls"] if c.get("unexpected")]
    assert not unexpected, f"unexpected Backend API calls: {unexpected}"
    if status == "error":
        assert result["error"] is not None and reason is not None and reason in result["error"], (
            result
        )
        return
    assert result["error"] is None, result["error"]
    assert (result["status"], result["reason"]) == (status, reason), result["message"]


# -- IdGuard side --------------------------------------------------------------------------------


#: A Backend API call: (method, path?query, Authorization header, compared body members).
BapiCall = tuple[str, str, str | None, dict[str, Any] | None]


@dataclass
class Answer:
    """One side's answer, normalised for comparison."""

    outcome: str  # signed-in / signed-out / handshake / error
    reason: str | None = None
    message: str | None = None
    http: int | None = None
    error: str | None = None
    headers: dict[str, str | None] = field(default_factory=dict)
    location: tuple[str, str, str, list[tuple[str, str]], str] | None = None
    set_cookie: list[str] = field(default_factory=list)
    #: Any other header: neither side should add one.
    other_headers: list[tuple[str, str]] = field(default_factory=list)
    auth: dict[str, Any] = field(default_factory=dict)
    bapi: list[BapiCall] = field(default_factory=list)


def _location(value: str | None) -> tuple[str, str, str, list[tuple[str, str]], str] | None:
    if value is None:
        return None
    parts = urlsplit(value)
    query = parse_qsl(parts.query, keep_blank_values=True)
    return (parts.scheme, parts.netloc, parts.path, query, parts.fragment)


def _bapi_call(method: str, url: str, authorization: str | None, body: Any) -> BapiCall:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if isinstance(body, dict):
        body = {k: body.get(k) for k in REFRESH_BODY if k in body}
    return (method, target, authorization, body or None)


def _other_headers(
    headers: Iterable[tuple[str, str]], ignored: Iterable[str] = ()
) -> list[tuple[str, str]]:
    known = {*COMPARED_HEADERS, "location", "set-cookie", *ignored}
    return sorted((name.lower(), value) for name, value in headers if name.lower() not in known)


def clerk_answer(result: dict[str, Any]) -> Answer:
    """Normalise a node result; the HTTP status is what an Express-style adapter answers."""
    if result["error"] is not None:
        return Answer("error", error=result["error"])
    single = {name: value for name, value in result["headers"] if name != "set-cookie"}
    location = single.get("location")
    auth = result["toAuth"] or {}
    permissions = auth.get("orgPermissions")
    return Answer(
        result["status"],
        reason=result["reason"],
        message=result["message"] or None,
        http=307 if location is not None else 200,
        headers={name: single.get(name) for name in COMPARED_HEADERS},
        location=_location(location),
        set_cookie=[value for name, value in result["headers"] if name == "set-cookie"],
        other_headers=_other_headers(result["headers"]),
        auth={
            **{name: auth.get(name) for name in AUTH_FIELDS},
            "orgPermissions": sorted(permissions) if permissions else [],
            **(_machine_fields(auth) if result["toAuth"] is not None else {}),
        },
        bapi=[
            _bapi_call(c["method"], c["url"], c["headers"].get("authorization"), c["body"])
            for c in result["bapi_calls"]
        ],
    )


def _config(options: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name, value in options.items():
        if name in _OPTION_KEYS:
            config[_OPTION_KEYS[name]] = value
        elif name == "organizationSyncOptions":
            config["CLERK_ORGANIZATION_SYNC_OPTIONS"] = {
                "organization_patterns": value.get("organizationPatterns", []),
                "personal_account_patterns": value.get("personalAccountPatterns", []),
            }
        elif name == "acceptsToken":
            continue  # the route's requires_auth(accepts_token=...), see _app
        elif name == "clockSkewInMs":
            config["IDGUARD_CLOCK_SKEW"] = value / 1000
        else:
            raise AssertionError(f"no IdGuard configuration key for Clerk option {name!r}")
    return config


def _app(scenario: Scenario, seen: dict[str, Any]) -> Flask:
    app = Flask("idguard-differential")
    app.config.update(_config(scenario.options))
    IdGuard(app)

    def view(p: str = "") -> Response:
        return jsonify(
            status=current_auth.status,
            reason=current_auth.reason,
            message=current_auth.message,
            user_id=current_auth.user_id,
            org_id=current_auth.org_id,
            org_role=current_auth.org_role,
            org_permissions=sorted(current_auth.org_permissions),
        )

    accepts = scenario.options.get("acceptsToken")
    if accepts is not None:  # every state reaches the view, decided for this route's types
        view = requires_auth(optional=True, pass_invalid=True, accepts_token=accepts)(view)
    methods = ["GET", "POST", "HEAD"]
    app.add_url_rule("/", "root", view, methods=methods)
    app.add_url_rule("/<path:p>", "any", view, methods=methods)

    @app.after_request
    def capture(response: Response) -> Response:
        # Also runs for the hook's own 307, where the view is not reached.
        try:
            seen.update(
                status=current_auth.status,
                reason=current_auth.reason,
                message=current_auth.message,
                userId=current_auth.user_id,
                sessionId=current_auth.session_id,
                orgId=current_auth.org_id,
                orgRole=current_auth.org_role,
                orgSlug=current_auth.org_slug,
                orgPermissions=sorted(current_auth.org_permissions),
                tokenType=current_auth.token_type,
                machineId=current_auth.machine_id,
                subject=current_auth.subject,
                scopes=sorted(current_auth.scopes),
                claims=dict(current_auth.claims) if current_auth.machine is not None else None,
            )
        except Exception as exc:  # the hook itself failed: the 500 says so
            seen["error"] = f"{type(exc).__name__}: {exc}"
        return response

    return app


def idguard_answer(scenario: Scenario) -> Answer:
    """Replay ``scenario`` through IdGuard at the same instant with the same canned BAPI."""
    seen: dict[str, Any] = {}
    calls: list[BapiCall] = []
    try:
        app = _app(scenario, seen)
    except ConfigurationError as exc:
        return Answer("error", error=f"ConfigurationError at init_app: {exc}")

    def bapi(request: requests.PreparedRequest) -> Any:
        assert request.url is not None and request.method is not None
        parts = urlsplit(request.url)
        key = f"{request.method} {parts.path}" + (f"?{parts.query}" if parts.query else "")
        body: Any = request.body
        if isinstance(body, bytes):
            body = body.decode()
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                pass
        auth = request.headers.get("Authorization")
        calls.append(_bapi_call(request.method, request.url, auth, body))
        canned = scenario.bapi.get(key)
        if canned is None:
            return requests.ConnectionError(f"differential stub: unexpected {key}")
        if canned.get("network_error"):
            return requests.ConnectionError("simulated network failure")
        headers = {"Content-Type": "application/json"}
        return (canned.get("status", 200), headers, json.dumps(canned.get("body")))

    url = urlsplit(scenario.url)
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as rsps,
        time_machine.travel(scenario.now_ms / 1000, tick=False),
    ):
        any_api = re.compile(re.escape(API_URL) + r"(/.*)?$")
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            rsps.add_callback(method, any_api, callback=bapi)
        client = app.test_client(use_cookies=False)
        response = client.open(
            url.path or "/",
            base_url=f"{url.scheme}://{url.netloc}",
            query_string=url.query,
            method=scenario.method,
            headers=list(scenario.headers),
        )
    headers = response.headers
    bapi_calls = calls
    if response.status_code >= 500 or "error" in seen:
        return Answer(
            "error",
            http=response.status_code,
            error=seen.get("error") or f"HTTP {response.status_code}",
            bapi=bapi_calls,
        )
    return Answer(
        seen["status"],
        reason=seen["reason"],
        message=seen["message"] or None,
        http=response.status_code,
        headers={name: headers.get(name) for name in COMPARED_HEADERS},
        location=_location(headers.get("Location")),
        set_cookie=headers.getlist("Set-Cookie"),
        other_headers=_other_headers(headers.items(), APP_HEADERS),
        auth={name: seen[name] for name in (*AUTH_FIELDS, *MACHINE_FIELDS)},
        bapi=bapi_calls,
    )


def _machine_fields(auth: dict[str, Any]) -> dict[str, Any]:
    """Clerk's machine auth fields as IdGuard states them: scopes a sorted list, custom claims
    only on a verified machine token (an object, ``{}`` for none)."""
    machine = auth.get("tokenType") in ("api_key", "m2m_token", "oauth_token")
    verified = machine and auth.get("isAuthenticated")
    return {
        "tokenType": auth.get("tokenType"),
        "machineId": auth.get("machineId"),
        "subject": auth.get("subject"),
        "scopes": sorted(auth.get("scopes") or []),
        "claims": (auth.get("claims") or {}) if verified else None,
    }


# -- comparison ----------------------------------------------------------------------------------


def differences(
    clerk: Answer, ours: Answer, *, machine: bool = False
) -> list[tuple[str, object, object]]:
    """(field, clerk, idguard) for every compared field that differs; ``machine``: the
    scenario's route names ``acceptsToken``, and Clerk's machine auth fields are compared
    too (when Clerk builds an auth object)."""
    if clerk.outcome == "error" or ours.outcome == "error":
        # Clerk throws: IdGuard must refuse too (a 500, or init_app's ConfigurationError for a
        # configuration mistake), and say what Clerk says.
        if clerk.outcome != ours.outcome:
            return [("outcome", f"{clerk.outcome}: {clerk.error}", f"{ours.outcome}: {ours.error}")]
        if str(clerk.error) not in str(ours.error):
            return [("error message (clerk's must be part of idguard's)", clerk.error, ours.error)]
        return []
    ours_message = ours.message
    if not clerk.message and ours.reason in HINTED and ours_message and "eyJ" not in ours_message:
        # Where Clerk says nothing, IdGuard's state says why (docs/clerk.rst, deliberate
        # differences; the hints are tested in tests/clerk/test_hints.py): never a token.
        ours_message = clerk.message
    pairs: list[tuple[str, object, object]] = [
        ("status", clerk.outcome, ours.outcome),
        ("reason", clerk.reason, ours.reason),
        ("message", clerk.message, ours_message),
        ("http", clerk.http, ours.http),
    ]
    for name in COMPARED_HEADERS:
        pairs.append((f"header {name}", clerk.headers.get(name), ours.headers.get(name)))
    cl, ol = clerk.location, ours.location
    if cl is None or ol is None:
        pairs.append(("location", cl, ol))
    else:
        pairs.append(("location origin+path", cl[:3], ol[:3]))
        pairs.append(("location fragment", cl[4], ol[4]))
        pairs.append(("location params", cl[3], ol[3]))
    pairs.append(("set-cookie", clerk.set_cookie, ours.set_cookie))
    pairs.append(("other headers", clerk.other_headers, ours.other_headers))
    for name in AUTH_FIELDS:
        pairs.append((f"auth {name}", clerk.auth.get(name), ours.auth.get(name)))
    if machine and clerk.auth.get("tokenType", "absent") != "absent":
        for name in MACHINE_FIELDS:
            pairs.append((f"auth {name}", clerk.auth.get(name), ours.auth.get(name)))
    pairs.append(("backend api calls", clerk.bapi, ours.bapi))
    return [(name, c, o) for name, c, o in pairs if c != o]


def _side_by_side(scenario: Scenario, diffs: list[tuple[str, object, object]]) -> str:
    lines = [f"{scenario.id}: IdGuard differs from @clerk/backend {CLERK_VERSION}"]
    for name, clerk, ours in diffs:
        if isinstance(clerk, list) and isinstance(ours, list):
            lines.append(f"  {name}:")
            for i in range(max(len(clerk), len(ours))):
                c = clerk[i] if i < len(clerk) else "<none>"
                o = ours[i] if i < len(ours) else "<none>"
                mark = "  " if c == o else "!="
                lines.append(f"    [{i}] {mark} clerk:   {c!r}")
                lines.append(f"    [{i}] {mark} idguard: {o!r}")
        else:
            lines.append(f"  {name}:")
            lines.append(f"      clerk:   {clerk!r}")
            lines.append(f"      idguard: {ours!r}")
    return "\n".join(lines)


@pytest.mark.parametrize("scenario", list(_params()))
def test_idguard_answers_as_clerk(
    scenario: Scenario, clerk_results: dict[str, dict[str, Any]]
) -> None:
    clerk = clerk_answer(clerk_results[scenario.id])
    ours = idguard_answer(scenario)
    diffs = differences(clerk, ours, machine="acceptsToken" in scenario.options)
    if diffs:
        pytest.fail(_side_by_side(scenario, diffs), pytrace=False)
