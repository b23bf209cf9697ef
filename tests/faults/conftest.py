"""A key server on real loopback HTTP whose answers a test breaks at will.

``KeyServer`` serves JSON documents (an issuer's discovery document and JWKS, Clerk's
``/v1/jwks``) from callables; while ``fault`` is set, every request gets that fault instead:
the port closed, a slow answer, garbage, HTML, a huge body, an error status.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server

from flask_idguard.core.fetch import MAX_BODY_BYTES

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment

#: The client's timeout in these tests (``IDGUARD_HTTP_TIMEOUT``), and how slow "slow" is.
TIMEOUT = 0.2
SLOW = 3 * TIMEOUT

Answer = tuple[int, dict[str, str], Iterable[bytes]]


def _trickle() -> Iterator[bytes]:
    yield b'{"keys": ['
    for _ in range(4):
        time.sleep(TIMEOUT)  # each chunk in time, the whole body too late
        yield b" " * 10


def _huge() -> Iterator[bytes]:
    chunk = b" " * 65536
    for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
        yield chunk


_STORM = itertools.cycle([429, 500, 502, 503, 504])


def _storm() -> Answer:
    return next(_STORM), {"Retry-After": "3600"}, [b'{"errors": [{"code": "storm"}]}']


def _slow() -> Answer:
    time.sleep(SLOW)
    return 200, {"Content-Type": "application/json"}, [b'{"keys": []}']


#: Fault name -> what the server does instead of answering (``down`` closes the port).
FAULTS: dict[str, Callable[[], Answer]] = {
    "status-500": lambda: (500, {}, [b"oops"]),
    "status-503": lambda: (503, {"Retry-After": "3600"}, [b"unavailable"]),
    "status-429": lambda: (429, {"Retry-After": "3600"}, [b'{"errors": []}']),
    "storm": _storm,  # 429, 500, 502, 503, 504, 429...
    "slow": _slow,
    "trickle": lambda: (200, {"Content-Type": "application/json"}, _trickle()),
    "garbage": lambda: (200, {"Content-Type": "application/json"}, [bytes(range(256)) * 4]),
    "html": lambda: (200, {"Content-Type": "text/html"}, [b"<html><body>Login</body></html>"]),
    "json-array": lambda: (200, {"Content-Type": "application/json"}, [b"[1, 2, 3]"]),
    "no-usable-key": lambda: (200, {}, [b'{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}']),
    "huge-declared": lambda: (
        200,
        {"Content-Length": str(2 * MAX_BODY_BYTES)},
        [b" " * (2 * MAX_BODY_BYTES)],
    ),
    "huge-streamed": lambda: (200, {"Content-Type": "application/json"}, _huge()),
}


class _Quiet(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class KeyServer:
    """JSON documents by path over loopback HTTP; ``fault`` replaces every answer."""

    def __init__(self) -> None:
        self.documents: dict[str, Callable[[], object]] = {}
        self.headers: dict[str, str] = {"Cache-Control": "max-age=300"}
        self.fault: str | None = None
        #: Requests seen, by path.
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        with self._lock:
            self.calls[path] += 1
        if self.fault is not None:
            status, headers, body = FAULTS[self.fault]()
        elif path in self.documents:
            document = json.dumps(self.documents[path]()).encode()
            status, headers, body = (
                200,
                {"Content-Type": "application/json", **self.headers},
                [document],
            )
        else:
            status, headers, body = 404, {}, [b"not found"]
        start_response(f"{status} X", list(headers.items()))
        return body

    def start(self) -> None:
        """Listen (again, on the same port once it had one)."""
        server = make_server(
            "127.0.0.1", self.port, self.app, threaded=True, request_handler=_Quiet
        )
        self.port = server.server_port
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        self._server = server

    def stop(self) -> None:
        """Close the port: connections are refused (the "down" fault)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def break_with(self, fault: str) -> None:
        """Switch ``fault`` on (``down`` stops the server)."""
        if fault == "down":
            self.stop()
        else:
            self.fault = fault

    def repair(self) -> None:
        self.fault = None
        if self._server is None:
            self.start()

    @property
    def total(self) -> int:
        return sum(self.calls.values())


ALL_FAULTS = ["down", *FAULTS]


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    server.start()
    yield server
    server.stop()
