"""The WSGI application ``bench_gunicorn.py`` serves: separate Flask apps behind a path switch.

``bench_gunicorn.py`` writes the keys to a JSON file and names it in the environment
variable :data:`FIXTURE_ENV`; gunicorn then loads ``gunicorn_app:application``. Paths:

* ``/bare/view``: a Flask app without IdGuard (the baseline of every row; two path segments
  like every other row's, so that Werkzeug's routing costs the same);
* ``/clerk/protected`` and ``/clerk/open``: an IdGuard app with the Clerk provider
  (``CLERK_JWT_KEY``, authorized parties set): a ``@requires_auth`` view and an unprotected
  view (IdGuard's request hooks still run for it);
* ``/token/protected``: an IdGuard app for an OIDC-style issuer with static keys, a
  ``@requires_auth`` view.

Every view answers ``{"ok": true}``. The switch reads the first path segment, the same
work for every row.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any

from bench_fixtures import clerk_config
from flask import Flask

from flask_idguard import IdGuard
from flask_idguard import requires_auth

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

#: The environment variable naming the JSON file with ``public_pem`` and ``token_config``.
FIXTURE_ENV = "IDGUARD_BENCH_FIXTURE"


def ok() -> Any:
    return {"ok": True}


def bare_app() -> Flask:
    app = Flask("bench-bare")
    app.add_url_rule("/bare/view", "bare", ok)
    return app


def clerk_app(public_pem: str) -> Flask:
    app = Flask("bench-clerk")
    app.config.update(clerk_config(public_pem))
    IdGuard(app)
    app.add_url_rule("/clerk/protected", "protected", requires_auth(ok))
    app.add_url_rule("/clerk/open", "open", ok)
    return app


def token_app(config: dict[str, Any]) -> Flask:
    app = Flask("bench-token")
    app.config.update(config)
    IdGuard(app)
    app.add_url_rule("/token/protected", "protected", requires_auth(ok))
    return app


def load_fixture() -> dict[str, Any]:
    path = os.environ.get(FIXTURE_ENV)
    if not path:
        raise RuntimeError(
            f"{FIXTURE_ENV} is not set: this module is served by benchmarks/bench_gunicorn.py, "
            "which writes the keys and sets it"
        )
    with open(path, encoding="utf-8") as fh:
        fixture: dict[str, Any] = json.load(fh)
    return fixture


def not_found(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]


def make_application(fixture: dict[str, Any]) -> WSGIApplication:
    apps: dict[str, WSGIApplication] = {
        "bare": bare_app(),
        "clerk": clerk_app(fixture["public_pem"]),
        "token": token_app(fixture["token_config"]),
    }

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        segment = environ.get("PATH_INFO", "/").split("/", 2)[1]
        return apps.get(segment, not_found)(environ, start_response)

    return application


application = make_application(load_fixture())
