"""The Clerk testing toolkit as a user's test suite uses it: ``idguard_clerk``,
``ClerkTestInstance``, ``TestIssuer.authorized`` and the ``idguard_devidp`` fixture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask

from flask_idguard.devidp import DevIdP
from flask_idguard.testing import ClerkTestInstance
from flask_idguard.testing import TestIssuer

from .conftest import organization_app

PAGE = {"Sec-Fetch-Dest": "document", "Accept": "text/html"}


def make_app(config: dict[str, Any]) -> Flask:
    return organization_app(config)


@pytest.mark.parametrize("instance", ["production", "development"])
@pytest.mark.parametrize("claims", ["v2", "v1"])
def test_a_test_client_signed_in_as_an_organization_admin(
    idguard_clerk_factory: Callable[..., ClerkTestInstance], instance: str, claims: str
) -> None:
    clerk = idguard_clerk_factory(instance, org_claims=claims)
    app = make_app(clerk.config())
    client = clerk.signed_in(
        app.test_client(),
        "user_1",
        org_id="org_1",
        org_role="org:admin",
        org_permissions=["org:billing:manage", "org:reports:read"],
    )
    r = client.get("/dashboard", headers=PAGE)
    assert r.status_code == 200, r.headers.get("x-clerk-auth-reason")
    assert r.json == {
        "user_id": "user_1",
        "org_id": "org_1",
        "org_role": "org:admin",
        "permissions": ["org:billing:manage", "org:reports:read"],
    }
    assert client.get("/billing", headers=PAGE).status_code == 200


def test_a_member_without_the_permission_gets_403(idguard_clerk: ClerkTestInstance) -> None:
    app = make_app(idguard_clerk.config())
    client = idguard_clerk.signed_in(app.test_client(), org_id="org_1", org_role="org:member")
    assert client.get("/billing").status_code == 403


def test_signed_out_and_expired_sessions(idguard_clerk: ClerkTestInstance) -> None:
    app = make_app(idguard_clerk.config(CLERK_SIGN_IN_URL="https://accounts.app.test/sign-in"))
    signed_out = idguard_clerk.signed_out(app.test_client())
    r = signed_out.get("/dashboard", headers=PAGE)
    assert r.status_code == 302
    assert r.headers["Location"].startswith("https://accounts.app.test/sign-in?redirect_url=")
    expired = idguard_clerk.signed_in(app.test_client(), expires_in=-120)
    r = expired.get("/dashboard", headers=PAGE)
    assert r.status_code == 307
    assert r.headers["Location"].startswith("https://clerk.app.test/v1/client/handshake?")
    assert expired.get("/dashboard").status_code == 401  # an API call is not redirected


def test_a_handshake_result_signs_the_browser_in() -> None:
    clerk = ClerkTestInstance("development")
    app = make_app(clerk.config())
    token = clerk.handshake_token(clerk.handshake_directives(user_id="user_2"))
    client = app.test_client()
    r = client.get(f"/dashboard?__clerk_handshake={token}", headers=PAGE)
    assert r.status_code == 307 and r.headers["Location"] == "http://localhost/dashboard"
    assert client.get("/dashboard", headers=PAGE).json["user_id"] == "user_2"  # type: ignore[index]


def test_a_bearer_token_client(idguard_issuer: TestIssuer) -> None:
    app = make_app({"IDGUARD_ISSUER": idguard_issuer.issuer,
                    "IDGUARD_AUDIENCE": idguard_issuer.audience})  # fmt: skip
    client = idguard_issuer.authorized(app.test_client(), {"sub": "machine_1"})
    assert client.get("/dashboard").json["user_id"] == "machine_1"  # type: ignore[index]


def test_the_local_identity_provider_fixture(idguard_devidp: DevIdP) -> None:
    env = idguard_devidp.env()
    assert env["CLERK_PROXY_URL"] == idguard_devidp.config.frontend_api_url
    r = requests.get(env["CLERK_SIGN_IN_URL"], timeout=10)
    assert r.status_code == 200 and "alice@example.test" in r.text
