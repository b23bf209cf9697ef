"""One worker process of the scale-out tests: the app a gunicorn worker would run, with
``IDGUARD_CACHE`` on the test's Redis, served on a free loopback port (printed first).

``python -m tests.redis.worker '<json config>'``; warnings go to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from cachelib import RedisCache
from flask import Flask
from flask import jsonify
from redis.backoff import NoBackoff
from redis.retry import Retry
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server

from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import requires_auth


def shared_cache(port: int, prefix: str) -> RedisCache:
    """The cache as docs/deployment.rst recommends it: short timeouts, no retry storm."""
    return RedisCache(
        host="127.0.0.1",
        port=port,
        key_prefix=prefix,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )


def create_app(config: dict[str, Any]) -> Flask:
    app = Flask("idguard-worker")
    app.config.update(
        IDGUARD_ISSUER=config["issuer"],
        IDGUARD_AUDIENCE=config["audience"],
        IDGUARD_CACHE=shared_cache(config["redis_port"], config["prefix"]),
        IDGUARD_HTTP_TIMEOUT=2,
    )
    app.config.update(config.get("extra", {}))

    @app.get("/me")
    @requires_auth
    def me() -> Any:
        return jsonify(user_id=current_auth.user_id)

    IdGuard(app)
    return app


class QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


def main() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s %(message)s")
    app = create_app(json.loads(sys.argv[1]))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    print(server.server_port, flush=True)
    server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
