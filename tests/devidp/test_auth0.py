"""The Auth0 tenant and the OIDC issuer of the local identity provider, proven with real
clients, unchanged: flask-idguard's ``Auth0Provider``/``OIDCProvider`` (client-credentials
tokens, DPoP-bound ones), its ``Auth0ManagementClient``, and ``auth0-python``."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
import requests
from auth0.authentication import GetToken
from auth0.management import Auth0
from auth0.management.errors import NotFoundError
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard import APIAuthenticationFailed
from flask_idguard import APINotFound
from flask_idguard import APIRequestInvalid
from flask_idguard import Auth0ManagementClient
from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard import scopes_include
from flask_idguard.core.jwt import decode_unverified
from flask_idguard.devidp import DevIdP
from flask_idguard.devidp.users_json import AUTH0_CONNECTION
from flask_idguard.testing import DPoPKey

CLIENT = {"client_id": "devidp-machine", "client_secret": "devidp-machine-secret"}


def token_answer(
    provider: DevIdP, path: str = "/oauth/token", dpop: str | None = None, **fields: str
) -> Any:
    body = {"grant_type": "client_credentials", **CLIENT, **fields}
    headers = {"DPoP": dpop} if dpop is not None else {}
    return requests.post(provider.config.base_url + path, data=body, headers=headers, timeout=5)


def get_token(
    provider: DevIdP, path: str = "/oauth/token", dpop: str | None = None, **fields: str
) -> str:
    answer = token_answer(provider, path, dpop, **fields)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def api(config: dict[str, str]) -> FlaskClient:
    """An API trusting the provider through ``config`` (its ``idp.env()`` lines)."""
    app = Flask("devidp-api")
    app.config.update(config)
    IdGuard(app)

    @app.get("/me")
    @requires_auth
    def me() -> Any:
        return {"sub": current_auth.user_id, "provider": current_auth.provider}

    @app.get("/read")
    @scopes_include("read:messages")
    def read() -> Any:
        return {"scopes": sorted(current_auth.scopes)}

    @app.get("/write")
    @scopes_include("write:messages")
    def write() -> Any:
        return {"ok": True}

    return app.test_client()


def auth0_api(provider: DevIdP) -> FlaskClient:
    env = provider.env()
    return api({k: env[k] for k in ("AUTH0_DOMAIN", "AUTH0_AUDIENCE")})


def oidc_api(provider: DevIdP) -> FlaskClient:
    env = provider.env()
    return api({k: env[k] for k in ("IDGUARD_ISSUER", "IDGUARD_AUDIENCE")})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- discovery and tokens ---------------------------------------------------------------------


def test_both_issuers_publish_discovery(provider: DevIdP) -> None:
    base = provider.config.base_url
    for issuer, prefix in ((base + "/", ""), (base + "/oidc", "/oidc")):
        doc = requests.get(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=5)
        assert doc.json()["issuer"] == issuer
        assert doc.json()["token_endpoint"] == base + prefix + "/oauth/token"
        assert doc.json()["jwks_uri"] == base + "/.well-known/jwks.json"


def test_a_client_credentials_token_looks_like_auth0s(provider: DevIdP) -> None:
    answer = token_answer(provider)
    assert answer.json()["token_type"] == "Bearer" and answer.json()["expires_in"] == 86400
    assert answer.headers["Cache-Control"] == "no-store"
    parsed = decode_unverified(answer.json()["access_token"])
    assert parsed.header["kid"] == provider.auth0_key.kid
    claims = parsed.claims
    assert claims["iss"] == provider.config.base_url + "/"
    assert claims["sub"] == "devidp-machine@clients" and claims["azp"] == "devidp-machine"
    assert claims["aud"] == provider.config.audience and claims["gty"] == "client-credentials"
    assert claims["scope"] == "read:messages" and claims["permissions"] == ["read:messages"]
    assert claims["exp"] - claims["iat"] == 86400
    # JSON and client_secret_basic are taken too.
    as_json = requests.post(
        provider.config.base_url + "/oauth/token",
        json={"grant_type": "client_credentials", **CLIENT, "organization": None},
        timeout=5,
    )
    basic = requests.post(
        provider.config.base_url + "/oidc/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(CLIENT["client_id"], CLIENT["client_secret"]),
        timeout=5,
    )
    assert as_json.status_code == basic.status_code == 200
    oidc = decode_unverified(basic.json()["access_token"])
    assert oidc.header["typ"] == "at+jwt" and oidc.claims["iss"] == provider.config.oidc_issuer
    assert oidc.claims["client_id"] == "devidp-machine"


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "access_denied"),
        ({"client_id": "nobody"}, 401, "access_denied"),
        ({"audience": "https://elsewhere.test"}, 403, "access_denied"),
        ({"scope": "read:messages write:messages"}, 403, "access_denied"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
    ],
)
def test_refusals_are_auth0s(
    provider: DevIdP, fields: dict[str, str], status: int, error: str
) -> None:
    answer = token_answer(provider, **fields)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert answer.json()["error_description"]


def test_the_management_api_is_the_tenants_only(provider: DevIdP) -> None:
    audience = provider.config.auth0_issuer + "api/v2/"
    assert token_answer(provider, audience=audience).status_code == 200
    assert token_answer(provider, "/oidc/oauth/token", audience=audience).status_code == 403


# -- the providers accept the tokens ----------------------------------------------------------


def test_auth0_provider_accepts_the_tenants_tokens(provider: DevIdP) -> None:
    client = auth0_api(provider)
    token = get_token(provider)
    me = client.get("/me", headers=bearer(token))
    assert me.json == {"sub": "devidp-machine@clients", "provider": "auth0"}
    assert client.get("/read", headers=bearer(token)).json == {"scopes": ["read:messages"]}
    assert client.get("/write", headers=bearer(token)).status_code == 403
    management = get_token(provider, audience=provider.config.auth0_issuer + "api/v2/")
    assert client.get("/me", headers=bearer(management)).status_code == 401  # wrong audience
    oidc = get_token(provider, "/oidc/oauth/token")
    assert client.get("/me", headers=bearer(oidc)).status_code == 401  # another issuer


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "read:messages write:messages"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_oidc_provider_accepts_the_issuers_tokens_and_refuses_tampered_ones(
    provider: DevIdP,
) -> None:
    client = oidc_api(provider)
    token = get_token(provider, "/oidc/oauth/token")
    assert client.get("/read", headers=bearer(token)).json == {"scopes": ["read:messages"]}
    assert client.get("/write", headers=bearer(tampered(token))).status_code == 401
    assert client.get("/me", headers=bearer(get_token(provider))).status_code == 401


@pytest.mark.parametrize("path", ["/oauth/token", "/oidc/oauth/token"])
def test_a_dpop_bound_token_needs_its_proof(provider: DevIdP, path: str) -> None:
    key = DPoPKey()
    url = provider.config.base_url + path
    answer = token_answer(provider, path, dpop=key.proof("POST", url))
    assert answer.json()["token_type"] == "DPoP"
    token = answer.json()["access_token"]
    assert decode_unverified(token).claims["cnf"] == {"jkt": key.jkt}
    client = auth0_api(provider) if path == "/oauth/token" else oidc_api(provider)
    proof = key.proof("GET", "http://localhost/read", token=token)
    ok = client.get("/read", headers={"Authorization": f"DPoP {token}", "DPoP": proof})
    assert ok.status_code == 200, ok.json
    assert client.get("/read", headers=bearer(token)).status_code == 401
    other = DPoPKey().proof("GET", "http://localhost/read", token=token)
    stolen = client.get("/read", headers={"Authorization": f"DPoP {token}", "DPoP": other})
    assert stolen.status_code == 401


def test_the_token_endpoint_checks_the_proof(provider: DevIdP) -> None:
    key = DPoPKey()
    url = provider.config.base_url + "/oauth/token"
    proofs = {
        "wrong htu": key.proof("POST", provider.config.base_url + "/oidc/oauth/token"),
        "wrong htm": key.proof("GET", url),
        "stale": key.proof("POST", url, now=time.time() - 3600),
        "typ": key.proof("POST", url, header={"typ": "JWT"}),
        "private key": key.proof("POST", url, header={"jwk": key.private_jwk()}),
        "no jti": key.proof("POST", url, jti=None),
        "garbage": "not.a.proof",
        "two": key.proof("POST", url) + ", " + key.proof("POST", url),
    }
    for name, proof in proofs.items():
        answer = token_answer(provider, dpop=proof)
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_dpop_proof"), name
    once = key.proof("POST", url)
    assert token_answer(provider, dpop=once).status_code == 200
    assert token_answer(provider, dpop=once).json()["error"] == "invalid_dpop_proof"  # replay


# -- the Management API -----------------------------------------------------------------------


@pytest.fixture
def management(provider: DevIdP) -> Auth0ManagementClient:
    env = provider.env()
    return Auth0ManagementClient(
        env["AUTH0_DOMAIN"], env["AUTH0_CLIENT_ID"], env["AUTH0_CLIENT_SECRET"], retries=0
    )


def test_management_client_reads_and_searches(management: Auth0ManagementClient) -> None:
    everyone = [u["user_id"] for u in management.list()]
    assert everyone == ["auth0|user_alice", "auth0|user_bob", "auth0|user_carol"]
    assert [u["user_id"] for u in management.iter(per_page=2)] == everyone
    assert management.count() == 3
    assert [u["email"] for u in management.list(q='email:"bob@example.test"')] == [
        "bob@example.test"
    ]
    assert len(management.list(q="app_metadata.plan:pro OR given_name:car*")) == 2
    assert management.count(q="identities.connection:" + AUTH0_CONNECTION) == 3
    assert management.list(sort="email:-1", fields=["email"], include_fields=True)[0] == {
        "email": "carol@example.test"
    }
    alice = management.user("auth0|user_alice")
    assert (alice.email, alice.full_name, alice.public_metadata) == (
        "alice@example.test",
        "Alice Admin",
        {"plan": "pro"},
    )
    assert management.get("auth0|user_alice")["identities"][0]["user_id"] == "user_alice"
    with pytest.raises(APINotFound):
        management.get("user_alice")  # Auth0 ids are auth0|<id>


def test_management_client_writes(management: Auth0ManagementClient, provider: DevIdP) -> None:
    created = management.create(
        connection=AUTH0_CONNECTION,
        email="dana@example.test",
        password="dana-password",
        given_name="Dana",
        app_metadata={"plan": "free", "nested": {"a": 1}},
    )
    user_id = created["user_id"]
    assert user_id.startswith("auth0|user_") and created["given_name"] == "Dana"
    store_id = user_id.removeprefix("auth0|")
    assert provider.store.users[store_id].public_metadata == {"plan": "free", "nested": {"a": 1}}
    merged = management.update_metadata(
        user_id, public={"nested": {"b": 2}, "plan": None}, unsafe={"theme": "dark"}
    )
    assert merged["app_metadata"] == {"nested": {"b": 2}}  # top level merged, nested replaced
    assert merged["user_metadata"] == {"theme": "dark"}
    assert management.update(user_id, family_name="Doe", blocked=True)["blocked"] is True
    assert management.update(user_id, app_metadata={})["app_metadata"] == {}
    assert provider.store.authenticate("dana@example.test", "dana-password") is None  # blocked
    management.delete(user_id)
    with pytest.raises(APINotFound):
        management.get(user_id)


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (
            lambda m: m.create(
                connection=AUTH0_CONNECTION, email="bob@example.test", password="p" * 9
            ),
            409,
        ),
        (lambda m: m.create(connection=AUTH0_CONNECTION, email="new@example.test"), 400),
        (
            lambda m: m.create(
                connection="google-oauth2", email="n@example.test", password="p" * 9
            ),
            400,
        ),
        (lambda m: m.update("auth0|user_bob", name="Bobby"), 400),
        (lambda m: m.update("auth0|user_bob", app_metadata="plan"), 400),
        (lambda m: m.list(q="(email:x OR name:y)"), 400),
        (lambda m: m.list(per_page=101), 400),
    ],
)
def test_management_refusals(management: Auth0ManagementClient, call: Any, status: int) -> None:
    with pytest.raises(APIRequestInvalid) as caught:
        call(management)
    assert caught.value.status == status


def test_the_management_api_wants_a_management_token(provider: DevIdP) -> None:
    users = provider.config.base_url + "/api/v2/users"
    assert requests.get(users, timeout=5).status_code == 401
    api_token = get_token(provider)
    assert requests.get(users, headers=bearer(api_token), timeout=5).status_code == 401
    with pytest.raises(APIAuthenticationFailed):
        Auth0ManagementClient(provider.config.base_url, token=api_token, retries=0).list()


def test_a_dpop_bound_management_token(provider: DevIdP) -> None:
    key = DPoPKey()
    base = provider.config.base_url
    audience = provider.config.auth0_issuer + "api/v2/"
    token = get_token(provider, audience=audience, dpop=key.proof("POST", base + "/oauth/token"))
    url = base + "/api/v2/users/auth0%7Cuser_bob"
    headers = {"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", url, token=token)}
    assert requests.get(url, headers=headers, timeout=5).json()["email"] == "bob@example.test"
    assert requests.get(url, headers=bearer(token), timeout=5).status_code == 401


# -- auth0-python -----------------------------------------------------------------------------


def test_auth0_python_gets_a_token_and_manages_users(provider: DevIdP) -> None:
    base = provider.config.base_url
    host = base.removeprefix("http://")
    tokens = GetToken(host, CLIENT["client_id"], CLIENT["client_secret"], protocol="http")
    answer = tokens.client_credentials(provider.config.auth0_issuer + "api/v2/")
    auth0 = Auth0(base_url=base + "/api/v2", token=answer["access_token"])
    assert [u.user_id for u in auth0.users.list(per_page=2)] == [
        "auth0|user_alice",
        "auth0|user_bob",
        "auth0|user_carol",
    ]
    alice = auth0.users.get("auth0|user_alice")
    assert (alice.email, alice.app_metadata) == ("alice@example.test", {"plan": "pro"})
    assert alice.created_at is not None and alice.identities is not None
    created = auth0.users.create(
        connection=AUTH0_CONNECTION,
        email="gus@example.test",
        password="gus-password",
        given_name="Gus",
    )
    assert created.user_id is not None and created.given_name == "Gus"
    updated = auth0.users.update(created.user_id, family_name="G", user_metadata={"lang": "fr"})
    assert (updated.family_name, updated.user_metadata) == ("G", {"lang": "fr"})
    auth0.users.delete(created.user_id)
    with pytest.raises(NotFoundError):
        auth0.users.get(created.user_id)


# -- hostile input ----------------------------------------------------------------------------

_TEXT = st.text(max_size=30)
_HEADER = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
_NAMES = st.sampled_from(
    ["grant_type", "client_id", "client_secret", "audience", "scope", "client_assertion"]
)
_FORM = st.dictionaries(_NAMES | st.text(max_size=8), _TEXT, max_size=6)
_VALUES = st.none() | st.booleans() | st.integers() | _TEXT | st.lists(_TEXT, max_size=2)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    form=_FORM,
    json_body=st.dictionaries(_NAMES, _VALUES, max_size=6) | st.none(),
    raw=st.binary(max_size=40) | st.none(),
    dpop=st.none() | _HEADER | st.just("e30.e30.e30"),
    authorization=st.none() | _HEADER | st.just("Basic Og=="),
    path=st.sampled_from(["/oauth/token", "/oidc/oauth/token"]),
)
def test_no_token_request_makes_a_500(
    provider: DevIdP,
    form: dict[str, str],
    json_body: dict[str, Any] | None,
    raw: bytes | None,
    dpop: str | None,
    authorization: str | None,
    path: str,
) -> None:
    client = provider.app.test_client()
    headers = {k: v for k, v in (("DPoP", dpop), ("Authorization", authorization)) if v}
    if raw is not None:
        answer = client.post(path, data=raw, headers=headers, content_type="application/json")
    elif json_body is not None:
        answer = client.post(path, json={**CLIENT, **json_body}, headers=headers)
    else:
        answer = client.post(
            path, data={"grant_type": "client_credentials", **form}, headers=headers
        )
    assert answer.status_code in (200, 400, 401, 403), answer.get_data(as_text=True)
    body = answer.get_json()
    assert isinstance(body, dict) and ("access_token" in body or "error" in body)


_AUTHORIZATION = st.none() | _HEADER.map("Bearer {}".format) | _HEADER.map("DPoP {}".format)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.lists(
        st.tuples(
            st.sampled_from(["q", "page", "per_page", "sort", "fields", "include_totals"])
            | st.text(max_size=6),
            st.text(max_size=24) | st.sampled_from(['email:"a*', "name:x OR", "a:b AND c:d"]),
        ),
        max_size=4,
    ),
    authorization=_AUTHORIZATION,
    dpop=st.none() | _HEADER,
)
def test_no_users_query_makes_a_500(
    provider: DevIdP,
    query: list[tuple[str, str]],
    authorization: str | None,
    dpop: str | None,
) -> None:
    client = provider.app.test_client()
    if authorization is None:
        audience = provider.config.auth0_issuer + "api/v2/"
        form = {"grant_type": "client_credentials", **CLIENT, "audience": audience}
        authorization = (
            "Bearer " + client.post("/oauth/token", data=form).get_json()["access_token"]
        )
    headers = {"Authorization": authorization, **({"DPoP": dpop} if dpop is not None else {})}
    answer = client.get("/api/v2/users", query_string=query, headers=headers)
    assert answer.status_code in (200, 400, 401), answer.get_data(as_text=True)
