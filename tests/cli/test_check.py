"""``flask idguard check`` against the local identity provider, running and stopped."""

from __future__ import annotations

import json
import re

from flask import Flask

from example_app import create_app
from flask_idguard.devidp import DevIdP

from ..docs_quotes import quoted_in
from .conftest import example_app


def test_check_against_the_running_identity_provider_is_all_green(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["idguard", "check"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    for what in (
        "clerk Backend API",
        "clerk frontend API",
        "auth0 discovery",
        "auth0 JWKS",
        "auth0 Management API token",
        "oidc discovery",
        "oidc JWKS",
    ):
        assert any(line.startswith("ok") and what in line for line in result.output.splitlines())
    assert result.output.rstrip().endswith("All checks passed.")


def test_check_against_a_stopped_identity_provider_names_what_is_unreachable() -> None:
    with DevIdP().serve() as idp:
        app = create_app(idp.env())
    result = app.test_cli_runner().invoke(args=["idguard", "check"])
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 5, result.output
    assert all("unreachable: ConnectionError" in line for line in failed)
    assert "fix: check CLERK_API_URL and the network" in result.output
    assert result.output.rstrip().endswith("5 problem(s).")
    # docs/cli.rst shows this output: every row's check, finding and fix is quoted there.
    for line in result.output.splitlines():
        quoted = line.strip()
        if quoted.startswith(("FAIL", "note", "ok")):
            quoted = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:8799", quoted)
            quoted = quoted.split(None, 1)[1]
        assert quoted_in("cli.rst", quoted), quoted


def test_check_json_for_scripts(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["idguard", "check", "--json"])
    data = json.loads(result.output)
    assert data["ok"] is True
    assert {c["status"] for c in data["checks"]} <= {"ok", "note", "warn"}
    assert all(set(c) == {"status", "what", "detail", "fix"} for c in data["checks"])


def test_a_refused_secret_key_is_named_with_its_fix(idp: DevIdP) -> None:
    prefix = idp.secret_key[:8]
    app = example_app(idp, CLERK_SECRET_KEY=prefix + "wrong")
    result = app.test_cli_runner().invoke(args=["idguard", "check", "--json"])
    assert result.exit_code == 1
    [row] = [c for c in json.loads(result.output)["checks"] if c["status"] == "fail"]
    assert row["what"] == "clerk Backend API"
    assert "HTTP 401, the secret key is refused" in row["detail"]
    assert row["fix"].startswith("set CLERK_SECRET_KEY to the secret key of the instance")


def test_wrong_management_credentials_fail_the_token_row(idp: DevIdP) -> None:
    app = example_app(idp, AUTH0_CLIENT_SECRET="not-the-secret")
    result = app.test_cli_runner().invoke(args=["idguard", "check", "--json"])
    assert result.exit_code == 1
    [row] = [c for c in json.loads(result.output)["checks"] if c["status"] == "fail"]
    assert row["what"] == "auth0 Management API token"


def test_no_sign_in_url_is_a_warning_with_the_account_portal(idp: DevIdP) -> None:
    app = example_app(idp, CLERK_SIGN_IN_URL=None)
    result = app.test_cli_runner().invoke(args=["idguard", "check", "--json"])
    assert result.exit_code == 0
    [row] = [c for c in json.loads(result.output)["checks"] if c["status"] == "warn"]
    assert row["what"] == "sign-in URL"
    assert "empty 401" in row["detail"]
    assert row["fix"].startswith("set CLERK_SIGN_IN_URL (or IDGUARD_SIGN_IN_URL), e.g. https://")


def test_a_decorator_above_the_route_fails_the_check(app: Flask) -> None:
    from flask_idguard import requires_auth

    @requires_auth
    @app.get("/leaky")
    def leaky() -> str:
        return "secret"

    assert app.test_client().get("/leaky").data == b"secret"  # what the check reports
    result = app.test_cli_runner().invoke(args=["idguard", "check"])
    assert result.exit_code == 1
    assert "view leaky" in result.output
    assert "NOT protected: its IdGuard decorator is above @app.route" in result.output
