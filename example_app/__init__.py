"""An example Flask app protected by flask-idguard.

Until the development identity provider exists it runs on the testing issuer:
:class:`flask_idguard.testing.TestIssuer` serves discovery and a JWKS on loopback,
and the app verifies the tokens it mints exactly as it would verify Auth0's.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import jsonify
from flask import render_template_string

from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import has_permission
from flask_idguard import requires_auth
from flask_idguard import scopes_include

idguard = IdGuard()

_PAGE = """<!doctype html>
<title>flask-idguard example</title>
<h1>flask-idguard example</h1>
<p>Status: <b>{{ auth.status }}</b>{% if auth.reason %} ({{ auth.reason }}){% endif %}</p>
<p>Call the protected JSON endpoints with a bearer token:</p>
<pre>curl -H "Authorization: Bearer $TOKEN" {{ request.host_url }}api/me</pre>
"""


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The app factory: configuration comes from ``config``, else the environment."""
    app = Flask(__name__)
    if config:
        app.config.update(config)
    idguard.init_app(app)

    @app.get("/")
    def index() -> str:
        return render_template_string(_PAGE, auth=current_auth)

    @app.get("/api/me")
    @requires_auth
    def me() -> Any:
        return jsonify(
            user_id=current_auth.user_id,
            provider=current_auth.provider,
            scopes=sorted(current_auth.scopes),
        )

    @app.get("/api/messages")
    @scopes_include(["read:messages"])
    def messages() -> Any:
        return jsonify(messages=["hello from a protected endpoint"])

    @app.post("/api/admin")
    @has_permission("admin:write")
    def admin() -> Any:
        return jsonify(ok=True)

    return app
