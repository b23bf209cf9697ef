"""``flask idguard check``: the configuration's surprises, and every endpoint it relies on."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..app_state import IdGuardState
from ..app_state import app_state
from ..protect import misplaced_guards
from ..providers.clerk import ClerkProvider
from ..providers.clerk.instance import accounts_base_url
from ..providers.token import TokenProvider
from .probes import auth0_management_rows
from .probes import clerk_rows
from .probes import token_provider_rows
from .report import Row
from .report import echo_json
from .report import render_table
from .report import rows_json

__all__ = ["check_command", "check_rows"]


def configuration_rows(state: IdGuardState) -> list[Row]:
    """What ``init_app`` accepted but a reader may not expect."""
    names = ", ".join(p.name for p in state.providers)
    rows = [Row("ok", "configuration", f"valid; providers: {names}")]
    clerk = next((p for p in state.providers if isinstance(p, ClerkProvider)), None)
    if clerk is not None and state.sign_in_url is None:
        portal = accounts_base_url(clerk.config.publishable_key.frontend_api)
        rows.append(
            Row(
                "warn",
                "sign-in URL",
                "not set: a signed-out browser opening a protected page gets an empty 401",
                f"set CLERK_SIGN_IN_URL (or IDGUARD_SIGN_IN_URL), e.g. {portal}/sign-in",
            )
        )
    if clerk is not None and not clerk.config.publishable_key.is_production:
        rows.append(
            Row(
                "note",
                "development instance",
                "browsers need the dev browser token (__clerk_db_jwt) from Clerk's JavaScript "
                "or the handshake, or their cookies are not used (dev-browser-missing)",
            )
        )
    for endpoint in misplaced_guards(state.app):
        rows.append(
            Row(
                "fail",
                f"view {endpoint}",
                "NOT protected: its IdGuard decorator is above @app.route",
                "put @app.route (or @bp.route) first, the IdGuard decorators below it",
            )
        )
    return rows


def check_rows() -> list[Row]:
    """Every check, in order: configuration, then each provider's endpoints."""
    state = app_state()
    timeout = state.settings.http_timeout
    rows = configuration_rows(state)
    for provider in state.providers:
        if isinstance(provider, ClerkProvider):
            rows += clerk_rows(provider, timeout)
        elif isinstance(provider, TokenProvider):
            rows += token_provider_rows(provider, timeout)
    from ..clients.auth0 import Auth0ManagementClient  # brings requests: imported when run

    auth0 = state.users_clients.clients.get("auth0")
    if isinstance(auth0, Auth0ManagementClient):
        rows += auth0_management_rows(auth0, current_app.config, timeout)
    return rows


@click.command("check")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
def check_command(as_json: bool) -> None:
    """Check the configuration and reach every endpoint it names (discovery, JWKS, Clerk's
    Backend API with the secret key, Auth0's Management API token).

    Exits with status 1 when something is broken.
    """
    rows = check_rows()
    failed = [r for r in rows if r.status == "fail"]
    if as_json:
        echo_json({"ok": not failed, "checks": rows_json(rows)})
    else:
        click.echo(render_table(rows))
        click.echo(f"\n{len(failed)} problem(s)." if failed else "\nAll checks passed.")
    if failed:
        raise SystemExit(1)
