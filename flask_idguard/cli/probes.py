"""The network checks of ``flask idguard check``: each reaches one endpoint the app relies on
and says, as a :class:`Row`, whether it answered as it must and what to fix otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from ..core.discovery import DiscoveredJWKS
from ..core.jwks import RemoteJWKS
from ..core.keys import StaticKeySet
from ..providers.clerk import ClerkProvider
from ..providers.clerk.backend import SUPPORTED_BAPI_VERSION
from ..providers.token import TokenProvider
from .report import Row

if TYPE_CHECKING:  # imported when a probe or a call runs
    import requests

    from ..clients.auth0 import Auth0ManagementClient


__all__ = ["auth0_management_rows", "clerk_rows", "token_provider_rows"]


def _get(url: str, timeout: float, **kwargs: Any) -> requests.Response | str:
    """The response, or why there is none (a sentence)."""
    import requests

    try:
        return requests.get(url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        return f"unreachable: {type(exc).__name__}"


def _keys_in(response: requests.Response) -> int | None:
    """How many keys a JWKS answer holds, or None when it is not a JWKS."""
    try:
        data = response.json()
    except ValueError:
        return None
    keys = data.get("keys") if isinstance(data, dict) else None
    return len(keys) if isinstance(keys, list) else None


def jwks_row(what: str, url: str, timeout: float, fix: str, **kwargs: Any) -> Row:
    """A JWKS endpoint: reachable, 200, and at least one key."""
    answer = _get(url, timeout, **kwargs)
    if isinstance(answer, str):
        return Row("fail", what, f"{url}: {answer}", fix)
    if answer.status_code != 200:
        return Row("fail", what, f"{url}: HTTP {answer.status_code}", fix)
    count = _keys_in(answer)
    if not count:
        return Row("fail", what, f"{url}: not a JWKS with keys", fix)
    return Row("ok", what, f"{url}: {count} key(s)")


def clerk_rows(provider: ClerkProvider, timeout: float) -> list[Row]:
    """Clerk: the Backend API with the secret key (its JWKS), and the frontend API."""
    config = provider.config
    rows = []
    if config.jwt_key is not None:
        rows.append(Row("ok", "clerk keys", "CLERK_JWT_KEY: networkless verification"))
    url = f"{config.api_url}/{config.api_version}/jwks"
    answer = _get(
        url,
        timeout,
        headers={
            "Authorization": f"Bearer {config.secret_key}",
            "Clerk-API-Version": SUPPORTED_BAPI_VERSION,
        },
    )
    what = "clerk Backend API"
    if isinstance(answer, str):
        rows.append(Row("fail", what, f"{url}: {answer}", "check CLERK_API_URL and the network"))
    elif answer.status_code in (401, 403):
        rows.append(
            Row(
                "fail",
                what,
                f"{url}: HTTP {answer.status_code}, the secret key is refused",
                "set CLERK_SECRET_KEY to the secret key of the instance CLERK_PUBLISHABLE_KEY "
                "names (Clerk dashboard, API keys)",
            )
        )
    elif answer.status_code != 200 or not _keys_in(answer):
        rows.append(Row("fail", what, f"{url}: HTTP {answer.status_code}, not a JWKS"))
    else:
        rows.append(Row("ok", what, f"{url}: secret key accepted, {_keys_in(answer)} key(s)"))
    fapi = config.proxy_url or provider.config.publishable_key.frontend_api
    if fapi.startswith("/"):
        rows.append(Row("note", "clerk frontend API", f"proxy {fapi}: served by this app"))
        return rows
    base = fapi if fapi.startswith("http") else "https://" + fapi
    rows.append(
        jwks_row(
            "clerk frontend API",
            base.rstrip("/") + "/.well-known/jwks.json",
            timeout,
            "browsers sign in and run the handshake here: check CLERK_PROXY_URL, or the "
            "publishable key's instance",
        )
    )
    return rows


def _discovery_rows(name: str, source: DiscoveredJWKS, timeout: float) -> list[Row]:
    """OIDC discovery: the document, its ``issuer``, then the JWKS it names."""
    issuer = source.issuer
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    what = f"{name} discovery"
    fix = f"check the {name} issuer's domain, and that it is running"
    answer = _get(url, timeout)
    if isinstance(answer, str):
        return [Row("fail", what, f"{url}: {answer}", fix)]
    try:
        document = answer.json() if answer.status_code == 200 else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return [Row("fail", what, f"{url}: HTTP {answer.status_code}, no JSON document", fix)]
    if document.get("issuer") != issuer:
        return [
            Row(
                "fail",
                what,
                f"{url}: the document names issuer {document.get('issuer')!r}, not {issuer!r}",
                "configure the issuer exactly as the identity provider names it",
            )
        ]
    rows = [Row("ok", what, f"{url}: issuer {issuer}")]
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        return rows + [Row("fail", f"{name} JWKS", "the discovery document has no jwks_uri")]
    return rows + [jwks_row(f"{name} JWKS", jwks_uri, timeout, fix)]


def token_provider_rows(provider: TokenProvider, timeout: float) -> list[Row]:
    """An Auth0 or OIDC provider: discovery and JWKS, a JWKS URL, or static keys."""
    name = provider.name
    if provider.router is not None:
        rows = [
            Row("note", f"{name} issuers", f"{i}: keys found by discovery per request")
            for i in sorted(provider.static_issuers)
        ]
        if provider.router.issuers.resolver:
            rows.append(Row("note", f"{name} issuers", "a resolver: checked per request"))
        return rows
    keys = provider.keys
    if isinstance(keys, DiscoveredJWKS):
        return _discovery_rows(name, keys, timeout)
    if isinstance(keys, RemoteJWKS):
        return [jwks_row(f"{name} JWKS", keys.url, timeout, f"check the {name} JWKS URL")]
    if isinstance(keys, StaticKeySet):
        return [Row("ok", f"{name} keys", "static public keys: no network")]
    return [Row("note", f"{name} keys", f"{type(keys).__name__}: not checked")]


def auth0_management_rows(
    client: Auth0ManagementClient, config: Mapping[str, Any], timeout: float
) -> list[Row]:
    """The Management API token by client credentials (as ``idguard.users`` gets it)."""
    import requests

    what = "auth0 Management API token"
    client_id, client_secret = config.get("AUTH0_CLIENT_ID"), config.get("AUTH0_CLIENT_SECRET")
    if not client_id or not client_secret:
        return [Row("note", what, "AUTH0_MANAGEMENT_TOKEN given: used as is")]
    url = client.token_url
    try:
        answer = requests.post(
            url,
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
                "audience": client.audience,
            },
            timeout=timeout,
        )
    except requests.RequestException as exc:
        return [
            Row(
                "fail",
                what,
                f"{url}: unreachable: {type(exc).__name__}",
                "check AUTH0_DOMAIN (or AUTH0_MANAGEMENT_API_URL) and the network",
            )
        ]
    if answer.status_code != 200:
        return [
            Row(
                "fail",
                what,
                f"{url}: HTTP {answer.status_code}",
                "check AUTH0_CLIENT_ID/AUTH0_CLIENT_SECRET and that the application is "
                "authorized for the Management API",
            )
        ]
    return [Row("ok", what, f"{url}: token obtained")]
