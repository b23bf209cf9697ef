"""RFC 9728 protected resource metadata and its ``resource_metadata`` challenge parameter."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_idguard import ConfigurationError
from flask_idguard import IdGuard
from flask_idguard.testing import TestIssuer

from .conftest import AppFactory
from .conftest import bearer

WELL_KNOWN = "/.well-known/oauth-protected-resource"
LOCAL_URL = "http://localhost" + WELL_KNOWN


def test_off_by_default(app: Flask, issuer: TestIssuer) -> None:
    client = app.test_client()
    assert client.get(WELL_KNOWN).status_code == 404
    assert client.get("/me").headers["WWW-Authenticate"] == "Bearer"


def test_document_derived_from_the_configuration(make_app: AppFactory, issuer: TestIssuer) -> None:
    app = make_app(IDGUARD_RESOURCE_METADATA=True, IDGUARD_ALLOW_QUERY_TOKEN=True)
    r = app.test_client().get(WELL_KNOWN, base_url="https://api.example.com")
    assert r.status_code == 200
    assert r.json == {
        "resource": "https://api.example.com",
        "authorization_servers": [issuer.issuer],
        "bearer_methods_supported": ["header", "query"],
    }
    assert r.headers["Cache-Control"] == "private, max-age=3600"
    assert r.headers["Vary"] == "Host"


def test_forged_host_cannot_poison_a_shared_cache_of_the_metadata(
    make_app: AppFactory, issuer: TestIssuer
) -> None:
    """Cache poisoning: the document built from a forged Host (directly, or through
    X-Forwarded-Host behind ProxyFix) is never marked for shared caches."""
    app = make_app(IDGUARD_RESOURCE_METADATA=True)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1)  # type: ignore[method-assign]
    client = app.test_client()
    for headers in ({"Host": "evil.test"}, {"X-Forwarded-Host": "evil.test"}):
        r = client.get(WELL_KNOWN, headers=headers, base_url="https://api.example.com")
        assert r.json is not None and r.json["resource"] == "https://evil.test"
        directives = {d.strip() for d in r.headers["Cache-Control"].split(",")}
        assert "public" not in directives and "private" in directives
        assert "Host" in r.vary
    # a configured resource does not depend on the request: shared caching is safe
    fixed = make_app(IDGUARD_RESOURCE_METADATA={"resource": "https://api.example.com"})
    r = fixed.test_client().get(WELL_KNOWN, headers={"Host": "evil.test"})
    assert r.json is not None and r.json["resource"] == "https://api.example.com"
    assert r.headers["Cache-Control"] == "public, max-age=3600"
    assert "Vary" not in r.headers


def test_fields_from_a_dict_override_and_extend(make_app: AppFactory, issuer: TestIssuer) -> None:
    fields = {
        "resource": "https://api.example.com/v1",
        "scopes_supported": ["read:a", "read:b"],
        "resource_name": "Example API",
        "authorization_servers": ["https://login.example.com/"],
        "bearer_methods_supported": None,  # None removes nothing: the default stays
    }
    app = make_app(IDGUARD_RESOURCE_METADATA=fields)
    client = app.test_client()
    assert client.get(WELL_KNOWN).status_code == 404  # served under the resource's path
    r = client.get(WELL_KNOWN + "/v1")
    assert r.json == {
        "resource": "https://api.example.com/v1",
        "authorization_servers": ["https://login.example.com/"],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["read:a", "read:b"],
        "resource_name": "Example API",
    }
    challenge = client.get("/me").headers["WWW-Authenticate"]
    assert challenge == (
        'Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/v1"'
    )


@pytest.mark.parametrize(
    ("path", "headers", "challenge"),
    [
        ("/me", {}, f'Bearer realm="api", resource_metadata="{LOCAL_URL}"'),
        (
            "/me",
            {"Authorization": "Bearer x.y.z"},
            'Bearer realm="api", error="invalid_token", error_description="Invalid JWT form. '
            f'The header is not unpadded base64url.", resource_metadata="{LOCAL_URL}"',
        ),
        (
            "/all",
            "token",
            'Bearer realm="api", error="insufficient_scope", error_description="Missing \'scope\' '
            f'claim", scope="read:a read:b", resource_metadata="{LOCAL_URL}"',
        ),
    ],
    ids=["no-token", "invalid-token", "insufficient-scope"],
)
def test_challenges_reference_the_document(
    make_app: AppFactory, issuer: TestIssuer, path: str, headers: Any, challenge: str
) -> None:
    app = make_app(IDGUARD_RESOURCE_METADATA="true", IDGUARD_REALM="api", IDGUARD_DPOP="disabled")
    headers = bearer(issuer.token()) if headers == "token" else headers
    r = app.test_client().get(path, headers=headers)
    assert r.headers.getlist("WWW-Authenticate") == [challenge]


@pytest.mark.parametrize(
    ("mode", "challenges"),
    [
        (
            "allowed",
            [f'Bearer resource_metadata="{LOCAL_URL}"', 'DPoP algs="ES256 RS256"'],
        ),
        ("required", [f'DPoP algs="ES256 RS256", resource_metadata="{LOCAL_URL}"']),
    ],
)
def test_the_document_is_referenced_once_next_to_dpop(
    make_app: AppFactory, mode: str, challenges: list[str]
) -> None:
    """RFC 9728 §5.1 on the Bearer challenge, or on DPoP's when Bearer is not offered."""
    app = make_app(
        IDGUARD_RESOURCE_METADATA="true",
        IDGUARD_DPOP=mode,
        IDGUARD_DPOP_ALGORITHMS=["ES256", "RS256"],
    )
    r = app.test_client().get("/me")
    assert r.headers.getlist("WWW-Authenticate") == challenges


def test_forged_host_is_never_put_in_a_url(make_app: AppFactory) -> None:
    app = make_app(IDGUARD_RESOURCE_METADATA=True)
    client = app.test_client()
    evil = {"HTTP_HOST": "evil.test/x?"}
    r = client.get("/me", environ_overrides=evil)
    assert r.status_code == 400
    assert "resource_metadata" not in r.headers["WWW-Authenticate"]
    r = client.get(WELL_KNOWN, environ_overrides=evil)
    assert r.status_code == 400
    assert r.json == {"error": "invalid_request", "error_description": "Invalid Host header"}


def test_resolver_issuers_are_not_listed(idguard_issuer_factory: Any) -> None:
    from .conftest import build_app

    app = build_app(
        AUTH0_DOMAINS=lambda ctx: ["tenant.test"],
        AUTH0_AUDIENCE="https://api",
        IDGUARD_RESOURCE_METADATA=True,
    )
    assert app.test_client().get(WELL_KNOWN).json == {
        "resource": "http://localhost",
        "bearer_methods_supported": ["header"],
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["resource"], "must be True or a dict"),
        ("perhaps", "must be a boolean"),
        ({"resource": "https://api.example.com/?x=1"}, "query or fragment"),
        ({"resource": "https://api.example.com/#x"}, "query or fragment"),
        ({"resource": "http://api.example.com/"}, "https://"),
        ({"resource": "api.example.com"}, "resource"),
    ],
)
def test_bad_configuration(value: Any, message: str) -> None:
    app = Flask("cfg")
    app.config.update(
        IDGUARD_ISSUER="https://issuer.test/",
        IDGUARD_AUDIENCE="x",
        IDGUARD_RESOURCE_METADATA=value,
    )
    with pytest.raises(ConfigurationError, match=message):
        IdGuard(app)
