"""Rows 37–40 of the Auth0 acceptance matrix (shared/specs/auth0.md §3.1), through the app.

Rows 26–36 (DPoP) are covered with the DPoP work. Host cases follow express-oauth2-jwt-bearer's
``resolve-host.test.ts``; issuer cases follow auth0-api-js and auth0-api-python (MCD).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_idguard.core.urls import host_is_valid
from flask_idguard.testing import TestIssuer

from .conftest import AppFactory
from .conftest import bearer
from .conftest import build_app

INVALID_HOST = {"error": "invalid_request", "error_description": "Invalid Host header"}

# -- row 37: Host header -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "resource.com",
        "internal:3000",
        "resource.com:8443",
        "[::1]:3000",
        "[2001:db8::1]",
        "resource.com.",  # trailing dot
        "my_service:8080",  # underscore: no false-positive 400
        "ho~st",
        "resource.com:65535",
        "resource.com:0",
        "127.0.0.1:5000",
    ],
)
def test_37_valid_host_is_authenticated(app: Flask, issuer: TestIssuer, host: str) -> None:
    r = app.test_client().get("/me", headers={**bearer(issuer.token()), "Host": host})
    assert r.status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "evil.com/path?x=1",  # injected path and query
        "evil.com#frag",  # injected fragment
        "evil.com//x",  # double slash
        "https://evil.com",  # scheme in Host
        "user:pw@evil.com",  # userinfo
        "evil.com:abc",  # non-numeric port
        "evil.com:65536",  # port above 65535
        "evil.com:123456",  # six-digit port
        "evil.com:",  # empty port
        " evil.com",  # leading space
        "evil.com ",  # trailing space
        "a.com, b.com",  # a list
        "evil.com\\x",  # backslash
        "[::1",  # unclosed IPv6 literal
        "%65vil.com",  # percent-encoding
        "",  # empty
    ],
)
def test_37_invalid_host_is_400_invalid_request(app: Flask, issuer: TestIssuer, host: str) -> None:
    client = app.test_client()
    for headers in ({}, bearer(issuer.token())):
        r = client.get("/me", headers=headers, environ_overrides={"HTTP_HOST": host})
        assert r.status_code == 400
        assert r.json == INVALID_HOST
        assert r.headers["WWW-Authenticate"] == (
            'Bearer error="invalid_request", error_description="Invalid Host header"'
        )
    # a view that does not require sign-in runs, signed out with the reason
    r = client.get("/public", headers=bearer(issuer.token()), environ_overrides={"HTTP_HOST": host})
    assert r.json == {"status": "signed-out", "reason": "host-invalid"}
    assert issuer.discovery_calls == 0  # nothing was authenticated


@pytest.mark.parametrize(
    ("forwarded", "status"),
    [
        ("api.example.com", 200),
        ("[2001:db8::1]", 200),
        ("evil.com/path?x", 400),
        ("evil.com#x", 400),
        ("https://evil.com", 400),
    ],
)
def test_37_trusted_x_forwarded_host_is_validated(
    make_app: AppFactory, issuer: TestIssuer, forwarded: str, status: int
) -> None:
    """X-Forwarded-Host counts only through ProxyFix (a trust decision), and is then checked."""
    app = make_app()
    app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1)  # type: ignore[method-assign]
    headers = {**bearer(issuer.token()), "X-Forwarded-Host": forwarded}
    assert app.test_client().get("/me", headers=headers).status_code == status


def test_37_untrusted_x_forwarded_host_is_ignored(app: Flask, issuer: TestIssuer) -> None:
    headers = {**bearer(issuer.token()), "X-Forwarded-Host": "evil.com/path?x"}
    assert app.test_client().get("/me", headers=headers).status_code == 200


def test_37_no_host_header_uses_server_name(app: Flask, issuer: TestIssuer) -> None:
    """HTTP/1.0 without Host: Werkzeug uses SERVER_NAME, set by the server, so it is trusted."""
    environ = {"HTTP_HOST": None, "SERVER_NAME": "internal", "SERVER_PORT": "80"}
    client = app.test_client()
    r = client.get("/me", headers=bearer(issuer.token()), environ_overrides=environ)
    assert r.status_code == 200


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    host=st.text(alphabet=st.sampled_from("aZ09.-_~:[]/?#@\\ %,\t") | st.characters(), max_size=40)
)
def test_37_any_host_is_200_or_400_never_500(app: Flask, host: str) -> None:
    """Whatever the Host, a protected view answers 401 (no token) or 400, and an accepted
    Host never carries a structural character."""
    try:
        r = app.test_client().get("/me", environ_overrides={"HTTP_HOST": host})
    except (UnicodeEncodeError, ValueError):
        return  # the test client cannot send it; a server could not receive it either
    assert r.status_code in (400, 401)
    if r.status_code == 401:
        assert not any(c in host for c in "/?#@\\ ,\t%") and host
        assert host_is_valid(host)


# -- row 38: optional authentication -------------------------------------------------------------


@pytest.fixture
def optional_app(make_app: AppFactory) -> Flask:
    from flask import jsonify

    from flask_idguard import current_auth
    from flask_idguard import requires_auth

    app = make_app()

    def view() -> Any:
        return jsonify(status=current_auth.status, reason=current_auth.reason)

    app.add_url_rule("/opt", "opt", requires_auth(optional=True)(view))
    app.add_url_rule("/pass", "pass", requires_auth(optional=True, pass_invalid=True)(view))
    return app


def _expired(issuer: TestIssuer) -> dict[str, str]:
    return bearer(issuer.token(expires_in=-60))


@pytest.mark.parametrize(
    ("path", "headers", "status", "body"),
    [
        ("/opt", lambda i: {}, 200, {"status": "signed-out", "reason": "token-missing"}),
        ("/opt", lambda i: bearer(i.token()), 200, {"status": "signed-in", "reason": None}),
        (
            "/opt",
            lambda i: {"Authorization": "Basic dTpw"},
            200,
            {"status": "signed-out", "reason": "authorization-scheme-unsupported"},
        ),
        ("/opt", _expired, 401, None),
        ("/opt", lambda i: {"Authorization": "Bearer a b"}, 400, None),
        ("/pass", lambda i: {}, 200, {"status": "signed-out", "reason": "token-missing"}),
        ("/pass", _expired, 200, {"status": "signed-out", "reason": "token-expired"}),
        (
            "/pass",
            lambda i: {"Authorization": "Bearer a b"},
            200,
            {"status": "signed-out", "reason": "authorization-header-malformed"},
        ),
        ("/pass", lambda i: bearer(i.token()), 200, {"status": "signed-in", "reason": None}),
    ],
    ids=[
        "optional-missing-passes",
        "optional-valid-signed-in",
        "optional-other-scheme-is-missing",
        "optional-invalid-is-401",
        "optional-malformed-is-400",
        "pass-invalid-missing-passes",
        "pass-invalid-expired-passes",
        "pass-invalid-malformed-passes",
        "pass-invalid-valid-signed-in",
    ],
)
def test_38_optional_authentication(
    optional_app: Flask,
    issuer: TestIssuer,
    path: str,
    headers: Callable[[TestIssuer], dict[str, str]],
    status: int,
    body: dict[str, Any] | None,
) -> None:
    r = optional_app.test_client().get(path, headers=headers(issuer))
    assert r.status_code == status
    if body is not None:
        assert r.json == body
    assert "Authorization" in r.headers["Vary"]


def test_38_optional_outage_is_503_unless_pass_invalid(
    optional_app: Flask, issuer: TestIssuer
) -> None:
    issuer.fail_with = 500
    client = optional_app.test_client()
    assert client.get("/opt", headers=bearer(issuer.token())).status_code == 503
    r = client.get("/pass", headers=bearer(issuer.token()))
    assert r.status_code == 200
    assert r.json == {"status": "signed-out", "reason": "jwk-remote-failed-to-load"}


def test_38_optional_never_redirects(make_app: AppFactory) -> None:
    from flask_idguard import requires_auth

    app = make_app(IDGUARD_SIGN_IN_URL="/sign-in")
    app.add_url_rule("/o", "o", requires_auth(optional=True)(lambda: "anonymous ok"))
    r = app.test_client().get("/o", headers={"Accept": "text/html"})
    assert (r.status_code, r.data) == (200, b"anonymous ok")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pass_invalid": True}, "pass_invalid=True needs optional=True"),
        ({"optional": True, "scopes": "read"}, "scopes cannot be combined with optional=True"),
    ],
)
def test_38_optional_arguments_checked_at_decoration(kwargs: dict[str, Any], message: str) -> None:
    from flask_idguard import requires_auth

    with pytest.raises(TypeError, match=message):
        requires_auth(**kwargs)


# -- rows 39 and 40: several issuers -------------------------------------------------------------

MakeIssuer = Callable[..., TestIssuer]


def _tenants(factory: MakeIssuer) -> tuple[TestIssuer, TestIssuer, TestIssuer]:
    return (
        factory(issuer="https://tenant-a.test/", audience="https://api"),
        factory(issuer="https://tenant-b.test/", audience="https://api"),
        factory(issuer="https://stranger.test/", audience="https://api"),
    )


@pytest.mark.parametrize(
    "allowed",
    [
        ["tenant-a.test", "https://TENANT-B.test"],
        "tenant-a.test, tenant-b.test",
        lambda ctx: ["tenant-a.test", "tenant-b.test"],
    ],
    ids=["list", "comma-separated", "resolver"],
)
def test_39_issuer_not_allowed_is_401_without_discovery(
    idguard_issuer_factory: MakeIssuer, allowed: Any
) -> None:
    a, b, stranger = _tenants(idguard_issuer_factory)
    app = build_app(AUTH0_DOMAINS=allowed, AUTH0_AUDIENCE="https://api")
    client = app.test_client()
    r = client.get("/me", headers=bearer(stranger.token()))
    assert r.status_code == 401
    assert r.json == {
        "error": "invalid_token",
        "error_description": (
            "Unexpected 'iss' value \"https://stranger.test/\": issuer not allowed."
        ),
    }
    assert (stranger.discovery_calls, stranger.jwks_calls) == (0, 0)
    assert (a.discovery_calls, b.discovery_calls) == (0, 0)
    for tenant in (a, b):
        r = client.get("/me", headers=bearer(tenant.token()))
        assert r.status_code == 200
        assert r.json is not None and r.json["claims"]["iss"] == tenant.issuer
        assert (tenant.discovery_calls, tenant.jwks_calls) == (1, 1)


def test_40_discovered_issuer_differs_from_token_iss_is_401(
    idguard_issuer_factory: MakeIssuer,
) -> None:
    a, _, _ = _tenants(idguard_issuer_factory)
    token = a.token()
    a.issuer = "https://impostor.test/"  # its discovery document now names another issuer
    app = build_app(AUTH0_DOMAINS=["tenant-a.test"], AUTH0_AUDIENCE="https://api")
    r = app.test_client().get("/me", headers=bearer(token))
    assert r.status_code == 401
    assert r.json == {
        "error": "invalid_token",
        "error_description": (
            'The discovery document of "https://tenant-a.test/" names another issuer.'
        ),
    }
    assert (a.discovery_calls, a.jwks_calls) == (1, 0)


def test_40_single_issuer_discovery_mismatch_is_401_too(
    make_app: AppFactory, issuer: TestIssuer
) -> None:
    """Not an outage: retrying cannot help, so 401 rather than 503 (logged as a warning)."""
    token = issuer.token()
    configured = issuer.issuer
    issuer.issuer = "https://impostor.test/"
    r = make_app(IDGUARD_ISSUER=configured).test_client().get("/me", headers=bearer(token))
    assert r.status_code == 401
    assert r.json is not None and r.json["error"] == "invalid_token"
