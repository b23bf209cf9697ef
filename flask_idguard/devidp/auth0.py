"""The Auth0 tenant and the OIDC issuer: discovery, client credentials (DPoP-bound on
request) and the Management API's users.

Two issuers share one mechanism: the Auth0 tenant at the base URL (issuer
``config.auth0_issuer``, with Auth0's trailing slash) and a generic OIDC issuer under
``/oidc`` (issuer ``config.oidc_issuer``). Both sign with the tenant key; the JWKS at
``/.well-known/jwks.json`` lists it. The OIDC issuer's tokens are RFC 9068 access tokens
(``typ: at+jwt``, ``client_id``, ``jti``); the tenant's look like Auth0's (``gty``,
``permissions``). The Management API (audience ``auth0_issuer + "api/v2/"``) is the
tenant's only: every seeded machine client is granted :data:`MANAGEMENT_SCOPES` on it;
:func:`management_token` checks its tokens, its users endpoints are in :mod:`.auth0_users`.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import TYPE_CHECKING
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from ..core.dpop import DEFAULT_ALGORITHMS
from ..core.dpop import DPoPError
from ..core.dpop import DPoPPolicy
from ..core.dpop import InProcessReplayCache
from ..core.jwt import Policy
from ..core.jwt import TokenError
from ..core.jwt import verify
from ..core.keys import StaticKeySet
from .users_json import request_object
from .web import current_idp

if TYPE_CHECKING:
    from .seed import M2MClientSeed

__all__ = [
    "MANAGEMENT_SCOPES",
    "TOKEN_LIFETIME",
    "auth0",
    "management_audience",
    "management_error",
    "management_token",
    "oauth_error",
]

auth0 = Blueprint("auth0", __name__)

#: Seconds a client-credentials token lives (Auth0's default for an API).
TOKEN_LIFETIME = 86400
#: The Management API scopes every seeded machine client is granted.
MANAGEMENT_SCOPES = (
    "read:users",
    "create:users",
    "update:users",
    "delete:users",
    "update:users_app_metadata",
)
#: The issuers, by the name their routes carry.
_ISSUERS = {"auth0": "", "oidc": "/oidc"}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _issuer(which: str) -> str:
    config = current_idp().config
    return config.auth0_issuer if which == "auth0" else config.oidc_issuer


def management_audience() -> str:
    return current_idp().config.auth0_issuer + "api/v2/"


def _replay_cache() -> InProcessReplayCache:
    """The ``jti``s of DPoP proofs seen by this app (one cache per provider)."""
    cache = current_app.extensions.setdefault("devidp.dpop_jti", InProcessReplayCache(10_000))
    assert isinstance(cache, InProcessReplayCache)
    return cache


def oauth_error(status: int, error: str, description: str) -> Response:
    """Auth0's OAuth error: ``{"error": ..., "error_description": ...}``."""
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers.update(_NO_STORE)
    return response


# -- discovery ------------------------------------------------------------------------------


def discovery(which: str) -> Response:
    """The issuer's OpenID Connect discovery document."""
    base = current_idp().config.base_url
    return jsonify(
        issuer=_issuer(which),
        jwks_uri=base + "/.well-known/jwks.json",
        token_endpoint=base + _ISSUERS[which] + "/oauth/token",
        grant_types_supported=["client_credentials"],
        token_endpoint_auth_methods_supported=["client_secret_post", "client_secret_basic"],
        response_types_supported=["token"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["RS256"],
        dpop_signing_alg_values_supported=list(DEFAULT_ALGORITHMS),
    )


@auth0.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The tenant's public key (both issuers' tokens are signed with it)."""
    response = jsonify(keys=[current_idp().auth0_key.public_jwk()])
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# -- client credentials ---------------------------------------------------------------------


def _client(fields: dict[str, str]) -> M2MClientSeed | Response:
    """The machine client authenticated by ``client_secret_post`` or ``_basic``."""
    basic = request.authorization
    if basic is not None and basic.type == "basic":
        if "client_secret" in fields:
            return oauth_error(400, "invalid_request", "Use one client authentication method.")
        fields = {
            **fields,
            "client_id": basic.username or "",
            "client_secret": basic.password or "",
        }
    if "client_assertion" in fields:
        return oauth_error(400, "invalid_request", "Client assertions are not supported here.")
    client = current_idp().store.m2m_clients.get(fields.get("client_id", ""))
    secret = fields.get("client_secret", "")
    if client is None or not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
        return oauth_error(401, "access_denied", "Unauthorized")
    return client


def _grant(
    which: str, client: M2MClientSeed, fields: dict[str, str]
) -> Response | tuple[str, list[str]]:
    """The audience and the scopes the client gets, or Auth0's refusal."""
    config = current_idp().config
    audience = fields.get("audience") or config.audience
    if audience == config.audience:
        granted = list(client.scopes)
    elif audience == management_audience() and which == "auth0":
        granted = list(MANAGEMENT_SCOPES)
    else:
        return oauth_error(403, "access_denied", f"Service not found: {audience[:200]}")
    wanted = fields.get("scope", "").split()
    missing = [s for s in wanted if s not in granted]
    if missing:
        return oauth_error(
            403, "access_denied", f"Client has not been granted scopes: {' '.join(missing)[:200]}"
        )
    return audience, (wanted or granted)


