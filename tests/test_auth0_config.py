"""The Auth0 provider's configuration: domain rules, key sources, aliases, overrides, claims."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask import jsonify

from flask_idguard import ConfigurationError
from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import has_permission
from flask_idguard import has_role
from flask_idguard.core.urls import normalize_domain
from flask_idguard.testing import TestIssuer

from .conftest import bearer
from .conftest import build_app

MakeIssuer = Callable[..., TestIssuer]
TENANT = "https://tenant.auth0.test/"


@pytest.fixture
def tenant(idguard_issuer_factory: MakeIssuer) -> TestIssuer:
    return idguard_issuer_factory(issuer=TENANT, audience="https://api")


def _init(**config: Any) -> Flask:
    app = Flask("cfg")
    app.config.update(config)
    IdGuard(app)
    return app


@pytest.mark.parametrize(
    ("domain", "issuer"),
    [
        ("tenant.us.auth0.com", "https://tenant.us.auth0.com/"),
        ("Tenant.US.Auth0.com", "https://tenant.us.auth0.com/"),
        ("https://tenant.us.auth0.com", "https://tenant.us.auth0.com/"),
        ("HTTPS://tenant.us.auth0.com/", "https://tenant.us.auth0.com/"),
        ("  tenant.us.auth0.com  ", "https://tenant.us.auth0.com/"),
        ("login.example.com:8443", "https://login.example.com:8443/"),
        ("http://localhost:3000", "http://localhost:3000/"),
        ("http://127.0.0.1", "http://127.0.0.1/"),
        ("[::1]:8443", "https://[::1]:8443/"),
    ],
)
def test_normalize_domain_accepts(domain: str, issuer: str) -> None:
    assert normalize_domain(domain) == issuer


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("", "not a domain"),
        ("https://", "not a domain"),
        ("http://tenant.auth0.com", "https is required"),
        ("ftp://tenant.auth0.com", "not a domain"),
        ("tenant.auth0.com/path", "without a path"),
        ("tenant.auth0.com//", "without a path"),
        ("user:pw@tenant.auth0.com", "credentials"),
        ("@tenant.auth0.com", "credentials"),
        ("tenant.auth0.com?x=1", "query or a fragment"),
        ("tenant.auth0.com?", "query or a fragment"),
        ("tenant.auth0.com#", "query or a fragment"),
        ("tenant.auth0.com:99999", "not a domain"),
        ("tenant.auth0.com:x", "not a domain"),
        ("ten ant.auth0.com", "not a domain"),
        ("tenant\\.auth0.com", "not a domain"),
        (":443", "not a domain"),
    ],
)
def test_normalize_domain_refuses(domain: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_domain(domain)


# -- key sources ---------------------------------------------------------------------------------


def test_a_domain_uses_discovery(tenant: TestIssuer) -> None:
    app = build_app(AUTH0_DOMAIN="tenant.auth0.test", AUTH0_AUDIENCE="https://api")
    assert app.test_client().get("/me", headers=bearer(tenant.token())).status_code == 200
    assert (tenant.discovery_calls, tenant.jwks_calls) == (1, 1)


@pytest.mark.parametrize("issuer_key", ["AUTH0_ISSUER", "AUTH0_DOMAIN"])
def test_b_jwks_uri_skips_discovery(tenant: TestIssuer, issuer_key: str) -> None:
    value = TENANT if issuer_key == "AUTH0_ISSUER" else "tenant.auth0.test"
    app = build_app(
        **{issuer_key: value}, AUTH0_JWKS_URI=tenant.jwks_uri, AUTH0_AUDIENCE="https://api"
    )
    assert app.test_client().get("/me", headers=bearer(tenant.token())).status_code == 200
    assert (tenant.discovery_calls, tenant.jwks_calls) == (0, 1)


@pytest.mark.parametrize("form", ["pem", "jwks", "jwks-json", "jwk"])
def test_c_static_public_key_needs_no_network(tenant: TestIssuer, form: str) -> None:
    key: Any = {
        "pem": tenant.public_pem(),
        "jwks": tenant.jwks(),
        "jwks-json": json.dumps(tenant.jwks()),
        "jwk": tenant.jwks()["keys"][0],
    }[form]
    app = build_app(AUTH0_ISSUER=TENANT, AUTH0_PUBLIC_KEY=key, AUTH0_AUDIENCE="https://api")
    assert app.test_client().get("/me", headers=bearer(tenant.token())).status_code == 200
    assert (tenant.discovery_calls, tenant.jwks_calls) == (0, 0)


def test_explicit_issuer_wins_over_the_domain(idguard_issuer_factory: MakeIssuer) -> None:
    """A custom domain issues the tokens; AUTH0_DOMAIN still names the tenant."""
    custom = idguard_issuer_factory(issuer="https://login.example.test/", audience="https://api")
    app = build_app(
        AUTH0_DOMAIN="tenant.auth0.test",
        AUTH0_ISSUER=custom.issuer,
        AUTH0_JWKS_URI=custom.jwks_uri,
        AUTH0_AUDIENCE="https://api",
    )
    assert app.extensions["idguard"].providers[0].policy.issuer == custom.issuer
    assert app.test_client().get("/me", headers=bearer(custom.token())).status_code == 200


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"AUTH0_ISSUER": TENANT}, "AUTH0_ISSUER skips discovery"),
        (
            {"AUTH0_ISSUER": TENANT, "AUTH0_JWKS_URI": TENANT + "jwks", "AUTH0_PUBLIC_KEY": "x"},
            "AUTH0_JWKS_URI and AUTH0_PUBLIC_KEY are mutually exclusive",
        ),
        ({"AUTH0_JWKS_URI": TENANT + "jwks"}, "AUTH0_AUDIENCE, AUTH0_JWKS_URI set but"),
        ({"AUTH0_PUBLIC_KEY": "x"}, "AUTH0_AUDIENCE, AUTH0_PUBLIC_KEY set but"),
        ({"AUTH0_ISSUER": "ftp://x/", "AUTH0_JWKS_URI": TENANT}, "AUTH0_ISSUER: the issuer"),
        ({"AUTH0_ISSUER": TENANT, "AUTH0_JWKS_URI": "http://x.test/j"}, "AUTH0_JWKS_URI"),
        ({"AUTH0_ISSUER": TENANT, "AUTH0_PUBLIC_KEY": "not a key"}, "AUTH0_PUBLIC_KEY"),
        (
            {"AUTH0_DOMAIN": "t.test/x", "AUTH0_ISSUER": TENANT, "AUTH0_JWKS_URI": TENANT + "j"},
            "AUTH0_DOMAIN: 't.test/x' must be a bare domain",
        ),
        ({"AUTH0_DOMAINS": ["a.test"], "AUTH0_ISSUER": TENANT}, "cannot be combined"),
        ({"AUTH0_DOMAINS": ["a.test"], "AUTH0_JWKS_URI": TENANT}, "cannot be combined"),
        ({"AUTH0_DOMAINS": ["a.test"], "AUTH0_PUBLIC_KEY": "x"}, "cannot be combined"),
        ({"AUTH0_DOMAINS": ["a.test/path"]}, "AUTH0_DOMAINS"),
        ({"AUTH0_DOMAINS": ","}, "AUTH0_DOMAINS must not be empty"),
        ({"AUTH0_DOMAINS": 7}, "AUTH0_DOMAINS must be a list"),
        ({"AUTH0_DOMAIN": "t.test", "AUTH0_ALGORITHMS": "HS256"}, "AUTH0_ALGORITHMS"),
        ({"AUTH0_DOMAIN": "t.test", "AUTH0_CLOCK_TOLERANCE": -1}, "AUTH0_CLOCK_TOLERANCE"),
        ({"AUTH0_DOMAIN": "t.test", "AUTH0_MAX_TOKEN_AGE": 0}, "AUTH0_MAX_TOKEN_AGE"),
        ({"AUTH0_DOMAIN": "t.test", "AUTH0_STRICT": "sometimes"}, "AUTH0_STRICT"),
        ({"ISSUER_BASE_URL": "https://t.test/some/path"}, "ISSUER_BASE_URL"),
    ],
)
def test_conflicting_or_bad_auth0_configuration(config: dict[str, Any], message: str) -> None:
    config.setdefault("AUTH0_AUDIENCE", "https://api")
    with pytest.raises(ConfigurationError, match=message):
        _init(**config)


def test_hs256_stays_refused() -> None:
    """Deliberate deviation from express-oauth2-jwt-bearer's secret mode: asymmetric only."""
    with pytest.raises(ConfigurationError, match="HS\\* and none are refused"):
        _init(AUTH0_DOMAIN="t.test", AUTH0_AUDIENCE="x", AUTH0_ALGORITHMS=["RS256", "HS256"])


