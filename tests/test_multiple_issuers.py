"""Several issuers for one provider: allow-lists, resolvers, caches (beyond rows 39–40)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import Headers

from flask_idguard import ConfigurationError
from flask_idguard import IdGuard
from flask_idguard.providers.issuers import IssuerContext
from flask_idguard.providers.issuers import IssuerRouter
from flask_idguard.providers.issuers import Issuers
from flask_idguard.providers.settings import Settings
from flask_idguard.testing import TestIssuer

from .conftest import bearer
from .conftest import build_app

MakeIssuer = Callable[..., TestIssuer]
SERVER_ERROR = {
    "error": "server_error",
    "error_description": "The issuer resolver failed; see the server log.",
}


@pytest.fixture
def tenants(idguard_issuer_factory: MakeIssuer) -> tuple[TestIssuer, TestIssuer]:
    return (
        idguard_issuer_factory(issuer="https://tenant-a.test/", audience="https://api"),
        idguard_issuer_factory(issuer="https://tenant-b.test/", audience="https://api"),
    )


def _by_tenant_header(ctx: IssuerContext) -> list[str]:
    tenant = ctx.headers.get("X-Tenant")
    return [f"tenant-{tenant}.test"] if tenant in ("a", "b") else []


def test_resolver_receives_the_request_and_unverified_iss(
    tenants: tuple[TestIssuer, TestIssuer],
) -> None:
    a, _ = tenants
    seen: list[IssuerContext] = []

    def resolver(ctx: IssuerContext) -> list[str]:
        seen.append(ctx)
        return ["tenant-a.test"]

    app = build_app(AUTH0_DOMAINS=resolver, AUTH0_AUDIENCE="https://api")
    r = app.test_client().get(
        "/me?x=1", headers={**bearer(a.token()), "X-Tenant": "a"}, base_url="https://api.test"
    )
    assert r.status_code == 200
    (ctx,) = seen
    assert ctx.url == "https://api.test/me?x=1"
    assert ctx.headers.get("x-tenant") == "a"
    assert ctx.unverified_iss == a.issuer


def test_resolver_is_asked_for_every_request_even_for_a_known_token(
    tenants: tuple[TestIssuer, TestIssuer],
) -> None:
    """A token of tenant A verified once is not accepted on a request that only allows B."""
    a, _ = tenants
    app = build_app(AUTH0_DOMAINS=_by_tenant_header, AUTH0_AUDIENCE="https://api")
    client = app.test_client()
    token = a.token()
    assert client.get("/me", headers={**bearer(token), "X-Tenant": "a"}).status_code == 200
    r = client.get("/me", headers={**bearer(token), "X-Tenant": "b"})
    assert r.status_code == 401
    assert r.json is not None and r.json["error_description"].endswith("issuer not allowed.")
    assert client.get("/me", headers={**bearer(token), "X-Tenant": "a"}).status_code == 200
    assert a.discovery_calls == 1


def _raises(ctx: IssuerContext) -> list[str]:
    raise RuntimeError("tenant database down")


@pytest.mark.parametrize(
    "resolver",
    [
        _raises,
        lambda ctx: "tenant-a.test",  # a string, not a list
        lambda ctx: None,
        lambda ctx: ["tenant-a.test/path"],  # an invalid domain
        lambda ctx: [7],
        lambda ctx: ["http://tenant-a.test"],  # http on a public host
    ],
    ids=["raises", "string", "none", "invalid-domain", "not-a-string", "http"],
)
def test_resolver_bugs_are_500(
    tenants: tuple[TestIssuer, TestIssuer],
    resolver: Callable[[IssuerContext], Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, _ = tenants
    app = build_app(AUTH0_DOMAINS=resolver, AUTH0_AUDIENCE="https://api")
    r = app.test_client().get("/me", headers=bearer(a.token()))
    assert r.status_code == 500
    assert r.json == SERVER_ERROR
    assert "WWW-Authenticate" not in r.headers
    assert any("issuer resolver" in rec.getMessage() for rec in caplog.records)
    assert a.discovery_calls == 0


def test_resolver_allowing_nothing_is_401(tenants: tuple[TestIssuer, TestIssuer]) -> None:
    """An empty list means "no issuer for this request" (e.g. an unknown tenant), not a bug."""
    a, _ = tenants
    app = build_app(AUTH0_DOMAINS=lambda ctx: [], AUTH0_AUDIENCE="https://api")
    r = app.test_client().get("/me", headers=bearer(a.token()))
    assert r.status_code == 401


def test_resolver_is_not_asked_without_a_token(tenants: tuple[TestIssuer, TestIssuer]) -> None:
    app = build_app(AUTH0_DOMAINS=_raises, AUTH0_AUDIENCE="https://api")
    assert app.test_client().get("/me").status_code == 401
    assert app.test_client().get("/public").status_code == 200


@pytest.mark.parametrize(
    ("token", "description"),
    [
        (lambda i: i.token(omit=["iss"]), "Missing 'iss' claim"),
        (lambda i: i.token({"iss": 7}), "Missing 'iss' claim"),
        (lambda i: "not.a.jwt", "Invalid JWT form. The header could not be decoded as JSON."),
        (
            lambda i: i.token({"iss": "https://TENANT-A.test/"}),
            "Unexpected 'iss' value \"https://TENANT-A.test/\": issuer not allowed.",
        ),
    ],
    ids=["missing-iss", "iss-not-a-string", "garbage", "iss-compared-exactly"],
)
def test_hostile_tokens_against_an_allow_list(
    tenants: tuple[TestIssuer, TestIssuer], token: Callable[[TestIssuer], str], description: str
) -> None:
    a, _ = tenants
    app = build_app(AUTH0_DOMAINS="tenant-a.test", AUTH0_AUDIENCE="https://api")
    r = app.test_client().get("/me", headers=bearer(token(a)))
    assert r.status_code == 401
    assert r.json == {"error": "invalid_token", "error_description": description}
    assert a.discovery_calls == 0


def test_forged_token_of_an_allowed_issuer_is_refused(
    tenants: tuple[TestIssuer, TestIssuer],
) -> None:
    """B signs a token claiming A's issuer: it is checked with A's keys, and fails."""
    a, b = tenants
    app = build_app(AUTH0_DOMAINS=["tenant-a.test", "tenant-b.test"], AUTH0_AUDIENCE="https://api")
    forged = b.token({"iss": a.issuer}, header={"kid": a.kid})
    r = app.test_client().get("/public", headers=bearer(forged))
    assert r.json == {"status": "signed-out", "reason": "token-invalid-signature"}
    assert b.discovery_calls == 0


def test_oidc_issuers_list_routes_next_to_auth0(idguard_issuer_factory: MakeIssuer) -> None:
    tenant = idguard_issuer_factory(issuer="https://tenant.auth0.test/", audience="https://api")
    kc1 = idguard_issuer_factory(issuer="https://kc.test/realms/one", audience="https://api")
    kc2 = idguard_issuer_factory(issuer="https://kc.test/realms/two", audience="https://api")
    app = build_app(
        AUTH0_DOMAIN="tenant.auth0.test",
        AUTH0_AUDIENCE="https://api",
        IDGUARD_ISSUERS=[kc1.issuer, kc2.issuer],
        IDGUARD_AUDIENCE="https://api",
    )
    client = app.test_client()
    for issuer, provider in ((tenant, "auth0"), (kc1, "oidc"), (kc2, "oidc")):
        r = client.get("/me", headers=bearer(issuer.token()))
        assert r.status_code == 200
        assert r.json is not None and r.json["provider"] == provider


def _init(**config: Any) -> Flask:
    app = Flask("cfg")
    app.config.update(config)
    IdGuard(app)
    return app


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"IDGUARD_ISSUERS": ["https://a.test/"], "IDGUARD_ISSUER": "https://a.test/"}, "combined"),
        ({"IDGUARD_ISSUERS": ["https://a.test/"], "IDGUARD_JWKS_URL": "https://a/j"}, "combined"),
        ({"IDGUARD_ISSUERS": ["https://a.test/"]}, "IDGUARD_AUDIENCE is required"),
        ({"IDGUARD_ISSUERS": ["ftp://a.test/"], "IDGUARD_AUDIENCE": "x"}, "IDGUARD_ISSUERS"),
        (
            {"IDGUARD_ISSUERS": ["https://a.test/"], "AUTH0_DOMAINS": "a.test"}
            | {"IDGUARD_AUDIENCE": "x", "AUTH0_AUDIENCE": "x"},
            "same issuer",
        ),
        (
            {"IDGUARD_ISSUERS": lambda ctx: [], "IDGUARD_AUDIENCE": "x"}
            | {"AUTH0_DOMAIN": "t.test", "AUTH0_AUDIENCE": "x"},
            "issuer resolver",
        ),
    ],
)
def test_bad_multi_issuer_configuration(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        _init(**config)


def test_discovery_sources_are_a_bounded_lru(
    idguard_issuer_factory: MakeIssuer, make_settings: Callable[[], Settings]
) -> None:
    issuers = [idguard_issuer_factory(audience="https://api") for _ in range(3)]
    allowed = Issuers("X", lambda s: s, static=[i.issuer for i in issuers])
    settings = make_settings()
    router = IssuerRouter(
        "x", allowed, settings.policy(issuer="", audience=frozenset({"a"})), settings, max_entries=2
    )

    def source(i: TestIssuer) -> object:
        from flask_idguard.core.jwt import decode_unverified

        token = i.token()
        target = router.select(decode_unverified(token), IssuerContext("/", Headers(), i.issuer))
        assert isinstance(target, tuple)
        return target[1]

    first = source(issuers[0])
    assert source(issuers[0]) is first
    source(issuers[1])
    source(issuers[2])  # evicts issuers[0], the least recently used
    assert router.cached_sources == 2
    assert source(issuers[0]) is not first


@pytest.fixture
def make_settings() -> Callable[[], Settings]:
    from flask_idguard.config import ConfigReader

    def make() -> Settings:
        return Settings.from_config(ConfigReader(Flask("s"), environ={}))

    return make


def test_key_sets_are_shared_per_jwks_uri(
    idguard_issuer_factory: MakeIssuer, idguard_responses: Any
) -> None:
    """Two custom domains of one tenant name the same jwks_uri: it is fetched once."""
    import responses

    a = idguard_issuer_factory(issuer="https://tenant-a.test/", audience="https://api")
    idguard_responses.add(
        responses.GET,
        "https://brand.test/.well-known/openid-configuration",
        json={"issuer": "https://brand.test/", "jwks_uri": a.jwks_uri},
    )
    app = build_app(AUTH0_DOMAINS=["tenant-a.test", "brand.test"], AUTH0_AUDIENCE="https://api")
    client = app.test_client()
    assert client.get("/me", headers=bearer(a.token())).status_code == 200
    brand = a.token({"iss": "https://brand.test/"})
    assert client.get("/me", headers=bearer(brand)).status_code == 200
    assert (a.discovery_calls, a.jwks_calls) == (1, 1)
