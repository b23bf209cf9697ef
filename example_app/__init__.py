"""An example Flask app protected by flask-idguard: pages on Clerk sessions, a JSON API for
machine clients.

``make demo`` runs it with the local identity provider mounted at ``/__clerk`` (offline, no
account anywhere); with real Clerk or Auth0 keys in the environment or a ``.env`` file it
uses those instead (``python -m example_app --help``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request

from flask_idguard import IdGuard
from flask_idguard import IdGuardAPIError
from flask_idguard import InsufficientPermission
from flask_idguard import current_auth
from flask_idguard import has_permission
from flask_idguard import requires_auth
from flask_idguard import scopes_include

from .webhooks import webhooks

idguard = IdGuard()

#: The major version of ``@clerk/clerk-js`` the sign-in page loads, as Clerk's own loaders ask
#: for it (``/npm/@clerk/clerk-js@6/dist/clerk.browser.js``); the local identity provider
#: serves the installed 6.x under that name.
CLERK_JS_MAJOR = "6"


def clerk_js_url(publishable_key: str | None, proxy_url: str | None) -> str | None:
    """Where Clerk's browser SDK is served: the proxy (the local identity provider's Frontend
    API) when there is one, else the frontend API host the publishable key names."""
    if not publishable_key:
        return None
    base = proxy_url.rstrip("/") if proxy_url else None
    if base is None:
        encoded = publishable_key.split("_", 2)[-1]
        try:
            decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
            host = decoded.decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if not host.endswith("$") or len(host) < 2:
            return None
        base = f"https://{host[:-1]}"
    return f"{base}/npm/@clerk/clerk-js@{CLERK_JS_MAJOR}/dist/clerk.browser.js"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The app factory: configuration comes from ``config``, else the environment."""
    app = Flask(__name__)
    if config:
        app.config.update(config)
    idguard.init_app(app)
    app.register_blueprint(webhooks)  # Clerk's webhooks keep /synced-users

    @app.context_processor
    def auth() -> dict[str, Any]:
        return {"auth": current_auth, "account_url": app.config.get("EXAMPLE_ACCOUNT_URL")}

    @app.errorhandler(InsufficientPermission)
    def forbidden(error: InsufficientPermission) -> Any:
        """A page for browsers, the RFC 6750 answer for API clients."""
        # best_match, not best: browsers list application/signed-exchange before HTML.
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
            return render_template("forbidden.html", error=error), 403
        return error

    @app.get("/")
    def index() -> str:
        return render_template("index.html")

    @app.get("/clerk-js")
    def clerk_js() -> str:
        """Sign-in through Clerk's own browser SDK (next to the server-rendered sign-in)."""
        key = app.config.get("CLERK_PUBLISHABLE_KEY")
        proxy = app.config.get("CLERK_PROXY_URL")
        return render_template(
            "clerk_js.html",
            publishable_key=key,
            proxy_url=proxy,
            script_url=app.config.get("EXAMPLE_CLERK_JS_URL") or clerk_js_url(key, proxy),
        )

    @app.get("/dashboard")
    @requires_auth
    def dashboard() -> str:
        exp = current_auth.claims.get("exp")
        return render_template("dashboard.html", expires_at=exp if isinstance(exp, int) else None)

    @app.get("/admin")
    @has_permission("org:billing:manage")
    def admin() -> str:
        return render_template("admin.html")

    @app.get("/users")
    @requires_auth
    def users() -> tuple[str, int]:
        try:
            found = idguard.users.list(limit=20)
        except (IdGuardAPIError, RuntimeError) as exc:
            return render_template("users.html", users=[], error=str(exc)), 502
        return render_template("users.html", users=found, error=None), 200

    @app.get("/api/me")
    @requires_auth
    def me() -> Any:
        return jsonify(
            user_id=current_auth.user_id,
            session_id=current_auth.session_id,
            org_id=current_auth.org_id,
            org_role=current_auth.org_role,
            provider=current_auth.provider,
            scopes=sorted(current_auth.scopes),
        )

    @app.get("/api/messages")
    @scopes_include(["read:messages"])
    def messages() -> Any:
        return jsonify(messages=["hello from a protected endpoint"])

    @app.get("/api/machine")
    @requires_auth(accepts_token="m2m_token")  # Clerk M2M tokens only (make demo prints one)
    def machine() -> Any:
        return jsonify(machine_id=current_auth.machine_id, claims=dict(current_auth.claims))

    @app.post("/api/admin")
    @has_permission("admin:write")
    def api_admin() -> Any:
        return jsonify(ok=True)

    return app