# -- aliases -------------------------------------------------------------------------------------


def test_issuer_base_url_and_audience_aliases(
    tenant: TestIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISSUER_BASE_URL", "https://tenant.auth0.test")
    monkeypatch.setenv("AUDIENCE", "https://api")
    app = build_app()
    assert app.extensions["idguard"].providers[0].policy.issuer == TENANT
    assert app.test_client().get("/me", headers=bearer(tenant.token())).status_code == 200


def test_auth0_keys_win_over_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISSUER_BASE_URL", "https://other.test")
    monkeypatch.setenv("AUDIENCE", "https://other-api")
    app = _init(AUTH0_DOMAIN="tenant.auth0.test", AUTH0_AUDIENCE="https://api")
    policy = app.extensions["idguard"].providers[0].policy
    assert (policy.issuer, policy.audience) == (TENANT, {"https://api"})


def test_audience_alias_alone_enables_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """AUDIENCE is a common variable name: it counts only for a configured Auth0 tenant."""
    monkeypatch.setenv("AUDIENCE", "https://api")
    app = _init(IDGUARD_ISSUER="https://issuer.test/", IDGUARD_AUDIENCE="https://api")
    assert [p.name for p in app.extensions["idguard"].providers] == ["oidc"]


# -- AUTH0_* overrides of the IDGUARD_* settings -------------------------------------------------


def test_auth0_algorithms_apply_to_auth0_only(idguard_issuer_factory: MakeIssuer) -> None:
    tenant = idguard_issuer_factory(issuer=TENANT, audience="https://api", alg="ES256")
    other = idguard_issuer_factory(issuer="https://oidc.test/", audience="https://api", alg="ES256")
    app = build_app(
        AUTH0_DOMAIN="tenant.auth0.test",
        AUTH0_AUDIENCE="https://api",
        AUTH0_ALGORITHMS="ES256",
        IDGUARD_ISSUER=other.issuer,
        IDGUARD_AUDIENCE="https://api",
    )
    client = app.test_client()
    assert client.get("/me", headers=bearer(tenant.token())).status_code == 200
    r = client.get("/public", headers=bearer(other.token()))
    assert r.json == {"status": "signed-out", "reason": "token-invalid-algorithm"}


@pytest.mark.parametrize(
    ("config", "claims", "header", "reason"),
    [
        ({"AUTH0_CLOCK_TOLERANCE": 0}, {"exp": "now-1"}, {}, "token-expired"),
        ({"AUTH0_CLOCK_TOLERANCE": "30"}, {"exp": "now-10"}, {}, None),
        ({"AUTH0_MAX_TOKEN_AGE": 60}, {"iat": "now-120"}, {}, "token-max-age-exceeded"),
        ({"AUTH0_STRICT": True}, {"client_id": "c", "jti": "j"}, {}, "token-invalid"),
        ({"AUTH0_STRICT": "true"}, {"client_id": "c", "jti": "j"}, {"typ": "at+jwt"}, None),
    ],
    ids=["tolerance-0", "tolerance-30", "max-age", "strict-typ", "strict-ok"],
)
def test_auth0_verification_overrides(
    tenant: TestIssuer,
    config: dict[str, Any],
    claims: dict[str, Any],
    header: dict[str, Any],
    reason: str | None,
) -> None:
    import time

    now = int(time.time())
    resolved = {k: now - int(v[4:]) if isinstance(v, str) and v.startswith("now-") else v
                for k, v in claims.items()}  # fmt: skip
    app = build_app(AUTH0_DOMAIN="tenant.auth0.test", AUTH0_AUDIENCE="https://api", **config)
    token = tenant.token(resolved, header=header)
    r = app.test_client().get("/public", headers=bearer(token))
    assert r.json is not None and r.json["reason"] == reason


# -- claims --------------------------------------------------------------------------------------


@pytest.fixture
def claims_app(tenant: TestIssuer) -> Flask:
    app = build_app(
        AUTH0_DOMAIN="tenant.auth0.test",
        AUTH0_AUDIENCE="https://api",
        AUTH0_CLAIMS_NAMESPACE="https://myapp.example",
    )
    app.add_url_rule(
        "/custom",
        "custom",
        lambda: jsonify(custom=dict(current_auth.custom_claims), roles=sorted(current_auth.roles)),
    )
    app.add_url_rule("/editor", "editor", has_role("editor")(lambda: "editor"))
    app.add_url_rule("/reports", "reports", has_permission("read:reports")(lambda: "reports"))
    return app


def test_namespaced_custom_claims(claims_app: Flask, tenant: TestIssuer) -> None:
    token = tenant.token(
        {
            "https://myapp.example/roles": ["editor"],
            "https://myapp.example/plan": "pro",
            "https://myapp.example/": "no name",
            "https://other.example/plan": "free",
            "plan": "plain",
        }
    )
    r = claims_app.test_client().get("/custom", headers=bearer(token))
    assert r.json == {"custom": {"roles": ["editor"], "plan": "pro"}, "roles": ["editor"]}
    assert claims_app.test_client().get("/editor", headers=bearer(token)).status_code == 200
    no_role = tenant.token({"https://other.example/roles": ["editor"]})
    assert claims_app.test_client().get("/editor", headers=bearer(no_role)).status_code == 403


def test_custom_claims_empty_without_namespace(tenant: TestIssuer) -> None:
    app = build_app(AUTH0_DOMAIN="tenant.auth0.test", AUTH0_AUDIENCE="https://api")
    app.add_url_rule("/custom", "custom", lambda: jsonify(dict(current_auth.custom_claims)))
    token = tenant.token({"https://myapp.example/plan": "pro"})
    assert app.test_client().get("/custom", headers=bearer(token)).json == {}


@pytest.mark.parametrize(
    ("permissions", "status"),
    [(["read:reports", "write:x"], 200), (["write:x"], 403), ("read:reports", 403), (None, 403)],
    ids=["listed", "not-listed", "string-is-not-a-list", "absent"],
)
def test_has_permission_reads_auth0_permissions(
    claims_app: Flask, tenant: TestIssuer, permissions: Any, status: int
) -> None:
    claims = {} if permissions is None else {"permissions": permissions}
    r = claims_app.test_client().get("/reports", headers=bearer(tenant.token(claims)))
    assert r.status_code == status
