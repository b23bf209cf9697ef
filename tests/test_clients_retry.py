"""Retries through the real urllib3 stack against a scripted local server.

``responses`` replaces the transport adapter, so connection resets and urllib3's own
waits are only real here. ``time.sleep`` is replaced by a recorder: waits are asserted
as values, never timed.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from flask import Flask

from flask_idguard import APIConnectionError
from flask_idguard import APIRateLimited
from flask_idguard import APIServerError
from flask_idguard import Auth0ManagementClient
from flask_idguard import ClerkClient
from flask_idguard import IdGuard
from flask_idguard.app_state import app_state
from flask_idguard.clients.base import APIRetry
from flask_idguard.providers.clerk import ClerkProvider

SECRET = "sk_test_retry-secret"
USER = b'{"id":"user_1","object":"user"}'
RESET = "reset"  # a scripted step: read the request, then reset the connection
SLOW = "slow"  # a scripted step: answer 200 after longer than the client's timeout

Step = tuple[int, dict[str, str], bytes] | str


@dataclass
class Script:
    """What the server answers, in order, and what it was sent."""

    steps: list[Step]
    seen: list[tuple[str, str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, method: str, path: str, body: bytes) -> Step:
        with self.lock:
            self.seen.append((method, path, body))
            return self.steps.pop(0) if self.steps else (500, {}, b"script exhausted")


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            step = script.next(self.command, self.path, body)
            if step == RESET:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()
                return
            if step == SLOW:
                time.sleep(0.3)  # the real sleep: the client's recorder does not reach here
                step = (200, {}, USER)
            assert not isinstance(step, str)
            status, headers, payload = step
            try:
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def server() -> Iterator[Callable[[list[Step]], tuple[str, Script]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(steps: list[Step]) -> tuple[str, Script]:
        script = Script(list(steps))
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}", script

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Waits asked of ``time.sleep`` (by urllib3's Retry), recorded instead of slept."""
    asked: list[float] = []
    real_sleep = time.sleep

    def record(seconds: float) -> None:
        if threading.current_thread() is threading.main_thread():
            asked.append(seconds)
        else:  # the server's own threads
            real_sleep(seconds)

    monkeypatch.setattr("time.sleep", record)
    return asked


OK: Step = (200, {}, USER)
CREATED: Step = (201, {}, USER)


def unavailable(**headers: str) -> Step:
    return (503, headers, b'{"errors":[{"code":"unavailable","message":"try later"}]}')


def limited(**headers: str) -> Step:
    return (429, headers, b'{"errors":[{"code":"too_many_requests","message":"slow down"}]}')


Call = Callable[[ClerkClient], Any]
GET: Call = lambda c: c.get("user_1")  # noqa: E731
CREATE: Call = lambda c: c.create(email_address=["a@x.test"])  # noqa: E731
METADATA: Call = lambda c: c.update_metadata("user_1", public={"n": 1})  # noqa: E731
DELETE: Call = lambda c: c.delete("user_1")  # noqa: E731

# id, steps, call, requests the server saw, waits asked, error raised (None: success)
RETRIES: list[tuple[str, list[Step], Call, int, list[float], type[Exception] | None]] = [
    ("get-429-waits-retry-after", [limited(**{"Retry-After": "2"}), OK], GET, 2, [2.0], None),
    ("get-503-then-success", [unavailable(), OK], GET, 2, [], None),
    ("get-429-without-a-hint-still-waits", [limited(), OK], GET, 2, [0.5], None),
    (
        "get-503-honours-retry-after",
        [unavailable(**{"Retry-After": "1"}), OK],
        GET,
        2,
        [1.0],
        None,
    ),
    ("get-connection-reset-then-success", [RESET, OK], GET, 2, [], None),
    (
        "get-backoff-grows-and-gives-up",
        [unavailable(), unavailable(), unavailable(), unavailable()],
        GET,
        4,
        "backoff",  # type: ignore[list-item]
        APIServerError,
    ),
    (
        "create-429-is-resent-not-processed",
        [limited(**{"Retry-After": "0"}), CREATED],
        CREATE,
        2,
        [],
        None,
    ),
    ("create-503-is-not-resent", [unavailable(), CREATED], CREATE, 1, [], APIServerError),
    ("create-reset-is-not-resent", [RESET, CREATED], CREATE, 1, [], APIConnectionError),
    ("metadata-503-is-not-resent", [unavailable(), OK], METADATA, 1, [], APIServerError),
    ("metadata-reset-is-not-resent", [RESET, OK], METADATA, 1, [], APIConnectionError),
    ("delete-503-is-not-resent", [unavailable(), OK], DELETE, 1, [], APIServerError),
    (
        "retry-after-over-the-cap-fails-at-once",
        [limited(**{"Retry-After": "3600"}), OK],
        GET,
        1,
        [],
        APIRateLimited,
    ),
]


@pytest.mark.parametrize(
    ("steps", "call", "requests_seen", "waits", "error"),
    [row[1:] for row in RETRIES],
    ids=[row[0] for row in RETRIES],
)
def test_retry_rules(
    server: Callable[[list[Step]], tuple[str, Script]],
    sleeps: list[float],
    steps: list[Step],
    call: Call,
    requests_seen: int,
    waits: list[float] | str,
    error: type[Exception] | None,
) -> None:
    url, script = server(steps)
    client = ClerkClient(SECRET, api_url=url)
    if error is None:
        call(client)
    else:
        with pytest.raises(error):
            call(client)
    assert len(script.seen) == requests_seen
    assert len({(m, p, b) for m, p, b in script.seen}) == 1  # the same request each time
    if waits == "backoff":
        # urllib3: none before the first retry, then backoff_factor * 2**n (+ jitter < 0.25)
        assert len(sleeps) == 2 and 1.0 <= sleeps[0] < 1.25 and 2.0 <= sleeps[1] < 2.25
    else:
        assert sleeps == waits


