"""Flask idioms (issue 14): ``current_auth`` in templates, ``idguard.protect`` for a blueprint
or a whole app with :func:`public` views opting out, decorators stacked above the route."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Blueprint
from flask import Flask
from flask import render_template_string

from flask_idguard import IdGuard
from flask_idguard import public
from flask_idguard import requires_auth
from flask_idguard.protect import misplaced_guards
from flask_idguard.testing import TestIssuer

ISSUER = TestIssuer("https://issuer.example.com/", audience="https://api.example.com")
NAVIGATION = {"Sec-Fetch-Dest": "document", "Accept": "text/html"}


def make_app(**config: Any) -> tuple[Flask, IdGuard]:
    app = Flask("protect")
    app.config.update(
        IDGUARD_ISSUER=ISSUER.issuer,
        IDGUARD_AUDIENCE=ISSUER.audience,
        IDGUARD_PUBLIC_KEYS=ISSUER.jwks(),
        **config,
    )
    return app, IdGuard(app)


def bearer(**claims: Any) -> dict[str, str]:
    return {"Authorization": "Bearer " + ISSUER.token({"sub": "user_1", **claims})}


def test_current_auth_in_templates() -> None:
    app, _ = make_app()
    page = "{{ current_auth.status }} {{ current_auth.user_id }} {{ current_auth.has(scope='a') }}"
    app.add_url_rule("/", "page", lambda: render_template_string(page))
    client = app.test_client()
    assert client.get("/").text == "signed-out None False"
    assert client.get("/", headers=bearer(scope="a b")).text == "signed-in user_1 True"


def blueprint_app(**options: Any) -> Flask:
    app, idguard = make_app(IDGUARD_SIGN_IN_URL="/sign-in")
    admin = Blueprint("admin", __name__, url_prefix="/admin")
    admin.add_url_rule("/", "home", lambda: "admin home")
    admin.add_url_rule("/health", "health", public(lambda: "up"))
    idguard.protect(admin, **options)
    app.register_blueprint(admin)
    app.add_url_rule("/", "index", lambda: "index")
    return app


def test_a_protected_blueprint() -> None:
    client = blueprint_app().test_client()
    assert client.get("/").text == "index"  # outside the blueprint
    api = client.get("/admin/")
    assert api.status_code == 401
    assert api.headers["WWW-Authenticate"] == "Bearer"
    page = client.get("/admin/", headers=NAVIGATION)
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/sign-in?redirect_url=http%3A%2F%2Flocalhost")
    assert client.get("/admin/health").text == "up"  # @public opts out
    assert client.options("/admin/").status_code == 200  # OPTIONS is exempt
    assert client.get("/admin/", headers=bearer()).text == "admin home"


def test_protect_takes_requires_auth_options() -> None:
    client = blueprint_app(scopes=["admin"], redirect=False).test_client()
    assert client.get("/admin/", headers=NAVIGATION).status_code == 401
    refused = client.get("/admin/", headers=bearer(scope="read"))
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert client.get("/admin/", headers=bearer(scope="admin")).text == "admin home"


def test_a_bad_token_is_refused_even_with_optional() -> None:
    client = blueprint_app(optional=True).test_client()
    assert client.get("/admin/").text == "admin home"
    assert client.get("/admin/", headers={"Authorization": "Bearer x.y.z"}).status_code == 401


def test_a_protected_app_with_public_views() -> None:
    app, idguard = make_app()
    app.static_folder = None

    @app.get("/")
    @public
    def home() -> str:
        return "home"

    @public
    @app.get("/about")
    def about() -> str:  # above or below the route: public marks the function
        return "about"

    @app.get("/private")
    def private() -> str:
        return "private"

    idguard.protect(app)
    client = app.test_client()
    assert client.get("/").text == "home"
    assert client.get("/about").text == "about"
    assert client.get("/private").status_code == 401
    assert client.get("/private", headers=bearer()).text == "private"
    # A URL matching no route is protected too (a signed-out client learns nothing).
    assert client.get("/nowhere").status_code == 401
    assert client.get("/nowhere", headers=bearer()).status_code == 404


def test_static_files_stay_public_unless_asked(tmp_path: Any) -> None:
    (tmp_path / "site.css").write_text("body {}")
    for exempt, status in ((("static",), 200), ((), 401)):
        app = Flask("static-app", static_folder=str(tmp_path), static_url_path="/static")
        app.config.update(IDGUARD_ISSUER=ISSUER.issuer, IDGUARD_AUDIENCE=ISSUER.audience)
        app.config["IDGUARD_PUBLIC_KEYS"] = ISSUER.jwks()
        IdGuard(app).protect(app, exempt=exempt)
        with app.test_client().get("/static/site.css") as response:
            assert response.status_code == status


def test_protecting_an_app_before_init_app_is_refused() -> None:
    idguard = IdGuard()
    with pytest.raises(RuntimeError, match=r"call idguard.init_app\(app\) before"):
        idguard.protect(Flask("early"))


def test_protect_options_are_checked_at_once() -> None:
    app, idguard = make_app()
    with pytest.raises(TypeError, match="pass_invalid=True needs optional=True"):
        idguard.protect(app, pass_invalid=True)
    with pytest.raises(TypeError, match="exempt must be a list"):
        idguard.protect(app, exempt="static")


def test_a_decorator_above_the_route_is_found() -> None:
    app, _ = make_app()

    @requires_auth
    @app.get("/leaky")
    def leaky() -> str:
        return "secret"

    @app.get("/fine")
    @requires_auth
    def fine() -> str:
        return "fine"

    def both() -> str:
        return "both"

    app.add_url_rule("/open", "open", both)  # the same view, on purpose, open here
    app.add_url_rule("/closed", "closed", requires_auth(both))  # and protected there
    assert misplaced_guards(app) == ["leaky"]


def test_in_debug_mode_a_misplaced_decorator_is_logged_on_the_first_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, _ = make_app(DEBUG=True)
    app.debug = True
    bp = Blueprint("bp", __name__)

    @requires_auth
    @bp.get("/leaky")
    def leaky() -> str:
        return "secret"

    app.register_blueprint(bp)
    caplog.set_level(logging.ERROR, "flask_idguard")
    client = app.test_client()
    client.get("/leaky")
    client.get("/leaky")
    [record] = caplog.records
    assert record.getMessage().startswith("IdGuard: the view 'bp.leaky' is NOT protected")
