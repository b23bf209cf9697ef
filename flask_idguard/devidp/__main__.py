"""``python -m flask_idguard.devidp``: serve the local identity provider on loopback.

Prints the lines to paste into an app's ``.env`` and the demo users, then serves until
interrupted. ``--help`` lists the options.
"""

from __future__ import annotations

import sys

import click
from werkzeug.serving import run_simple

from ..core.urls import is_loopback
from .config import CLERK_JS_FRONTEND_API
from .config import DevIdPConfig
from .seed import Seed
from .seed import SeedError
from .server import DevIdP

__all__ = ["main"]


def banner(idp: DevIdP) -> str:
    """What the command prints: the ``.env`` lines, then the demo users."""
    lines = [
        f"# flask-idguard local identity provider ({idp.config.instance} instance), for "
        "development only.",
        "# Paste into your app's .env:",
        *(f"{key}={value}" for key, value in idp.env().items()),
        "",
        "# Demo users (sign in at " + idp.config.base_url + "/sign-in), email / password:",
    ]
    for user in idp.seed.users:
        orgs = ", ".join(f"{o.slug} ({role})" for o, role in idp.store.memberships(user.id))
        lines.append(f"#   {user.email} / {user.password}  {user.id}  {orgs or 'no organization'}")
    return "\n".join(lines)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--seed", type=click.Path(exists=True, dir_okay=False), help="A seed JSON file.")
@click.option(
    "--state",
    type=click.Path(dir_okay=False),
    help="Keep keys and users across restarts in this file.",
)
@click.option(
    "--instance",
    type=click.Choice(["development", "production"]),
    default="development",
    show_default=True,
    help="pk_test_ (dev browser, handshake token in the URL) or pk_live_ (nonce in a cookie).",
)
@click.option("--token-lifetime", default=60, show_default=True, type=click.IntRange(1))
@click.option("--org-claims", type=click.Choice(["v2", "v1"]), default="v2", show_default=True)
@click.option(
    "--public-url", help="The URL apps and browsers use, if not http://HOST:PORT (a proxy)."
)
@click.option("--webhook-url", help="Send Clerk's webhooks (user.created...) to this URL.")
@click.option(
    "--frontend-api",
    default=DevIdPConfig.frontend_api,
    show_default=True,
    help="The frontend API host the publishable key names. For @clerk/clerk-js on a "
    f"development instance use one under .accounts.dev, e.g. {CLERK_JS_FRONTEND_API} "
    "(nothing is sent there: calls go to CLERK_PROXY_URL).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a non-loopback --host. Anyone who reaches it can sign in as any demo user.",
)
def main(
    host: str,
    port: int,
    seed: str | None,
    state: str | None,
    instance: str,
    token_lifetime: int,
    org_claims: str,
    public_url: str | None,
    frontend_api: str,
    allow_remote: bool,
    webhook_url: str | None,
) -> None:
    """Serve a local Clerk instance, Auth0 tenant and OIDC issuer for development."""
    if not is_loopback(host.strip("[]")) and not allow_remote:
        raise click.UsageError(
            f"{host} is not a loopback address: anyone who reaches it could sign in as any "
            "demo user. Pass --allow-remote if that is what you want."
        )
    if not is_loopback(host.strip("[]")):
        click.secho(f"Warning: serving on {host}, reachable from other machines.", fg="yellow")
    name = f"[{host}]" if ":" in host else host
    try:
        config = DevIdPConfig(
            base_url=public_url or f"http://{name}:{port}",
            instance=instance,  # type: ignore[arg-type]
            token_lifetime=token_lifetime,
            org_claims=org_claims,  # type: ignore[arg-type]
            webhook_url=webhook_url,
            frontend_api=frontend_api,
        )
        idp = DevIdP(config, seed=Seed.load(seed) if seed else None, state_file=state)
    except (SeedError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(banner(idp))
    sys.stdout.flush()
    run_simple(host, port, idp.app, threaded=True)


if __name__ == "__main__":  # pragma: no cover
    main()
