"""Shared fixtures: an app factory wired to the testing issuer, as users would write it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import NoReturn

import pytest
from flask import Flask
from flask import jsonify
from hypothesis import settings
from werkzeug.serving import make_server

from flask_idguard import IdGuard
from flask_idguard import claim_check
from flask_idguard import claim_equals
from flask_idguard import claim_includes
from flask_idguard import current_auth
from flask_idguard import has_permission
from flask_idguard import has_role
from flask_idguard import requires_auth
from flask_idguard import scopes_include
from flask_idguard.testing import TestIssuer

# CI runs the property tests on a fixed sequence of examples (derived from each test), so a
# run is reproducible and a failure is a real one; locally they explore new examples each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

AppFactory = Callable[..., Flask]


def build_app(**config: Any) -> Flask:
    """A small app with one view per decorator; ``config`` goes into ``app.config``."""
    app = Flask("idguard-tests")
    app.config.update(config)
    IdGuard(app)

    def me() -> Any:
        return jsonify(
            status=current_auth.status,
            user_id=current_auth.user_id,
            provider=current_auth.provider,
            claims=dict(current_auth.claims),
        )

    app.add_url_rule(
        "/public", "public", lambda: jsonify(status=current_auth.status, reason=current_auth.reason)
    )
    app.add_url_rule("/me", "me", requires_auth(me), methods=["GET", "POST", "OPTIONS"])
    app.add_url_rule("/page", "page", requires_auth(redirect=True)(me))
    app.add_url_rule("/scoped", "scoped", requires_auth(scopes="read:a read:b")(me))
    app.add_url_rule("/all", "all", scopes_include(["read:a", "read:b"])(me))
    app.add_url_rule("/any", "any", scopes_include(["read:a", "read:b"], match="any")(me))
    app.add_url_rule("/perm", "perm", has_permission("org:billing:manage")(me))
    app.add_url_rule("/role", "role", has_role("admin")(me))
    app.add_url_rule("/tier", "tier", claim_equals("tier", "gold")(me))
    app.add_url_rule("/groups", "groups", claim_includes("groups", ["a", "b"])(me))
    app.add_url_rule(
        "/adult",
        "adult",
        claim_check(lambda c: c.get("age", 0) >= 18, error_message="Too young")(me),
    )
    return app


@pytest.fixture
def issuer(idguard_issuer: TestIssuer) -> TestIssuer:
    """The testing issuer, served through ``responses``."""
    return idguard_issuer


@pytest.fixture
def make_app(issuer: TestIssuer) -> AppFactory:
    """Build an app trusting ``issuer``; keyword arguments override the config."""

    def factory(**overrides: Any) -> Flask:
        config: dict[str, Any] = {
            "IDGUARD_ISSUER": issuer.issuer,
            "IDGUARD_AUDIENCE": issuer.audience,
        }
        config.update(overrides)
        return build_app(**config)

    return factory


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


_ALIASES = ("ISSUER_BASE_URL", "AUDIENCE")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own provider variables must not leak into the tests."""
    import os

    for name in list(os.environ):
        if name.startswith(("IDGUARD_", "AUTH0_", "CLERK_")) or name in _ALIASES:
            monkeypatch.delenv(name)


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], str]]:
    """Serve a Flask app on a free loopback port; its base URL."""
    servers = []

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


def organization_app(config: dict[str, Any]) -> Flask:
    """An app with a dashboard reporting the user and organization, and a billing page behind
    ``org:billing:manage`` (the Clerk toolkit's and the local identity provider's tests)."""
    app = Flask("organization-app")
    app.config.update(config)
    IdGuard(app)

    @app.get("/dashboard")
    @requires_auth
    def dashboard() -> Any:
        return {
            "user_id": current_auth.user_id,
            "org_id": current_auth.org_id,
            "org_role": current_auth.org_role,
            "permissions": sorted(current_auth.org_permissions),
        }

    @app.get("/billing")
    @has_permission("org:billing:manage")
    def billing() -> Any:
        return {"ok": True}

    return app


def unavailable(why: str) -> NoReturn:
    """A test dependency (node, Chromium, Redis) is missing: skip with the reason, or fail when
    ``CI`` is set, since CI installs every one of them."""
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)
