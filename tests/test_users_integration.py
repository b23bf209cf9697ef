"""``idguard.users`` from the configuration and ``current_auth.get_user()`` in views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from flask import Flask
from flask import jsonify

from flask_idguard import Auth0ManagementClient
from flask_idguard import AuthState
from flask_idguard import ClerkClient
from flask_idguard import ConfigurationError
from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard.providers.base import Provider
from flask_idguard.providers.request import RequestContext
from flask_idguard.testing import TestIssuer

OIDC = {"IDGUARD_ISSUER": "https://issuer.test/", "IDGUARD_AUDIENCE": "https://api.test"}
CLERK_USER = {
    "id": "user_1",
    "first_name": "Ada",
    "primary_email_address_id": "idn_1",
    "email_addresses": [{"id": "idn_1", "email_address": "ada@example.com"}],
}


class StandIn(Provider):
    """Signs in ``X-User`` as a user of provider ``name`` (a stand-in for a real provider)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def authenticate(self, ctx: RequestContext) -> AuthState | None:
        user = ctx.request.headers.get("X-User")
        if user is None:
            return None
        return AuthState("signed-in", provider=self.name, claims={"sub": user})


def app_with(config: dict[str, Any], *providers: Provider) -> tuple[Flask, IdGuard]:
    app = Flask("users")
    app.config.update(config)
    idguard = IdGuard(app, providers=providers)

    @app.get("/profile")
    def profile() -> Any:
        first = current_auth.get_user()
        again = current_auth.get_user()
        assert again is first
        if first is None:
            return jsonify(user=None)
        return jsonify(id=first.id, email=first.email, provider=first.provider)

    return app, idguard


@pytest.fixture
def auth0_issuer(idguard_issuer_factory: Callable[..., TestIssuer]) -> TestIssuer:
    return idguard_issuer_factory(issuer="https://tenant.test/")


