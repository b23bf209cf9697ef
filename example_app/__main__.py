"""``python -m example_app`` (``make demo``): the example app, offline, on the local identity
provider; or on your own Clerk or Auth0 keys when they are in the environment or ``.env``.

Without keys it starts :class:`flask_idguard.devidp.DevIdP` on ``--idp-port`` and configures
the app with the keys it prints: the pages sign in through its sign-in page (Clerk sessions,
the handshake), the JSON API takes its client-credentials tokens (Auth0).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from flask.cli import load_dotenv
from werkzeug.serving import run_simple

from flask_idguard.devidp.bapi_machines import machine_secret_key

from . import create_app

#: Keys that mean "use my own identity provider".
REAL_KEYS = ("CLERK_PUBLISHABLE_KEY", "AUTH0_DOMAIN", "IDGUARD_ISSUER")


def offline_config(idp: Any) -> dict[str, Any]:
    """The app's configuration on the local identity provider: Clerk sessions for pages,
    Auth0 tokens for the API (the users page uses the Clerk Backend API)."""
    env = idp.env()
    keys = [k for k in env if k.startswith("CLERK_")] + ["AUTH0_DOMAIN", "AUTH0_AUDIENCE"]
    return {**{k: env[k] for k in keys}, "EXAMPLE_ACCOUNT_URL": idp.config.base_url + "/account"}


def banner(idp: Any, app_url: str) -> str:
    """What ``make demo`` prints: where to go, who to be, how a machine gets a token."""
    m2m = next(iter(idp.store.m2m_clients.values()))
    lines = [
        f"Open {app_url}/dashboard and sign in as a demo user (offline: the local identity "
        f"provider runs at {idp.config.base_url}), or sign in with Clerk's own JavaScript "
        f"(@clerk/clerk-js, served by the provider) at {app_url}/clerk-js.",
        "Demo users (email / password):",
        *(f"  {u.email} / {u.password}" for u in idp.seed.users),
        "A machine client's token for the JSON API:",
        f"  TOKEN=$(curl -s -d grant_type=client_credentials -d client_id={m2m.client_id} "
        f"-d client_secret={m2m.client_secret} -d audience={idp.config.audience} "
        f"{idp.config.base_url}/oauth/token | python3 -c 'import json,sys; "
        'print(json.load(sys.stdin)["access_token"])\')',
        f'  curl -H "Authorization: Bearer $TOKEN" {app_url}/api/messages',
        "A Clerk machine's M2M token for /api/machine:",
        f"  MT=$(curl -s -X POST -H 'Authorization: Bearer "
        f"{machine_secret_key(m2m.client_secret)}' {idp.config.base_url}/m2m_tokens "
        "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')",
        f'  curl -H "Authorization: Bearer $MT" {app_url}/api/machine',
        "Session tokens live 60 s: reload the dashboard after that to see the handshake.",
        f"{app_url}/synced-users lists the users the provider's webhooks have sent.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--idp-port", type=int, default=8765)
    args = parser.parse_args()
    load_dotenv()  # a .env file, when python-dotenv is installed (it is with make demo)
    app_url = f"http://{args.host}:{args.port}"
    if any(os.environ.get(key) for key in REAL_KEYS):
        print(f"Using the identity provider configured in the environment; open {app_url}/")
        run_simple(args.host, args.port, create_app(), threaded=True)
        return
    from flask_idguard.devidp import DevIdP
    from flask_idguard.devidp import DevIdPConfig
    from flask_idguard.devidp.config import CLERK_JS_FRONTEND_API

    # A development instance named like Clerk's, so that the /clerk-js page's @clerk/clerk-js
    # runs its dev-browser flow; every call still goes to the provider (CLERK_PROXY_URL).
    config = DevIdPConfig(
        base_url=f"http://127.0.0.1:{args.idp_port}",
        frontend_api=CLERK_JS_FRONTEND_API,
        webhook_url=app_url + "/webhooks/clerk",
    )
    idp = DevIdP(config)
    with idp.serve(port=args.idp_port):
        app = create_app(offline_config(idp))
        print(banner(idp, app_url), flush=True)
        run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
