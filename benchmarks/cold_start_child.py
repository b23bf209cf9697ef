"""The process ``bench_startup.py`` times: start, import, build the app, answer one request.

Usage: ``python cold_start_child.py MODE FIXTURE``; prints one JSON line of wall-clock
timestamps (``time.time()``, comparable with the parent's). MODE is ``bare`` (Flask alone)
or ``idguard``; FIXTURE is a JSON file with the app's ``config``, the request's ``headers``
and the ``status`` expected. Only the standard library is imported before the timed steps.
"""

from __future__ import annotations

import json
import sys
import time

started = time.time()


def main(mode: str, fixture_path: str) -> int:
    with open(fixture_path, encoding="utf-8") as fh:
        fixture = json.load(fh)
    marks = {"main": started}
    from flask import Flask

    marks["flask_imported"] = time.time()
    app = Flask("cold-start")
    app.config.update(fixture["config"])

    def view() -> dict[str, bool]:
        return {"ok": True}

    if mode == "idguard":
        from flask_idguard import IdGuard
        from flask_idguard import requires_auth

        marks["idguard_imported"] = time.time()
        IdGuard(app)
        app.add_url_rule("/", "view", requires_auth(view))
    else:
        marks["idguard_imported"] = time.time()
        app.add_url_rule("/", "view", view)
    marks["app_ready"] = time.time()
    response = app.test_client(use_cookies=False).get("/", headers=fixture["headers"])
    marks["answered"] = time.time()
    print(json.dumps({"marks": marks, "status": response.status_code}))
    return 0 if response.status_code == fixture["status"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
