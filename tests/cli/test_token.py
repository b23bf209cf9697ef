"""``flask idguard token`` and the local identity provider's endpoints behind it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard.devidp import DevIdP
from flask_idguard.testing import DPoPKey


def run(app: Flask, *args: str) -> Any:
    result = app.test_cli_runner().invoke(args=["idguard", "token", *args])
    return result


def verdict(app: Flask, token: str) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(args=["idguard", "decode", token, "--json"])
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_a_session_token_for_a_user_by_email(app: Flask) -> None:
    result = run(app, "--user", "alice@example.test")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    data = verdict(app, token)
    assert data["verdict"]["status"] == "signed-in"
    assert data["verdict"]["provider"] == "clerk"
    assert data["verdict"]["user_id"] == "user_alice"
    r = app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert r.json is not None
    assert (r.json["provider"], r.json["user_id"]) == ("clerk", "user_alice")
    assert r.json["session_id"] == data["claims"]["sid"]


def test_a_session_token_with_an_organization(app: Flask) -> None:
    result = run(app, "--user", "user_alice", "--org", "globex", "--json")
    assert result.exit_code == 0, result.output
    claims = verdict(app, json.loads(result.output)["token"])["claims"]
    assert claims["o"]["slg"] == "globex"
    assert claims["o"]["rol"] == "member"


def test_an_organization_the_user_is_not_in_is_refused(app: Flask) -> None:
    result = run(app, "--user", "user_carol", "--org", "acme")
    assert result.exit_code == 1
    assert "HTTP 422: user_carol is not a member of organization 'acme'" in result.output


def test_an_unknown_user_is_refused(app: Flask) -> None:
    assert "no user with the email address" in run(app, "--user", "nobody@example.test").output
    assert "HTTP 404: User not found" in run(app, "--user", "user_nobody").output


def test_an_access_token_with_scopes_passes_scopes_include(app: Flask) -> None:
    result = run(app, "--access", "auth0", "--scope", "read:messages", "--permission", "x:y")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    r = app.test_client().get("/api/messages", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert verdict(app, token)["claims"]["permissions"] == ["x:y"]
    other = run(app, "--access", "auth0", "--scope", "other").output.strip()
    r = app.test_client().get("/api/messages", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 403


def test_an_oidc_access_token(app: Flask, idp: DevIdP) -> None:
    token = run(app, "--access", "oidc", "--sub", "svc").output.strip()
    data = verdict(app, token)
    assert data["header"]["typ"] == "at+jwt"
    assert data["claims"]["iss"] == idp.config.oidc_issuer
    assert data["verdict"] == {
        "status": "signed-in", "reason": None, "message": None, "provider": "oidc",
        "user_id": "svc",
    }  # fmt: skip


def test_a_dpop_bound_access_token(app: Flask, tmp_path: Path) -> None:
    key = DPoPKey()
    jwk_file = tmp_path / "key.json"
    jwk_file.write_text(json.dumps(key.jwk))
    result = run(app, "--access", "auth0", "--dpop-jwk", str(jwk_file), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["token_type"] == "DPoP"
    assert data["jkt"] == key.jkt
    assert verdict(app, data["token"])["claims"]["cnf"] == {"jkt": key.jkt}
    client = app.test_client()
    # Bound: as a plain bearer token it is refused; with a proof of the key it is accepted.
    r = client.get("/api/me", headers={"Authorization": f"Bearer {data['token']}"})
    assert r.status_code == 401
    proof = key.proof("GET", "http://localhost/api/me", data["token"])
    r = client.get("/api/me", headers={"Authorization": f"DPoP {data['token']}", "DPoP": proof})
    assert r.status_code == 200, r.headers


def test_usage_errors(app: Flask, tmp_path: Path) -> None:
    assert run(app).exit_code == 2
    assert run(app, "--user", "u", "--access", "auth0").exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert "not a JWK" in run(app, "--access", "auth0", "--dpop-jwk", str(bad)).output


def test_a_stopped_provider_is_named() -> None:
    with DevIdP().serve() as stopped:
        env = stopped.env()
    from example_app import create_app

    result = run(create_app(env), "--user", "user_alice")
    assert result.exit_code == 1
    assert "unreachable (ConnectionError); is the local identity provider running" in (
        result.output
    )


# -- the endpoints: the secret key is required, and hostile bodies get 4xx -------------------

ENDPOINTS = ("/v1/sessions", "/v1/devidp/access_tokens")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "auth", [None, "Bearer wrong", "Bearer ", "Basic devidp-machine:devidp-machine-secret"]
)
def test_minting_needs_the_secret_key(idp: DevIdP, path: str, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth is not None else {}
    r = requests.post(idp.config.base_url + path, json={"user_id": "user_alice"},
                      headers=headers, timeout=5)  # fmt: skip
    assert r.status_code == 401
    assert "access_token" not in r.text and "jwt" not in r.text


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)
FIELDS = ("user_id", "active_organization", "issuer", "sub", "audience", "scope",
          "permissions", "jkt", "expires_in_seconds")  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=5), path=st.sampled_from(ENDPOINTS)
)
def test_hostile_bodies_never_give_a_500(idp: DevIdP, body: dict[str, Any], path: str) -> None:
    r = idp.app.test_client().post(
        path, json=body, headers={"Authorization": f"Bearer {idp.secret_key}"}
    )
    assert r.status_code in (200, 404, 422)


def test_a_remote_backend_api_is_not_used_unless_named(idp: DevIdP) -> None:
    from example_app import create_app

    app = create_app({**idp.env(), "CLERK_API_URL": "https://api.clerk.com"})
    result = run(app, "--user", "user_alice")
    assert result.exit_code == 2
    assert "CLERK_API_URL is not the local identity provider" in result.output
    named = run(app, "--user", "user_alice", "--idp", idp.config.base_url)
    assert named.exit_code == 0, named.output
