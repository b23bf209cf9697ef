"""``flask idguard token``: a token from the local identity provider, for curl and scripts.

It talks to the provider over HTTP with its secret key (the library never imports
``flask_idguard.devidp``): a Clerk session token through Clerk's own Backend API calls
(``POST /v1/sessions``, ``POST /v1/sessions/{id}/tokens``), or an access token through the
provider's ``POST /v1/devidp/access_tokens``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from joserfc.jwk import import_key

from ..core.urls import is_loopback
from .report import echo_json

if TYPE_CHECKING:  # imported when a probe or a call runs
    import requests


__all__ = ["token_command"]


class IdPCall:
    """Calls to the identity provider's Backend API with its secret key."""

    def __init__(self, base_url: str, secret_key: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {secret_key}"}
        self.timeout = timeout

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        import requests

        url = f"{self.base_url}/v1{path}"
        try:
            answer = requests.request(
                method, url, headers=self.headers, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise click.ClickException(
                f"{url}: unreachable ({type(exc).__name__}); is the local identity provider "
                "running (python -m flask_idguard.devidp)?"
            ) from None
        if answer.status_code != 200:
            raise click.ClickException(f"{url}: HTTP {answer.status_code}: {_error(answer)}")
        return answer.json()


def _error(answer: requests.Response) -> str:
    try:
        errors = answer.json().get("errors") or [{}]
        return str(errors[0].get("long_message") or errors[0].get("message"))
    except (ValueError, AttributeError, IndexError, TypeError):
        return answer.text[:200]


def _user_id(call: IdPCall, user: str) -> str:
    """A user id as given, or the id of the user with that email address."""
    if "@" not in user:
        return user
    found = call("GET", "/users", params={"email_address": user})
    if not isinstance(found, list) or not found:
        raise click.ClickException(f"no user with the email address {user!r}")
    return str(found[0]["id"])


def session_token(call: IdPCall, user: str, org: str | None, lifetime: int | None) -> Any:
    """A Clerk session token for ``user`` (id or email), ``org`` active when given."""
    body: dict[str, Any] = {"user_id": _user_id(call, user)}
    if org is not None:
        body["active_organization"] = org
    session = call("POST", "/sessions", json=body)
    extra = {"expires_in_seconds": lifetime} if lifetime else {}
    token = call("POST", f"/sessions/{session['id']}/tokens", json=extra)
    return {"token": token["jwt"], "session_id": session["id"], "user_id": session["user_id"]}


def _jkt(dpop_jwk: Path | None, dpop_jkt: str | None) -> str | None:
    if dpop_jwk is None:
        return dpop_jkt
    try:
        key = import_key(json.loads(dpop_jwk.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise click.BadParameter(f"not a JWK: {exc}", param_hint="--dpop-jwk") from None
    return str(key.thumbprint())


def _local_api_url(api_url: object) -> str:
    """``CLERK_API_URL`` when it is a loopback URL (the local identity provider).

    Anything else may be Clerk's real Backend API, where creating sessions is not a thing
    a token command should do unasked: ``--idp`` names the provider explicitly.
    """
    host = urlsplit(api_url).hostname if isinstance(api_url, str) else None
    if host is None or not is_loopback(host):
        raise click.UsageError(
            "CLERK_API_URL is not the local identity provider (a loopback URL); pass --idp "
            "with its URL (python -m flask_idguard.devidp prints it)"
        )
    assert isinstance(api_url, str)
    return api_url


def _secret_key(secret_key: str | None) -> str:
    value = secret_key or current_app.config.get("CLERK_SECRET_KEY")
    if not value:
        raise click.UsageError(
            "the local identity provider's secret key is needed: set CLERK_SECRET_KEY (the "
            "value it prints) or pass --secret-key"
        )
    return str(value)


@click.command("token")
@click.option("--user", help="Clerk session token for this user (id or email address).")
@click.option("--org", help="With --user: the active organization (id or slug; '' for none).")
@click.option("--access", "issuer", type=click.Choice(["auth0", "oidc"]), help="Access token.")
@click.option("--sub", default="devidp-cli", show_default=True, help="Access token subject.")
@click.option("--scope", "scopes", multiple=True, help="Access token scope (repeat).")
@click.option("--permission", "permissions", multiple=True, help="Permission (repeat).")
@click.option("--audience", help="Access token audience (default: the provider's API).")
@click.option("--dpop-jwk", type=click.Path(path_type=Path, dir_okay=False), help="Bind to key.")
@click.option("--dpop-jkt", help="Bind the access token to this JWK thumbprint (cnf.jkt).")
@click.option("--lifetime", type=click.IntRange(1), help="Seconds the token is valid.")
@click.option("--idp", "idp_url", help="The provider's URL (default: CLERK_API_URL).")
@click.option("--secret-key", help="The provider's secret key (default: CLERK_SECRET_KEY).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
@with_appcontext
def token_command(**options: Any) -> None:
    """Mint a token from the local identity provider (python -m flask_idguard.devidp).

    --user: a Clerk session token, as the browser would carry. --access auth0|oidc: an
    access token with --scope/--permission, DPoP-bound with --dpop-jwk or --dpop-jkt.
    Prints the token alone (TOKEN=$(flask idguard token ...)), or JSON with --json.
    """
    base = options["idp_url"] or _local_api_url(current_app.config.get("CLERK_API_URL"))
    call = IdPCall(base, _secret_key(options["secret_key"]), 10.0)
    if options["user"] and options["issuer"]:
        raise click.UsageError("--user (session token) and --access (access token) exclude")
    if options["user"]:
        result = session_token(call, options["user"], options["org"], options["lifetime"])
    elif options["issuer"]:
        result = _access_token(call, options)
    else:
        raise click.UsageError("say which token: --user USER or --access auth0|oidc")
    if options["as_json"]:
        echo_json(result)
    else:
        click.echo(result["token"])


def _access_token(call: IdPCall, options: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "issuer": options["issuer"],
        "sub": options["sub"],
        "scope": list(options["scopes"]),
        "permissions": list(options["permissions"]),
    }
    if options["audience"]:
        body["audience"] = options["audience"]
    jkt = _jkt(options["dpop_jwk"], options["dpop_jkt"])
    if jkt is not None:
        body["jkt"] = jkt
    if options["lifetime"]:
        body["expires_in_seconds"] = options["lifetime"]
    answer = call("POST", "/devidp/access_tokens", json=body)
    return {"token": answer["access_token"], "token_type": answer["token_type"], "jkt": jkt}
