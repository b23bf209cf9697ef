"""``flask idguard decode``: a token's header and claims, unverified, and the verdict this app
gives it (status, reason, message) as if it came in an ``Authorization`` header."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from ..app_state import app_state
from ..core.jwt import TokenError
from ..core.jwt import decode_unverified
from .report import echo_json

__all__ = ["decode_command", "decode_data"]

_TIMES = ("exp", "iat", "nbf", "auth_time")


def _times(claims: dict[str, Any], now: float) -> dict[str, str]:
    """``exp``/``iat``/``nbf`` as UTC times, relative to now."""
    shown = {}
    for name in _TIMES:
        value = claims.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value))
            except (OverflowError, OSError, ValueError):
                continue
            delta = int(value - now)
            when = f"in {delta} s" if delta >= 0 else f"{-delta} s ago"
            shown[name] = f"{stamp} ({when})"
    return shown


def verdict(token: str) -> dict[str, Any]:
    """What this app decides for ``Authorization: Bearer <token>`` (nothing else sent).

    The providers are asked directly, without the signals ``auth_state`` sends: a dry run
    must not reach the app's audit receivers as a real sign-in.
    """
    with current_app.test_request_context(
        "/", headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    ):
        state = app_state()._ask_providers()
    return {
        "status": state.status,
        "reason": state.reason,
        "message": state.message,
        "provider": state.provider,
        "user_id": state.user_id,
    }


def decode_data(token: str) -> dict[str, Any]:
    """Header, claims (untrusted), times, and this app's verdict."""
    data: dict[str, Any] = {}
    try:
        parsed = decode_unverified(token)
    except TokenError as exc:
        data["error"] = {"reason": exc.reason, "message": exc.message}
    else:
        data["header"] = parsed.header
        data["claims"] = parsed.claims
        data["times"] = _times(parsed.claims, time.time())
    data["verdict"] = verdict(token)
    return data


def _read_token(token: str | None) -> str:
    text = sys.stdin.read() if token is None or token == "-" else token
    text = text.strip()
    for scheme in ("Bearer ", "bearer ", "DPoP "):
        text = text.removeprefix(scheme)
    if not text:
        raise click.UsageError("no token: give it as an argument or on standard input")
    return text


@click.command("decode")
@with_appcontext
@click.argument("token", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
def decode_command(token: str | None, as_json: bool) -> None:
    """Show TOKEN's header and claims (NOT verified) and the verdict this app gives it.

    TOKEN may be omitted or '-' to read it from standard input; a leading 'Bearer ' is
    dropped. The verdict is computed as for a request carrying only this token in its
    Authorization header.
    """
    data = decode_data(_read_token(token))
    if as_json:
        echo_json(data)
        return
    lines = []
    if "error" in data:
        lines.append(f"Not a JWT: {data['error']['message']} ({data['error']['reason']})")
    else:
        lines.append("Header (not verified):")
        lines.append(json.dumps(data["header"], indent=2, sort_keys=True, default=str))
        lines.append("Claims (not verified):")
        lines.append(json.dumps(data["claims"], indent=2, sort_keys=True, default=str))
        lines += [f"  {name}: {when}" for name, when in data["times"].items()]
    v = data["verdict"]
    lines.append(f"This app's verdict: {v['status']}")
    if v["status"] == "signed-in":
        lines.append(f"  provider: {v['provider']}, user_id: {v['user_id']}")
    else:
        lines.append(f"  reason: {v['reason']}")
        lines.append(f"  message: {v['message']}")
    click.echo("\n".join(lines))