def test_auth0_waits_for_the_rate_limit_reset(
    server: Callable[[list[Step]], tuple[str, Script]], sleeps: list[float]
) -> None:
    url, script = server(
        [
            (200, {}, b'{"access_token":"t","expires_in":86400}'),
            (429, {"X-RateLimit-Reset": "1800000003", "X-RateLimit-Remaining": "0"}, b"{}"),
            (200, {}, b'{"user_id":"auth0|1"}'),
        ]
    )
    client = Auth0ManagementClient(url, "client-1", "client-secret")
    with time_machine.travel(1_800_000_000, tick=False):
        assert client.get("auth0|1") == {"user_id": "auth0|1"}
    assert [(m, p) for m, p, _ in script.seen] == [
        ("POST", "/oauth/token"),
        ("GET", "/api/v2/users/auth0%7C1"),
        ("GET", "/api/v2/users/auth0%7C1"),
    ]
    assert sleeps == [3.0]


def test_the_token_request_is_retried(
    server: Callable[[list[Step]], tuple[str, Script]], sleeps: list[float]
) -> None:
    """Asking for a token again changes nothing on the server: it is retried like a read."""
    url, script = server(
        [
            RESET,
            (503, {}, b""),
            (200, {}, b'{"access_token":"t","expires_in":86400}'),
            (200, {}, b'{"user_id":"auth0|1"}'),
        ]
    )
    client = Auth0ManagementClient(url, "client-1", "client-secret")
    assert client.get("auth0|1") == {"user_id": "auth0|1"}
    assert [p for _, p, _ in script.seen] == ["/oauth/token"] * 3 + ["/api/v2/users/auth0%7C1"]


@pytest.mark.parametrize(
    ("steps", "call", "requests_seen", "error"),
    [
        ([SLOW, OK], lambda c: c.get("auth0|1"), 2, None),
        ([SLOW, OK], lambda c: c.update("auth0|1", name="Ada"), 1, APIConnectionError),
        (
            [unavailable(), OK],
            lambda c: c.update_metadata("auth0|1", public={"a": 1}),
            1,
            APIServerError,
        ),
        ([RESET, OK], lambda c: c.create(connection="db", email="a@x.test"), 1, APIConnectionError),
    ],
    ids=[
        "get-timeout-is-retried",
        "patch-timeout-is-not-resent",
        "metadata-503-is-not-resent",
        "create-reset-is-not-resent",
    ],
)
def test_auth0_writes_are_not_resent_once_sent(
    server: Callable[[list[Step]], tuple[str, Script]],
    sleeps: list[float],
    steps: list[Step],
    call: Callable[[Auth0ManagementClient], Any],
    requests_seen: int,
    error: type[Exception] | None,
) -> None:
    url, script = server(steps)
    client = Auth0ManagementClient(url, token="mgmt-token", timeout=0.1)
    if error is None:
        call(client)
    else:
        with pytest.raises(error) as info:
            call(client)
        if steps[0] == SLOW:
            assert info.value.args[0] == "no answer within 0.1 s"
    assert len(script.seen) == requests_seen


def test_connection_refused_is_a_connection_error(sleeps: list[float]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ClerkClient(SECRET, api_url=f"http://127.0.0.1:{port}", retries=2)
    with pytest.raises(APIConnectionError) as info:
        client.create(email_address=["a@x.test"])  # never sent, so retried even as a POST
    assert info.value.status is None
    assert "ConnectionRefusedError" in info.value.message
    assert len(sleeps) == 1  # two retries: no wait before the first, backoff before the second
    assert SECRET not in str(info.value)


def test_a_call_may_bring_its_own_retry_policy(
    server: Callable[[list[Step]], tuple[str, Script]], sleeps: list[float]
) -> None:
    """One client (one pooled session) serves ``idguard.users`` and Clerk's request path: a
    call given ``retry=`` retries by it, the next call by the client's own policy again."""
    url, script = server([unavailable(), unavailable(), unavailable(), OK, OK])
    client = ClerkClient(SECRET, api_url=url, retries=3)
    with pytest.raises(APIServerError):
        client.call("GET", "/users/user_1", retry=APIRetry.policy(1, max_wait=1.0))
    assert len(script.seen) == 2  # the short policy: one more attempt
    assert client.get("user_1")["id"] == "user_1"  # the client's policy: 503 once more, then 200
    assert len(script.seen) == 4


def test_the_clerk_provider_and_idguard_users_share_one_client() -> None:
    app = Flask(__name__)
    app.config.update(
        CLERK_PUBLISHABLE_KEY="pk_test_Y2xlcmsuZXhhbXBsZS5jb20k", CLERK_SECRET_KEY=SECRET
    )
    idguard = IdGuard(app)
    with app.app_context():
        (provider,) = app_state().providers
        assert isinstance(provider, ClerkProvider)
        assert idguard.users is provider.backend.client
