"""IdGuard set-up: configuration sources, validation at init_app, routing, hooks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from flask import Flask
from flask import g

from flask_idguard import AuthState
from flask_idguard import ConfigurationError
from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard.providers import Provider
from flask_idguard.providers import RequestContext
from flask_idguard.testing import TestIssuer

from .conftest import AppFactory
from .conftest import bearer
from .conftest import build_app


def _init(**config: Any) -> Flask:
    app = Flask("cfg")
    app.config.update(config)
    IdGuard(app)
    return app


BASE = {"IDGUARD_ISSUER": "https://issuer.test/", "IDGUARD_AUDIENCE": "https://api.test"}


@pytest.mark.parametrize(
    ("config", "names"),
    [
        ({}, "AUTH0_DOMAIN"),
        ({"IDGUARD_ISSUER": "https://issuer.test/"}, "IDGUARD_AUDIENCE"),
        ({"IDGUARD_AUDIENCE": "x"}, "IDGUARD_ISSUER"),
        ({**BASE, "IDGUARD_ISSUER": "ftp://issuer.test/"}, "IDGUARD_ISSUER"),
        ({**BASE, "IDGUARD_ISSUER": "http://issuer.example.com/"}, "IDGUARD_ISSUER"),
        ({**BASE, "IDGUARD_ALGORITHMS": ["HS256"]}, "IDGUARD_ALGORITHMS"),
        ({**BASE, "IDGUARD_ALGORITHMS": "RS256,none"}, "IDGUARD_ALGORITHMS"),
        ({**BASE, "IDGUARD_ALGORITHMS": []}, "IDGUARD_ALGORITHMS"),
        ({**BASE, "IDGUARD_CLOCK_SKEW": -1}, "IDGUARD_CLOCK_SKEW"),
        ({**BASE, "IDGUARD_CLOCK_SKEW": "soon"}, "IDGUARD_CLOCK_SKEW"),
        ({**BASE, "IDGUARD_HTTP_TIMEOUT": 0}, "IDGUARD_HTTP_TIMEOUT"),
        ({**BASE, "IDGUARD_JWKS_CACHE_TTL": float("inf")}, "IDGUARD_JWKS_CACHE_TTL"),
        ({**BASE, "IDGUARD_JWKS_CACHE_TTL": 0}, "IDGUARD_JWKS_CACHE_TTL"),
        ({**BASE, "IDGUARD_ALLOW_INSECURE_HTTP": "maybe"}, "IDGUARD_ALLOW_INSECURE_HTTP"),
        ({**BASE, "IDGUARD_CACHE": object()}, "IDGUARD_CACHE"),
        ({**BASE, "IDGUARD_JWKS_URL": "http://keys.example.com/jwks"}, "IDGUARD_JWKS_URL"),
        ({**BASE, "IDGUARD_PUBLIC_KEYS": "not a key"}, "IDGUARD_PUBLIC_KEYS"),
        ({**BASE, "IDGUARD_PUBLIC_KEYS": {"keys": []}}, "IDGUARD_PUBLIC_KEYS"),
        ({**BASE, "IDGUARD_PUBLIC_KEYS": 42}, "IDGUARD_PUBLIC_KEYS"),
        ({**BASE, "IDGUARD_SIGN_IN_URL": "javascript:alert(1)"}, "IDGUARD_SIGN_IN_URL"),
        ({**BASE, "IDGUARD_SIGN_IN_URL": "//evil.test/x"}, "IDGUARD_SIGN_IN_URL"),
        ({**BASE, "IDGUARD_REALM": 'a"b'}, "IDGUARD_REALM"),
        ({**BASE, "IDGUARD_MAX_TOKEN_AGE": 0}, "IDGUARD_MAX_TOKEN_AGE"),
        ({**BASE, "IDGUARD_VALIDATORS": ["iss"]}, "IDGUARD_VALIDATORS"),
        ({**BASE, "IDGUARD_VALIDATORS": {"exp": False}}, "IDGUARD_VALIDATORS"),
        ({**BASE, "IDGUARD_VALIDATORS": {"x": [1]}}, "IDGUARD_VALIDATORS"),
        ({**BASE, "IDGUARD_AUDIENCE": 5}, "IDGUARD_AUDIENCE"),
        ({"AUTH0_DOMAIN": "tenant.auth0.com"}, "AUTH0_AUDIENCE"),
        ({"AUTH0_AUDIENCE": "x"}, "AUTH0_DOMAIN"),
        ({"AUTH0_DOMAIN": "http://tenant.auth0.com", "AUTH0_AUDIENCE": "x"}, "AUTH0_DOMAIN"),
        ({"AUTH0_DOMAIN": "tenant.auth0.com/path", "AUTH0_AUDIENCE": "x"}, "AUTH0_DOMAIN"),
        ({"AUTH0_DOMAIN": "u:p@tenant.auth0.com", "AUTH0_AUDIENCE": "x"}, "AUTH0_DOMAIN"),
        ({"AUTH0_DOMAIN": "tenant.auth0.com?x=1", "AUTH0_AUDIENCE": "x"}, "AUTH0_DOMAIN"),
        (
            {
                "AUTH0_DOMAIN": "t.auth0.com",
                "AUTH0_AUDIENCE": "x",
                "IDGUARD_ISSUER": "https://t.auth0.com/",
                "IDGUARD_AUDIENCE": "y",
            },
            "same issuer",
        ),
        ({"CLERK_PUBLISHABLE_KEY": "pk_test_x", **BASE}, "Publishable key not valid"),
    ],
)
def test_bad_configuration_fails_at_init_app_naming_the_key(
    config: dict[str, Any], names: str
) -> None:
    with pytest.raises(ConfigurationError, match=names):
        _init(**config)


def test_environment_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDGUARD_ISSUER", "https://env-issuer.test/")
    monkeypatch.setenv("IDGUARD_AUDIENCE", "https://a.test, https://b.test")
    monkeypatch.setenv("IDGUARD_CLOCK_SKEW", "0")
    monkeypatch.setenv("IDGUARD_ALLOW_INSECURE_HTTP", "false")
    app = _init()
    state = app.extensions["idguard"]
    assert state.settings.clock_skew == 0
    provider = state.providers[0]
    assert provider.policy.issuer == "https://env-issuer.test/"
    assert provider.policy.audience == {"https://a.test", "https://b.test"}
    assert app.config["IDGUARD_CLOCK_SKEW"] == "0"
    assert app.config["IDGUARD_JWKS_COOLDOWN"] == 30  # defaults are visible in app.config


def test_app_config_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDGUARD_ISSUER", "https://env-issuer.test/")
    app = _init(**BASE)
    assert app.extensions["idguard"].providers[0].policy.issuer == "https://issuer.test/"


def test_http_issuer_on_loopback_needs_only_two_keys() -> None:
    app = _init(IDGUARD_ISSUER="http://127.0.0.1:8080/", IDGUARD_AUDIENCE="x")
    assert app.extensions["idguard"].providers[0].policy.issuer == "http://127.0.0.1:8080/"
    _init(IDGUARD_ISSUER="http://localhost:9/", IDGUARD_AUDIENCE="x")
    _init(
        IDGUARD_ISSUER="http://idp.internal/",
        IDGUARD_AUDIENCE="x",
        IDGUARD_ALLOW_INSECURE_HTTP=True,
    )


def test_auth0_domain_normalisation() -> None:
    for domain in ("Tenant.US.auth0.com", "https://tenant.us.auth0.com", "tenant.us.auth0.com/"):
        app = _init(AUTH0_DOMAIN=domain, AUTH0_AUDIENCE="x")
        assert app.extensions["idguard"].providers[0].policy.issuer == (
            "https://tenant.us.auth0.com/"
        )


def test_registering_twice_is_an_error() -> None:
    app = _init(**BASE)
    with pytest.raises(RuntimeError, match="already registered"):
        IdGuard(app)


def test_app_factory_and_two_apps_share_one_extension(issuer: TestIssuer) -> None:
    idguard = IdGuard()
    apps = []
    for audience in ("https://one.test", "https://two.test"):
        app = Flask(audience)
        app.config.update(IDGUARD_ISSUER=issuer.issuer, IDGUARD_AUDIENCE=audience)
        idguard.init_app(app)
        app.add_url_rule("/me", "me", requires_auth(lambda: "ok"))
        apps.append(app)
    one = bearer(issuer.token({"aud": "https://one.test"}))
    assert apps[0].test_client().get("/me", headers=one).status_code == 200
    assert apps[1].test_client().get("/me", headers=one).status_code == 401


def test_decorator_without_init_app_says_what_to_do() -> None:
    app = Flask("bare")
    app.add_url_rule("/me", "me", requires_auth(lambda: "ok"))
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(RuntimeError, match="forget to call"):
        app.test_client().get("/me")


def test_current_auth_outside_a_request() -> None:
    with pytest.raises(RuntimeError, match="only available while handling a request"):
        current_auth.status  # noqa: B018


def test_state_is_computed_once_and_kept_on_g(app: Flask, issuer: TestIssuer) -> None:
    with app.test_request_context(headers=bearer(issuer.token())):
        app.preprocess_request()
        first = g._idguard_auth
        assert current_auth._get_current_object() is first  # type: ignore[attr-defined]
        assert current_auth and current_auth.is_signed_in


def test_signed_out_state_is_falsy_not_none(app: Flask) -> None:
    with app.test_request_context():
        app.preprocess_request()
        assert current_auth is not None
        assert not current_auth
        assert current_auth.user_id is None
        assert current_auth.status == "signed-out"


def test_async_view(make_app: AppFactory, issuer: TestIssuer) -> None:
    app = make_app()

    @app.get("/async")
    @requires_auth
    async def view() -> str:
        await asyncio.sleep(0)
        return str(current_auth.user_id)

    assert app.test_client().get("/async", headers=bearer(issuer.token())).data == b"user_123"
    assert app.test_client().get("/async").status_code == 401


def test_decorators_bare_and_called(make_app: AppFactory, issuer: TestIssuer) -> None:
    app = make_app()
    app.add_url_rule("/a", "a", requires_auth(lambda: "a"))
    app.add_url_rule("/b", "b", requires_auth()(lambda: "b"))
    for path in ("/a", "/b"):
        assert app.test_client().get(path).status_code == 401
        assert app.test_client().get(path, headers=bearer(issuer.token())).status_code == 200


def test_decorator_arguments_are_validated_at_decoration_time() -> None:
    from flask_idguard import claim_equals
    from flask_idguard import claim_includes
    from flask_idguard import has_permission
    from flask_idguard import scopes_include

    with pytest.raises(ValueError):
        scopes_include([])
    with pytest.raises(TypeError):
        scopes_include(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        scopes_include("a", match="some")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        claim_equals("x", ["list"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        claim_includes("x", "ab")
    with pytest.raises(TypeError):
        has_permission("")


def test_permissions_and_roles(app: Flask, issuer: TestIssuer) -> None:
    client = app.test_client()
    no = bearer(issuer.token({"permissions": ["other"], "roles": ["user"]}))
    yes = bearer(issuer.token({"permissions": ["org:billing:manage"], "roles": ["admin"]}))
    r = client.get("/perm", headers=no)
    assert r.status_code == 403
    assert r.json == {
        "error": "insufficient_scope",
        "error_description": "Missing permission 'org:billing:manage'",
    }
    assert client.get("/perm", headers=yes).status_code == 200
    assert client.get("/role", headers=no).status_code == 403
    assert client.get("/role", headers=yes).status_code == 200
    assert client.get("/perm").status_code == 401


def test_has_fails_closed(app: Flask, issuer: TestIssuer) -> None:
    token = issuer.token({"permissions": ["p"], "scope": "s"})
    with app.test_request_context(headers=bearer(token)):
        app.preprocess_request()
        assert not current_auth.has()
        assert current_auth.has(permission="p")
        assert current_auth.has(permission="p", scope="s")
        assert not current_auth.has(permission="p", scope="other")
        assert not current_auth.has(feature="f")
        assert not current_auth.has(permission="p", plan="pro")


def test_auth0_permissions_count_as_scopes(issuer_factory_app: tuple[Flask, TestIssuer]) -> None:
    app, auth0 = issuer_factory_app
    token = auth0.token({"permissions": ["read:a", "read:b"]})
    r = app.test_client().get("/all", headers=bearer(token))
    assert r.status_code == 200
    assert app.test_client().get("/perm", headers=bearer(token)).status_code == 403


@pytest.fixture
def issuer_factory_app(idguard_issuer_factory: Any) -> tuple[Flask, TestIssuer]:
    auth0 = idguard_issuer_factory(issuer="https://tenant.auth0.test/", audience="https://api")
    return build_app(AUTH0_DOMAIN="tenant.auth0.test", AUTH0_AUDIENCE="https://api"), auth0


def test_several_providers_route_by_issuer(idguard_issuer_factory: Any) -> None:
    auth0 = idguard_issuer_factory(issuer="https://tenant.auth0.test/", audience="https://api")
    oidc = idguard_issuer_factory(issuer="https://keycloak.test/realms/x", audience="https://api")
    app = build_app(
        AUTH0_DOMAIN="tenant.auth0.test",
        AUTH0_AUDIENCE="https://api",
        IDGUARD_ISSUER=oidc.issuer,
        IDGUARD_AUDIENCE="https://api",
    )
    client = app.test_client()
    r = client.get("/me", headers=bearer(auth0.token()))
    assert r.status_code == 200
    assert r.json is not None and r.json["provider"] == "auth0"
    r = client.get("/me", headers=bearer(oidc.token()))
    assert r.json is not None and r.json["provider"] == "oidc"
    stranger = TestIssuer("https://stranger.test/", audience="https://api")
    r = client.get("/public", headers=bearer(stranger.token()))
    assert r.json == {"status": "signed-out", "reason": "token-invalid-issuer"}
    assert auth0.jwks_calls == 1 and oidc.jwks_calls == 1
    # a token claiming auth0's issuer but signed by oidc's key: routed to auth0, refused
    forged = oidc.token({"iss": auth0.issuer}, header={"kid": auth0.kid})
    assert client.get("/public", headers=bearer(forged)).json == {
        "status": "signed-out",
        "reason": "token-invalid-signature",
    }


def test_static_public_keys_need_no_network(issuer: TestIssuer) -> None:
    for keys in (issuer.jwks(), issuer.key_set(), issuer.public_pem()):
        app = build_app(
            IDGUARD_ISSUER=issuer.issuer,
            IDGUARD_AUDIENCE=issuer.audience,
            IDGUARD_PUBLIC_KEYS=keys,
        )
        assert app.test_client().get("/me", headers=bearer(issuer.token())).status_code == 200
    assert issuer.discovery_calls == 0 and issuer.jwks_calls == 0


def test_jwks_url_skips_discovery(issuer: TestIssuer) -> None:
    app = build_app(
        IDGUARD_ISSUER=issuer.issuer,
        IDGUARD_AUDIENCE=issuer.audience,
        IDGUARD_JWKS_URL=issuer.jwks_uri,
    )
    assert app.test_client().get("/me", headers=bearer(issuer.token())).status_code == 200
    assert issuer.discovery_calls == 0 and issuer.jwks_calls == 1


def test_a_custom_provider_plugs_in(make_app: AppFactory) -> None:
    class HeaderProvider(Provider):
        name = "header"

        def authenticate(self, ctx: RequestContext) -> AuthState | None:
            if ctx.request.headers.get("X-Test-User") != "alice":
                return None
            return AuthState(
                "signed-in",
                provider=self.name,
                claims={"sub": "alice"},
                headers=(("X-Auth-Seen", "1"),),
            )

    app = Flask("custom")
    app.config.update(IDGUARD_ISSUER="https://issuer.test/", IDGUARD_AUDIENCE="x")
    IdGuard(app, providers=[HeaderProvider()])
    app.add_url_rule("/me", "me", requires_auth(lambda: str(current_auth.user_id)))
    r = app.test_client().get("/me", headers={"X-Test-User": "alice"})
    assert r.data == b"alice"
    assert r.headers["X-Auth-Seen"] == "1"


def test_handshake_state_answers_307_from_before_request() -> None:
    class Redirecting(Provider):
        name = "redirecting"

        def authenticate(self, ctx: RequestContext) -> AuthState | None:
            return AuthState(
                "handshake",
                provider=self.name,
                redirect="https://idp.test/handshake",
                headers=(("Cache-Control", "no-store"),),
            )

    app = Flask("hs")
    IdGuard(app, providers=[Redirecting()])
    app.add_url_rule("/", "index", lambda: "never")
    r = app.test_client().get("/")
    assert r.status_code == 307
    assert r.headers["Location"] == "https://idp.test/handshake"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.data == b""
