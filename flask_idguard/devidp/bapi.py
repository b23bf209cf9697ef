"""Clerk's Backend API, the part request authentication uses: JWKS, handshake payloads,
session refresh and session tokens, authenticated by the instance's secret key (clerk.md
§1.10, §2.2, §3). The users endpoints are in :mod:`.bapi_users`."""

from __future__ import annotations

import hmac
import time

from flask import Blueprint
from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from ..core.jwt import TokenError
from ..core.jwt import decode_unverified
from .tokens import handshake_directives
from .tokens import session_token
from .web import clerk_error
from .web import current_idp
from .web import json_body
from .web import origin

__all__ = ["bapi"]

bapi = Blueprint("bapi", __name__, url_prefix="/v1")


@bapi.before_request
def require_secret_key() -> Response | None:
    """Every Backend API call carries ``Authorization: Bearer <secret key>`` (401 otherwise)."""
    idp = current_idp()
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        secret.encode(), idp.secret_key.encode()
    ):
        return clerk_error(
            401,
            "authentication_invalid",
            "Unauthorized request",
            "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is "
            "correct.",
        )
    return None


@bapi.get("/jwks")
def jwks() -> Response:
    """The instance's JWKS: its one signing key, ``kid`` the instance id."""
    return jsonify(keys=[current_idp().clerk_key.public_jwk()])


@bapi.get("/clients/handshake_payload")
def handshake_payload() -> Response:
    """The directives stored under a handshake nonce (``{"directives": [...]}``)."""
    directives = current_idp().store.nonce_directives(request.args.get("nonce", ""))
    if directives is None:
        return clerk_error(404, "resource_not_found", "Handshake payload not found")
    return jsonify(directives=directives)


@bapi.post("/sessions/<session_id>/refresh")
def refresh(session_id: str) -> Response:
    """New session cookies for an expired token of an active session (``format: cookie``)."""
    idp = current_idp()
    body = json_body()
    session = idp.store.sessions.get(session_id)
    if session is None or not session.active:
        return clerk_error(404, "resource_not_found", "Session not found")
    expired = body.get("expired_token")
    try:
        claims = decode_unverified(expired).claims if isinstance(expired, str) else {}
    except TokenError:
        claims = {}
    refresh_token = body.get("refresh_token")
    if (
        claims.get("sid") != session.id
        or not isinstance(refresh_token, str)
        or not (hmac.compare_digest(refresh_token.encode(), session.refresh_token.encode()))
    ):
        return clerk_error(
            400, "invalid_refresh_token", "The refresh token or expired token is invalid."
        )
    client = idp.store.clients[session.client_id]
    directives = handshake_directives(
        idp,
        client,
        suffixed=request.args.get("suffixed_cookies") == "true",
        azp=origin(body.get("request_origin")),
        dev_browser=None,
    )
    cookies = [d for d in directives if not d.startswith("__clerk_handshake")]
    return jsonify(object="cookies", cookies=cookies)


@bapi.post("/sessions/<session_id>/tokens")
@bapi.post("/sessions/<session_id>/tokens/<template>")
def tokens(session_id: str, template: str | None = None) -> Response:
    """A new token for an active session; with a template, its claims and lifetime."""
    idp = current_idp()
    session = idp.store.sessions.get(session_id)
    if session is None or not session.active:
        return clerk_error(404, "resource_not_found", "Session not found")
    body = json_body()
    lifetime = body.get("expires_in_seconds")
    if lifetime is not None and (
        isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 1
    ):
        return clerk_error(
            422, "form_param_value_invalid", "expires_in_seconds must be a positive integer"
        )
    extra: dict[str, object] = {}
    if template is not None:
        spec = idp.store.templates.get(template)
        if spec is None:
            return clerk_error(404, "resource_not_found", f"JWT template {template!r} not found")
        extra = dict(spec.get("claims", {}))
        lifetime = lifetime or spec.get("lifetime")
    session.last_active_at = time.time()
    jwt = session_token(idp, session, lifetime=lifetime, extra=extra)
    return jsonify(object="token", jwt=jwt)