def _proof_thumbprint(which: str) -> str | None:
    """The key thumbprint of the request's DPoP proof (RFC 9449 §4.3, §5): one proof for
    this token endpoint (``htm`` POST, ``htu``), fresh ``iat``, unseen ``jti``; None without
    one. :raises DPoPError: for a proof that fails."""
    proofs = request.headers.getlist("DPoP")
    if not proofs:
        return None
    url = current_idp().config.base_url + _ISSUERS[which] + "/oauth/token"
    policy = DPoPPolicy(replay_check=_replay_cache().add)
    return policy.verify_proof(proofs, token=None, jkt=None, method="POST", url=url)


def _access_token(
    which: str, client: M2MClientSeed, audience: str, scopes: list[str], jkt: str | None
) -> str:
    idp = current_idp()
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": _issuer(which),
        "sub": f"{client.client_id}@clients",
        "aud": audience,
        "iat": now,
        "exp": now + TOKEN_LIFETIME,
        "scope": " ".join(scopes),
        "azp": client.client_id,
        "gty": "client-credentials",
    }
    if audience != management_audience():
        claims["permissions"] = list(client.permissions)
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
    if which == "oidc":
        claims.update(client_id=client.client_id, jti=secrets.token_hex(16))
        return idp.auth0_key.sign(claims, typ="at+jwt")
    return idp.auth0_key.sign(claims)


def token(which: str) -> Response:
    """``POST /oauth/token``, ``grant_type=client_credentials`` (form or JSON): an access
    token for ``audience`` (the tenant's API or, on the tenant, its Management API); with a
    ``DPoP`` proof, bound to its key (``cnf.jkt``, ``token_type: DPoP``)."""
    body = request_object()
    fields = {k: v for k, v in (body or {}).items() if v is not None}  # null: not given
    if body is None or not all(isinstance(v, str) for v in fields.values()):
        return oauth_error(
            400, "invalid_request", "The body must be a form or a JSON object of strings."
        )
    grant_type = fields.get("grant_type")
    if not grant_type:
        return oauth_error(400, "invalid_request", "Missing required parameter: grant_type")
    if grant_type != "client_credentials":
        return oauth_error(
            400, "unsupported_grant_type", f"Unsupported grant type: {grant_type[:80]}"
        )
    client = _client(fields)
    if isinstance(client, Response):
        return client
    grant = _grant(which, client, fields)
    if isinstance(grant, Response):
        return grant
    try:
        jkt = _proof_thumbprint(which)
    except DPoPError as exc:
        return oauth_error(400, exc.error, exc.message)
    audience, scopes = grant
    response = jsonify(
        access_token=_access_token(which, client, audience, scopes, jkt),
        scope=" ".join(scopes),
        expires_in=TOKEN_LIFETIME,
        token_type="DPoP" if jkt else "Bearer",
    )
    response.headers.update(_NO_STORE)
    return response


for _name, _prefix in _ISSUERS.items():
    auth0.add_url_rule(
        _prefix + "/.well-known/openid-configuration",
        f"{_name}_discovery",
        discovery,
        defaults={"which": _name},
    )
    auth0.add_url_rule(
        _prefix + "/oauth/token",
        f"{_name}_token",
        token,
        methods=["POST"],
        defaults={"which": _name},
    )


# -- Management API authentication ----------------------------------------------------------


def management_error(status: int, message: str, code: str | None = None) -> Response:
    """The Management API's error: ``{"statusCode", "error", "message", "errorCode"}``."""
    names = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
    }
    body: dict[str, Any] = {
        "statusCode": status,
        "error": names.get(status, "Error"),
        "message": message,
    }
    if code is not None:
        body["errorCode"] = code
    response = jsonify(body)
    response.status_code = status
    return response


def management_token(*scopes: str) -> Response | None:
    """None when the request carries a Management API token (Bearer, or DPoP with its
    proof) granting one of ``scopes``; the Management API's 401/403 otherwise."""
    idp = current_idp()
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme not in ("bearer", "dpop") or not value:
        return management_error(401, "Missing authentication")
    keys = StaticKeySet.from_jwks({"keys": [idp.auth0_key.public_jwk()]})
    policy = Policy(issuer=idp.config.auth0_issuer, audience=frozenset({management_audience()}))
    try:
        claims = verify(value, keys, policy).claims
        DPoPPolicy(replay_check=_replay_cache().add).check_request(
            scheme=scheme,
            token=value,
            claims=claims,
            proofs=request.headers.getlist("DPoP"),
            method=request.method,
            url=idp.config.base_url + request.path,
        )
    except TokenError:
        return management_error(401, "Invalid token")
    except DPoPError as exc:
        return management_error(401, exc.message, exc.error)
    granted = str(claims.get("scope", "")).split()
    if not any(s in granted for s in scopes):
        return management_error(
            403, f"Insufficient scope, expected any of: {','.join(scopes)}", "insufficient_scope"
        )
    return None
