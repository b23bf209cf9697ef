"""``flask idguard info``: the publishable key decoded, the providers, every key's effective
value and where it came from (secrets masked)."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from ..app_state import app_state
from ..config import SOURCES_KEY
from ..providers.clerk import ClerkProvider
from ..providers.clerk.instance import accounts_base_url
from ..providers.token import TokenProvider
from .report import echo_json
from .report import shown_value

__all__ = ["info_command", "info_data"]


def info_data() -> dict[str, Any]:
    """What ``info`` prints, as data (``--json``)."""
    state = app_state()
    providers: list[dict[str, Any]] = []
    for provider in state.providers:
        entry: dict[str, Any] = {"name": provider.name}
        if isinstance(provider, ClerkProvider):
            config = provider.config
            pk = config.publishable_key
            entry.update(
                instance=pk.instance_type,
                frontend_api=pk.frontend_api,
                proxy_url=config.proxy_url,
                account_portal=accounts_base_url(pk.frontend_api),
                backend_api=f"{config.api_url}/{config.api_version}",
                networkless=config.jwt_key is not None,
                cookie_suffix=provider.suffix,
            )
        elif isinstance(provider, TokenProvider):
            entry["issuers"] = sorted(provider.static_issuers)
            entry["audience"] = sorted(provider.policy.audience or ())
        providers.append(entry)
    sources = current_app.extensions.get(SOURCES_KEY, {})
    keys = {
        key: {"value": shown_value(key, current_app.config.get(key)), "source": source}
        for key, source in sorted(sources.items())
        if not (source == "default" and current_app.config.get(key) is None)
    }
    return {
        "providers": providers,
        "sign_in_url": state.sign_in_url,
        "users_api": sorted(state.users_clients.clients),
        "keys": keys,
    }


def _provider_lines(entry: dict[str, Any]) -> list[str]:
    lines = [f"  {entry['name']}"]
    lines += [f"    {k}: {v}" for k, v in entry.items() if k != "name" and v not in (None, "")]
    return lines


@click.command("info")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
def info_command(as_json: bool) -> None:
    """What IdGuard uses: the providers, the publishable key decoded, and every
    configuration key's effective value and where it came from (secrets masked)."""
    data = info_data()
    if as_json:
        echo_json(data)
        return
    lines = ["Providers (in the order they are asked):"]
    for entry in data["providers"]:
        lines += _provider_lines(entry)
    lines.append(f"Sign-in URL for pages: {data['sign_in_url'] or '(none: pages get a 401)'}")
    lines.append(f"Users API: {', '.join(data['users_api']) or '(none)'}")
    lines.append("Configuration (value, from):")
    width = max((len(k) for k in data["keys"]), default=0)
    for key, item in data["keys"].items():
        lines.append(f"  {key.ljust(width)}  {item['value']}  ({item['source']})")
    click.echo("\n".join(lines))
