"""Transports for :class:`TestIssuer`'s endpoints: ``responses`` callbacks or loopback HTTP.

Both only route requests to a ``respond(document)`` callable, ``document`` being
``"discovery"`` or ``"jwks"``; what is answered is the issuer's business.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeAlias

from ._crypto import compact_json

if TYPE_CHECKING:
    import responses
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"

#: ``(status, headers, body)``, or an exception to raise in the client (``responses`` only).
Answer: TypeAlias = tuple[int, dict[str, str], bytes] | Exception
Respond: TypeAlias = Callable[[str], Answer]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def mock_endpoints(
    respond: Respond, routes: Mapping[str, str], rsps: responses.RequestsMock | None
) -> responses.RequestsMock:
    """Register a GET callback per ``routes`` URL answering ``respond(document)``.

    Without ``rsps``, a new ``RequestsMock`` is created and started.
    """
    import responses

    if rsps is None:
        rsps = responses.RequestsMock(assert_all_requests_are_fired=False)
        rsps.start()

    def callback(document: str) -> Callable[[Any], Answer]:
        return lambda request: respond(document)

    for url, document in routes.items():
        rsps.add_callback(responses.GET, url, callback=callback(document), content_type=None)
    return rsps


def wsgi_app(respond: Respond) -> WSGIApplication:
    """A WSGI app serving the two well-known paths; an exception is answered with a 503."""
    routes = {DISCOVERY_PATH: "discovery", JWKS_PATH: "jwks"}

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        document = routes.get(environ.get("PATH_INFO", ""))
        if document is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD")])
            return [b""]
        result = respond(document)
        if isinstance(result, Exception):
            error = compact_json({"error": str(result)})
            result = 503, {"Content-Type": "application/json"}, error
        status, headers, body = result
        start_response(f"{status} {_reason(status)}", list(headers.items()))
        return [body]

    return app


@contextmanager
def loopback(host: str, port: int, respond: Respond) -> Iterator[str]:
    """Serve :func:`wsgi_app` on ``host``:``port`` in a thread; yield the base URL."""
    from werkzeug.serving import WSGIRequestHandler
    from werkzeug.serving import make_server

    class QuietHandler(WSGIRequestHandler):
        def log(self, type: str, message: str, *args: Any) -> None:
            pass

    app = wsgi_app(respond)
    server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    netloc = f"[{host}]" if ":" in host else host
    thread.start()
    try:
        yield f"http://{netloc}:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
