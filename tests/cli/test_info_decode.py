"""``flask idguard info`` and ``flask idguard decode``."""

from __future__ import annotations

import json

import pytest
import requests
from flask import Flask

from flask_idguard.devidp import DevIdP

from .conftest import example_app


def m2m_token(idp: DevIdP) -> str:
    env = idp.env()
    answer = requests.post(
        idp.config.base_url + "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": env["AUTH0_CLIENT_ID"],
            "client_secret": env["AUTH0_CLIENT_SECRET"],
            "audience": env["AUTH0_AUDIENCE"],
        },
        timeout=5,
    )
    token: str = answer.json()["access_token"]
    return token


def test_info_decodes_the_publishable_key_and_masks_secrets(
    idp: DevIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = idp.env()
    monkeypatch.setenv("IDGUARD_CLOCK_SKEW", "7")
    app = example_app(idp)
    result = app.test_cli_runner().invoke(args=["idguard", "info", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    clerk = data["providers"][0]
    assert clerk["name"] == "clerk"
    assert clerk["instance"] == "development"
    assert clerk["frontend_api"] == idp.config.frontend_api
    assert [p["name"] for p in data["providers"]] == ["clerk", "auth0", "oidc"]
    keys = data["keys"]
    assert keys["CLERK_PUBLISHABLE_KEY"] == {
        "value": env["CLERK_PUBLISHABLE_KEY"],
        "source": "config",
    }
    assert keys["IDGUARD_CLOCK_SKEW"] == {"value": "7", "source": "environment"}
    assert keys["IDGUARD_HTTP_TIMEOUT"] == {"value": 5, "source": "default"}
    secret = keys["CLERK_SECRET_KEY"]["value"]
    assert secret == f"sk_test_… ({len(env['CLERK_SECRET_KEY'])} characters, masked)"
    assert env["CLERK_SECRET_KEY"] not in result.output
    assert env["AUTH0_CLIENT_SECRET"] not in result.output


def test_info_as_text(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["idguard", "info"])
    assert result.exit_code == 0, result.output
    assert "instance: development" in result.output
    assert "CLERK_SECRET_KEY" in result.output and "masked" in result.output


def test_decode_shows_claims_and_the_verdict(app: Flask, idp: DevIdP) -> None:
    token = m2m_token(idp)
    result = app.test_cli_runner().invoke(args=["idguard", "decode", token, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["header"]["alg"] == "RS256"
    assert data["claims"]["aud"] == idp.config.audience
    assert data["verdict"]["status"] == "signed-in"
    assert data["verdict"]["provider"] == "auth0"
    assert data["times"]["exp"].endswith("s)")


def test_decode_reads_stdin_and_drops_bearer(app: Flask, idp: DevIdP) -> None:
    token = m2m_token(idp)
    result = app.test_cli_runner().invoke(args=["idguard", "decode"], input=f"Bearer {token}\n")
    assert result.exit_code == 0, result.output
    assert "Claims (not verified):" in result.output
    assert "This app's verdict: signed-in" in result.output


def test_decode_a_tampered_token_gives_the_reason(app: Flask, idp: DevIdP) -> None:
    head, body, sig = m2m_token(idp).split(".")
    tampered = f"{head}.{body}.{sig[:-4]}AAAA"
    result = app.test_cli_runner().invoke(args=["idguard", "decode", tampered, "--json"])
    verdict = json.loads(result.output)["verdict"]
    assert verdict["status"] == "signed-out"
    assert verdict["reason"] == "token-invalid-signature"


def test_decode_garbage_is_not_a_jwt(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["idguard", "decode", "not.a-token"])
    assert result.exit_code == 0
    assert result.output.startswith("Not a JWT: Invalid JWT form.")
    assert "This app's verdict: signed-out" in result.output


def test_decode_without_a_token_is_a_usage_error(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["idguard", "decode"], input="")
    assert result.exit_code == 2
    assert "no token" in result.output


def test_decode_sends_no_signals(app: Flask, idp: DevIdP) -> None:
    from flask_idguard.signals import authentication_failed
    from flask_idguard.signals import request_authenticated

    seen: list[object] = []
    with request_authenticated.connected_to(lambda *a, **k: seen.append(k), app), \
            authentication_failed.connected_to(lambda *a, **k: seen.append(k), app):  # fmt: skip
        app.test_cli_runner().invoke(args=["idguard", "decode", m2m_token(idp)])
        app.test_cli_runner().invoke(args=["idguard", "decode", "a.b.c"])
    assert seen == []


def test_info_shows_a_pem_by_its_first_line(idp: DevIdP) -> None:
    from flask_idguard.testing import TestIssuer

    pem = TestIssuer().public_pem()
    app = example_app(idp, CLERK_JWT_KEY=pem)
    data = json.loads(app.test_cli_runner().invoke(args=["idguard", "info", "--json"]).output)
    assert data["keys"]["CLERK_JWT_KEY"]["value"] == (
        f"-----BEGIN PUBLIC KEY----- … ({len(pem)} characters)"
    )
    assert data["providers"][0]["networkless"] is True
