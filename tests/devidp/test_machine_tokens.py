"""Clerk machine tokens on the local identity provider: issued, verified by an app through
its Backend API (opaque) or its keys (JWT), and revoked."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from flask import Flask
from flask import jsonify

from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard.devidp import DevIdP
from flask_idguard.devidp.bapi_machines import machine_secret_key
from flask_idguard.devidp.bapi_machines import machine_tokens

MACHINE_KEY = "ak_devidp_machine_secret"


def app_for(idp: DevIdP, **config: Any) -> Flask:
    env = {k: v for k, v in idp.env().items() if k.startswith("CLERK_")}
    app = Flask(__name__)
    app.config.update({**env, "CLERK_MACHINE_TOKEN_CACHE_TTL": 0, **config})
    IdGuard(app)

    @app.get("/api/machine")
    @requires_auth(accepts_token="any")
    def machine() -> Any:
        a = current_auth
        return jsonify(token_type=a.token_type, machine_id=a.machine_id, user_id=a.user_id,
                       scopes=sorted(a.scopes), claims=dict(a.claims))  # fmt: skip

    return app


def call(app: Flask, token: str) -> Any:
    return app.test_client().get("/api/machine", headers={"Authorization": f"Bearer {token}"})


def post(idp: DevIdP, path: str, key: str, **body: Any) -> requests.Response:
    return requests.post(idp.config.base_url + path, json=body, timeout=10,
                         headers={"Authorization": f"Bearer {key}"})  # fmt: skip


def test_the_seeded_machine_key() -> None:
    assert machine_secret_key("devidp-machine-secret") == MACHINE_KEY


@pytest.mark.parametrize("token_format", ["opaque", "jwt"])
def test_m2m_tokens(provider: DevIdP, token_format: str) -> None:
    made = post(provider, "/m2m_tokens", MACHINE_KEY, claims={"env": "dev"},
                seconds_until_expiration=600, token_format=token_format)  # fmt: skip
    assert made.status_code == 200, made.text
    token = made.json()["token"]
    assert token.startswith("mt_") == (token_format == "opaque")
    app = app_for(provider, CLERK_MACHINE_SECRET_KEY=MACHINE_KEY)
    resp = call(app, token)
    assert resp.status_code == 200, resp.headers
    assert resp.json["token_type"] == "m2m_token"
    assert resp.json["machine_id"] == "mch_devidp_machine"
    assert resp.json["claims"]["env"] == "dev"
    revoked = post(provider, f"/m2m_tokens/{made.json()['id']}/revoke", MACHINE_KEY)
    assert revoked.json()["revoked"] is True
    after = call(app, token)
    if token_format == "opaque":  # asked every time here (TTL 0): refused at once
        assert after.status_code == 401
        assert after.headers["x-clerk-auth-message"] == (
            "Machine token not found (code=token-invalid, status=404)"
        )
    else:  # a JWT is verified with the keys alone, as Clerk's are: valid until it expires
        assert after.status_code == 200


def test_m2m_verify_with_the_instance_secret_key(provider: DevIdP) -> None:
    token = post(provider, "/m2m_tokens", MACHINE_KEY).json()["token"]
    assert call(app_for(provider), token).status_code == 200  # CLERK_SECRET_KEY as bearer


def test_api_keys(provider: DevIdP) -> None:
    secret_key = provider.secret_key
    made = post(provider, "/api_keys", secret_key, name="ci", subject="user_alice",
                scopes=["read"], claims={"team": "a"})  # fmt: skip
    assert made.status_code == 200, made.text
    key = made.json()["secret"]
    app = app_for(provider)
    resp = call(app, key)
    assert resp.json == {"token_type": "api_key", "machine_id": None, "user_id": "user_alice",
                         "scopes": ["read"], "claims": {"team": "a"}}  # fmt: skip
    post(provider, f"/api_keys/{made.json()['id']}/revoke", secret_key)
    assert call(app, key).headers["x-clerk-auth-reason"] == "token-invalid"


@pytest.mark.parametrize("token_format", ["opaque", "jwt"])
def test_oauth_tokens(provider: DevIdP, token_format: str) -> None:
    made = post(provider, "/oauth_applications/access_tokens", provider.secret_key,
                user_id="user_bob", scopes=["profile"], token_format=token_format)  # fmt: skip
    assert made.status_code == 200, made.text
    resp = call(app_for(provider), made.json()["token"])
    assert resp.json["token_type"] == "oauth_token"
    assert (resp.json["user_id"], resp.json["scopes"]) == ("user_bob", ["profile"])


def test_expired_tokens_are_not_found(provider: DevIdP) -> None:
    made = post(provider, "/m2m_tokens", MACHINE_KEY, seconds_until_expiration=1)
    token = made.json()["token"]
    machine_tokens(provider).by_token[token].expiration = 1000  # expired in 1970
    resp = post(provider, "/m2m_tokens/verify", MACHINE_KEY, token=token)
    assert resp.status_code == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/m2m_tokens", {}),
        ("/m2m_tokens/verify", {"token": "mt_x"}),
        ("/api_keys", {"name": "x", "subject": "user_alice"}),
        ("/api_keys/verify", {"secret": "ak_x"}),
        ("/oauth_applications/access_tokens/verify", {"access_token": "oat_x"}),
    ],
)
def test_wrong_keys_are_refused(provider: DevIdP, path: str, body: dict[str, Any]) -> None:
    assert post(provider, path, "sk_test_wrong", **body).status_code == 401


def test_creating_m2m_tokens_takes_a_machine_key(provider: DevIdP) -> None:
    assert post(provider, "/m2m_tokens", provider.secret_key).status_code == 401
    assert post(provider, "/api_keys", MACHINE_KEY, name="x", subject="u").status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"seconds_until_expiration": 0},
        {"seconds_until_expiration": True},
        {"claims": ["not", "an", "object"]},
        {"token_format": "paseto"},
    ],
)
def test_bad_m2m_bodies(provider: DevIdP, body: dict[str, Any]) -> None:
    assert post(provider, "/m2m_tokens", MACHINE_KEY, **body).status_code == 422


def test_unknown_ids_and_users(provider: DevIdP) -> None:
    assert post(provider, "/m2m_tokens/mt_nope/revoke", MACHINE_KEY).status_code == 404
    assert post(provider, "/api_keys/ak_nope/revoke", provider.secret_key).status_code == 404
    bad = post(provider, "/oauth_applications/access_tokens", provider.secret_key,
               user_id="user_nobody")  # fmt: skip
    assert bad.status_code == 422


def test_the_example_apps_machine_route(provider: DevIdP) -> None:
    from example_app import create_app
    from example_app.__main__ import banner
    from example_app.__main__ import offline_config

    app = create_app(offline_config(provider))
    token = post(provider, "/m2m_tokens", MACHINE_KEY).json()["token"]
    resp = call_path(app, "/api/machine", token)
    assert (resp.status_code, resp.json["machine_id"]) == (200, "mch_devidp_machine")
    session = call_path(
        app,
        "/api/machine",
        provider.clerk_key.sign({"sub": "user_alice", "iss": provider.config.issuer}),
    )
    assert session.headers["x-clerk-auth-reason"] == "token-type-mismatch"
    assert f"Bearer {MACHINE_KEY}' {provider.config.base_url}/m2m_tokens" in banner(
        provider, "http://127.0.0.1:5000"
    )


def call_path(app: Flask, path: str, token: str) -> Any:
    return app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})


def test_clerks_python_sdk_verifies_the_providers_machine_tokens(provider: DevIdP) -> None:
    """``clerk-backend-api``'s ``verify_token`` (its ``authenticate_request`` cannot be given
    an API URL for machine tokens): it posts ``{"secret": ...}`` to every verify endpoint."""
    from clerk_backend_api.security import verify_token
    from clerk_backend_api.security.types import TokenVerificationError
    from clerk_backend_api.security.types import VerifyTokenOptions

    token = post(provider, "/m2m_tokens", MACHINE_KEY).json()["token"]
    key = post(provider, "/api_keys", provider.secret_key, name="py", subject="user_bob")
    options = VerifyTokenOptions(secret_key=provider.secret_key, api_url=provider.config.base_url)
    assert verify_token(token, options)["subject"] == "mch_devidp_machine"
    assert verify_token(key.json()["secret"], options)["subject"] == "user_bob"
    with pytest.raises(TokenVerificationError):
        verify_token("ak_unknown", options)
