"""The local identity provider as a whole: its instance, its Flask app, a server for tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from .app import create_app
from .config import DevIdPConfig
from .instance import Instance
from .webhooks import SENDER
from .webhooks import WebhookSender

__all__ = ["DevIdP"]


class DevIdP(Instance):
    """A Clerk instance, an Auth0 tenant and an OIDC issuer for development and tests.

    ``DevIdP(config, seed=..., state_file=...)``; :attr:`app` is its Flask (WSGI) app, to
    serve on a port (:meth:`serve`, ``python -m flask_idguard.devidp``) or mount inside an
    app; :meth:`env` gives the configuration an app needs to trust it.
    """

    _app: Flask | None = None

    @property
    def app(self) -> Flask:
        """The WSGI app (made once)."""
        if self._app is None:
            self._app = create_app(self)
        return self._app

    @property
    def webhooks(self) -> WebhookSender:
        """Sends Clerk's webhooks to ``config.webhook_url`` (``sync``, ``flush``, ``close``)."""
        sender: WebhookSender = self.app.extensions[SENDER]
        return sender

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[DevIdP]:
        """Serve on ``host:port`` (0: a free port) in a background thread; ``base_url`` is set
        to the bound address when it was the default."""
        from werkzeug.serving import make_server

        server = make_server(host, port, self.app, threaded=True)
        bound = f"http://{host}:{server.server_port}"
        if self.config.base_url == DevIdPConfig.base_url:
            self.config.base_url = bound
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            thread.join()
