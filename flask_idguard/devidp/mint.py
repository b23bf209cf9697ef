"""Tokens on demand, for ``flask idguard token``, curl and scripts; secret-key authenticated.

- ``POST /v1/sessions`` is Clerk's Backend API "create session" (``{"user_id"}``): a new
  client with an active session for the user, whose tokens ``POST
  /v1/sessions/{id}/tokens`` then mints. Beyond Clerk, ``active_organization`` (an id or a
  slug; ``""`` for the personal account) picks the session's organization.
- ``POST /v1/devidp/access_tokens`` (this provider only): an Auth0-shaped (or OIDC) access
  token with the given subject, scopes and permissions, bound to a DPoP key with ``jkt``.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from flask import Blueprint
from flask import jsonify
from werkzeug.wrappers import Response

from .bapi import require_secret_key
from .web import clerk_error
from .web import current_idp
from .web import json_body

__all__ = ["mint"]

mint = Blueprint("mint", __name__, url_prefix="/v1")
mint.before_request(require_secret_key)

#: RFC 7638 thumbprints of SHA-256: 43 base64url characters.
_JKT = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_LIFETIME = 7 * 86400


def _invalid(message: str) -> Response:
    return clerk_error(422, "form_param_value_invalid", message)


def _strings(body: dict[str, Any], name: str) -> list[str] | None:
    """A list of non-empty strings without whitespace (or None when it is not one)."""
    value = body.get(name, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v and not any(c.isspace() for c in v) for v in value
    ):
        return None
    return value


def _lifetime(body: dict[str, Any], default: int) -> int | None:
    value = body.get("expires_in_seconds", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_LIFETIME:
        return None
    return value


@mint.post("/sessions")
def create_session() -> Response:
    """Clerk's "create session": an active session for ``user_id`` on a new client."""
    idp = current_idp()
    body = json_body()
    user_id = body.get("user_id")
    user = idp.store.users.get(user_id) if isinstance(user_id, str) else None
    if user is None:
        return clerk_error(404, "resource_not_found", "User not found")
    org = body.get("active_organization")
    if org is not None and not isinstance(org, str):
        return _invalid("active_organization must be an organization id or slug")
    client = idp.store.new_client()
    session = idp.store.sign_in(client, user)
    if org is not None and not idp.store.set_active_organization(session, org):
        session.status = "ended"
        return _invalid(f"{user.id} is not a member of organization {org[:80]!r}")
    return jsonify(
        object="session",
        id=session.id,
        client_id=client.id,
        user_id=user.id,
        status=session.status,
        last_active_organization_id=session.org_id,
        expire_at=int(session.expire_at * 1000),
    )


@mint.post("/devidp/access_tokens")
def access_token() -> Response:
    """An access token of the Auth0 tenant (``issuer: "auth0"``) or the OIDC issuer."""
    idp = current_idp()
    body = json_body()
    which = body.get("issuer", "auth0")
    sub = body.get("sub", "devidp-cli")
    audience = body.get("audience", idp.config.audience)
    scopes, permissions = _strings(body, "scope"), _strings(body, "permissions")
    jkt = body.get("jkt")
    lifetime = _lifetime(body, 3600)
    if which not in ("auth0", "oidc"):
        return _invalid("issuer must be 'auth0' or 'oidc'")
    if not isinstance(sub, str) or not sub or not isinstance(audience, str) or not audience:
        return _invalid("sub and audience must be non-empty strings")
    if scopes is None or permissions is None:
        return _invalid("scope and permissions must be lists of strings without spaces")
    if jkt is not None and (not isinstance(jkt, str) or not _JKT.fullmatch(jkt)):
        return _invalid("jkt must be a SHA-256 JWK thumbprint (43 base64url characters)")
    if lifetime is None:
        return _invalid(f"expires_in_seconds must be an integer from 1 to {_MAX_LIFETIME}")
    now = int(time.time())
    issuer = idp.config.auth0_issuer if which == "auth0" else idp.config.oidc_issuer
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": sub,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "scope": " ".join(scopes),
        "permissions": permissions,
        "jti": secrets.token_hex(16),
    }
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
    header = {"typ": "at+jwt"} if which == "oidc" else {}
    token = idp.auth0_key.sign(claims, **header)
    return jsonify(
        access_token=token,
        token_type="DPoP" if jkt else "Bearer",
        expires_in=lifetime,
        scope=" ".join(scopes),
    )