def test_auth0_get_user_once_per_request(
    auth0_issuer: TestIssuer, idguard_responses: responses.RequestsMock
) -> None:
    idguard_responses.add(
        "POST", "https://tenant.test/oauth/token", json={"access_token": "m", "expires_in": 86400}
    )
    user = idguard_responses.add(
        "GET",
        "https://tenant.test/api/v2/users/auth0%7C42",
        json={"user_id": "auth0|42", "email": "ada@example.com"},
    )
    app, idguard = app_with(
        {
            "AUTH0_DOMAIN": "tenant.test",
            "AUTH0_AUDIENCE": auth0_issuer.audience,
            "AUTH0_CLIENT_ID": "client-1",
            "AUTH0_CLIENT_SECRET": "secret-1",
            "IDGUARD_HTTP_TIMEOUT": 3,
        }
    )
    token = auth0_issuer.token({"sub": "auth0|42"})
    client = app.test_client()
    for _ in range(2):
        r = client.get("/profile", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        assert r.json == {"id": "auth0|42", "email": "ada@example.com", "provider": "auth0"}
    assert user.call_count == 2  # once per request, not once per get_user() call
    token_calls = [
        c for c in idguard_responses.calls if str(c.request.url).endswith("/oauth/token")
    ]
    assert len(token_calls) == 1  # one client per app: the token is reused
    with app.app_context():
        assert isinstance(idguard.users, Auth0ManagementClient)
        assert idguard.users is idguard.users
        assert idguard.users.timeout == 3


def test_signed_out_get_user_is_none(auth0_issuer: TestIssuer) -> None:
    app, _ = app_with(
        {
            "AUTH0_DOMAIN": "tenant.test",
            "AUTH0_AUDIENCE": auth0_issuer.audience,
            "AUTH0_MANAGEMENT_TOKEN": "m",
        }
    )
    r = app.test_client().get("/profile")
    assert (r.status_code, r.json) == (200, {"user": None})


def test_clerk_get_user_through_a_configured_api_url() -> None:
    with responses.RequestsMock() as rsps:
        rsps.add("GET", "http://127.0.0.1:7000/v1/users/user_1", json=CLERK_USER)
        app, _ = app_with(
            {"CLERK_SECRET_KEY": "sk_test_abc", "CLERK_API_URL": "http://127.0.0.1:7000"},
            StandIn("clerk"),
        )
        r = app.test_client().get("/profile", headers={"X-User": "user_1"})
        assert r.json == {"id": "user_1", "email": "ada@example.com", "provider": "clerk"}
        assert rsps.calls[0].request.headers["Authorization"] == "Bearer sk_test_abc"


def test_a_user_of_another_provider_is_not_looked_up() -> None:
    app, _ = app_with({"CLERK_SECRET_KEY": "sk_test_abc"}, StandIn("oidc"))
    app.config["TESTING"] = True
    with pytest.raises(RuntimeError, match="provider 'oidc', which has no users API client"):
        app.test_client().get("/profile", headers={"X-User": "user_1"})


def test_get_user_without_any_client_names_the_keys() -> None:
    app, _ = app_with({}, StandIn("clerk"))
    app.config["TESTING"] = True
    with pytest.raises(ConfigurationError, match="set CLERK_SECRET_KEY"):
        app.test_client().get("/profile", headers={"X-User": "user_1"})


def test_with_both_clients_get_user_asks_the_request_s_provider(
    auth0_issuer: TestIssuer, idguard_responses: responses.RequestsMock
) -> None:
    idguard_responses.add("GET", "https://api.clerk.com/v1/users/user_1", json=CLERK_USER)
    idguard_responses.add(
        "GET",
        "https://tenant.test/api/v2/users/auth0%7C42",
        json={"user_id": "auth0|42", "email": "m2m@example.com"},
    )
    app, idguard = app_with(
        {
            "CLERK_SECRET_KEY": "sk_test_abc",
            "AUTH0_DOMAIN": "tenant.test",
            "AUTH0_AUDIENCE": auth0_issuer.audience,
            "AUTH0_MANAGEMENT_TOKEN": "mgmt",
        },
        StandIn("clerk"),
    )
    client = app.test_client()
    r = client.get("/profile", headers={"X-User": "user_1"})
    assert r.json == {"id": "user_1", "email": "ada@example.com", "provider": "clerk"}
    token = auth0_issuer.token({"sub": "auth0|42"})
    r = client.get("/profile", headers={"Authorization": f"Bearer {token}"})
    assert r.json == {"id": "auth0|42", "email": "m2m@example.com", "provider": "auth0"}
    with app.app_context(), pytest.raises(ConfigurationError, match="cannot choose"):
        _ = idguard.users


def test_each_app_has_its_own_client() -> None:
    idguard = IdGuard()
    apps = []
    for key in ("sk_test_one", "sk_test_two"):
        app = Flask(key)
        app.config.update(OIDC, CLERK_SECRET_KEY=key)
        idguard.init_app(app)
        apps.append(app)
    clients = []
    for app in apps:
        with app.app_context():
            clients.append(idguard.users)
    assert all(isinstance(c, ClerkClient) for c in clients)
    assert clients[0] is not clients[1]


# id, config, message of the ConfigurationError raised by idguard.users
UNUSABLE: list[tuple[str, dict[str, Any], str]] = [
    ("none", {}, "set CLERK_SECRET_KEY .*AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET"),
    (
        "both",
        {
            "CLERK_SECRET_KEY": "sk_test_x",
            "AUTH0_DOMAIN": "tenant.test",
            "AUTH0_AUDIENCE": "https://api.test",
            "AUTH0_CLIENT_ID": "c",
            "AUTH0_CLIENT_SECRET": "s",
        },
        "Both CLERK_SECRET_KEY and Auth0 .* build the one you need directly",
    ),
    (
        "auth0-domain-without-credentials",
        {"AUTH0_DOMAIN": "tenant.test", "AUTH0_AUDIENCE": "https://api.test"},
        "set AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET",
    ),
]


@pytest.mark.parametrize(
    ("config", "message"), [row[1:] for row in UNUSABLE], ids=[row[0] for row in UNUSABLE]
)
def test_idguard_users_says_which_keys_to_set(config: dict[str, Any], message: str) -> None:
    app, idguard = app_with({**OIDC, **config})
    with app.app_context(), pytest.raises(ConfigurationError, match=message):
        _ = idguard.users


# id, config, message of the ConfigurationError raised by init_app
BAD: list[tuple[str, dict[str, Any], str]] = [
    (
        "clerk-api-url-plain-http",
        {"CLERK_SECRET_KEY": "k", "CLERK_API_URL": "http://x.com"},
        "CLERK_API_URL",
    ),
    (
        "clerk-api-version-path",
        {"CLERK_SECRET_KEY": "k", "CLERK_API_VERSION": "v1/x"},
        "CLERK_API_VERSION",
    ),
    (
        "auth0-id-without-secret",
        {"AUTH0_CLIENT_ID": "c"},
        "both AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET",
    ),
    ("auth0-token-without-domain", {"AUTH0_MANAGEMENT_TOKEN": "t"}, "need AUTH0_DOMAIN"),
    (
        "auth0-management-url-plain-http",
        {
            "AUTH0_DOMAIN": "tenant.test",
            "AUTH0_AUDIENCE": "https://api.test",
            "AUTH0_MANAGEMENT_TOKEN": "t",
            "AUTH0_MANAGEMENT_API_URL": "http://mgmt.example.com",
        },
        "AUTH0_MANAGEMENT_API_URL",
    ),
]


@pytest.mark.parametrize(
    ("config", "message"), [row[1:] for row in BAD], ids=[row[0] for row in BAD]
)
def test_bad_users_keys_fail_at_init_app(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        app_with({**OIDC, **config})


def test_auth0_management_token_and_url_from_config() -> None:
    with responses.RequestsMock() as rsps:
        rsps.add("GET", "http://127.0.0.1:7001/api/v2/users/auth0%7C1", json={"user_id": "auth0|1"})
        app, idguard = app_with(
            {
                **OIDC,
                "AUTH0_DOMAIN": "tenant.test",
                "AUTH0_AUDIENCE": "https://api.test",
                "AUTH0_MANAGEMENT_TOKEN": "mgmt-token",
                "AUTH0_MANAGEMENT_API_URL": "http://127.0.0.1:7001",
            }
        )
        with app.app_context():
            assert idguard.users.get("auth0|1") == {"user_id": "auth0|1"}
        assert rsps.calls[0].request.headers["Authorization"] == "Bearer mgmt-token"
