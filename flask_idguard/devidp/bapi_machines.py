"""Clerk's machine tokens on the local identity provider: M2M tokens, API keys and OAuth
access tokens issued, verified and revoked through Clerk's Backend API endpoints, which Clerk
serves without the API version in the path (``/m2m_tokens``, ``/api_keys``,
``/oauth_applications/access_tokens``).

Every seeded machine client (``m2m_clients``) is a Clerk machine too: its id is ``mch_`` and
its client id (``-`` as ``_``), its machine secret key ``ak_`` and its client secret (the
same): ``devidp-machine`` is ``mch_devidp_machine`` with ``ak_devidp_machine_secret``.
Creating M2M tokens takes a machine secret key; verifying and revoking takes it or the
instance's secret key; everything else takes the secret key, as Clerk's API does.

``POST /oauth_applications/access_tokens`` is this provider's own (Clerk issues OAuth tokens
through its OAuth flows): it mints a token for a user so that tests and demos need no browser.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from weakref import WeakKeyDictionary

from flask import Blueprint
from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from .web import clerk_error
from .web import current_idp
from .web import json_body

if TYPE_CHECKING:
    from .instance import Instance
    from .store import Store

__all__ = ["IssuedToken", "MachineTokens", "bapi_machines", "machine_secret_key", "machine_tokens"]

bapi_machines = Blueprint("bapi_machines", __name__)

M2M_CATEGORY = "cl_B7d4PD333AAA"
_PREFIX = {"m2m_token": "mt_", "api_key": "ak_", "oauth_token": "oat_"}
_OBJECT = {
    "m2m_token": "machine_to_machine_token",
    "api_key": "api_key",
    "oauth_token": "clerk_idp_oauth_access_token",
}
_NOT_FOUND = {"m2m_token": "M2M token", "api_key": "API key", "oauth_token": "OAuth access token"}


def _slug(value: str) -> str:
    return value.replace("-", "_")


def machine_secret_key(client_secret: str) -> str:
    """The Clerk machine secret key of a seeded machine client."""
    return "ak_" + _slug(client_secret)


@dataclass
class IssuedToken:
    """A machine token this provider issued (opaque or JWT)."""

    type: str
    subject: str
    token: str
    id: str = field(default_factory=lambda: "")
    scopes: list[str] = field(default_factory=list)
    claims: dict[str, Any] | None = None
    name: str | None = None
    client_id: str | None = None
    created_at: int = field(default_factory=lambda: int(time.time() * 1000))
    expiration: int | None = None
    revoked: bool = False
    revocation_reason: str | None = None

    def resource(self, *, with_token: bool = False) -> dict[str, Any]:
        """The token in Clerk's JSON (``APIKey``, ``M2MToken``, ``IdPOAuthAccessToken``)."""
        now = int(time.time() * 1000)
        data: dict[str, Any] = {
            "object": _OBJECT[self.type], "id": self.id, "subject": self.subject,
            "scopes": list(self.scopes), "revoked": self.revoked,
            "revocation_reason": self.revocation_reason,
            "expired": self.expiration is not None and self.expiration <= now,
            "expiration": self.expiration, "created_at": self.created_at,
            "updated_at": self.created_at,
        }  # fmt: skip
        if self.type != "oauth_token":
            data["claims"] = self.claims
        if self.type == "api_key":
            data.update(type="api_key", name=self.name, description=None, created_by=None,
                        last_used_at=None)  # fmt: skip
        if self.type == "oauth_token":
            data.update(type="oauth_token", client_id=self.client_id)
        if with_token:
            data["secret" if self.type == "api_key" else "token"] = self.token
        return data

    @property
    def usable(self) -> bool:
        expired = self.expiration is not None and self.expiration <= time.time() * 1000
        return not self.revoked and not expired


class MachineTokens:
    """The tokens one provider issued, by value and by id."""

    def __init__(self) -> None:
        self.by_token: dict[str, IssuedToken] = {}
        self.by_id: dict[str, IssuedToken] = {}

    def issue(
        self,
        idp: Instance,
        token_type: str,
        subject: str,
        *,
        seconds: int | None = None,
        token_format: str = "opaque",
        **fields: Any,
    ) -> IssuedToken:
        """A new token; ``token_format="jwt"`` (M2M and OAuth) signs it with the instance key."""
        ident = _PREFIX[token_type] + secrets.token_hex(12)
        expiration = int((time.time() + seconds) * 1000) if seconds else None
        issued = IssuedToken(token_type, subject, "", id=ident, expiration=expiration, **fields)
        if token_format == "jwt":
            issued.token = _jwt(idp, issued)
        else:
            issued.token = _PREFIX[token_type] + secrets.token_urlsafe(32)
        self.by_token[issued.token] = issued
        self.by_id[ident] = issued
        return issued

    def find(self, token_type: str, token: object) -> IssuedToken | None:
        """The usable (not revoked, not expired) token of this type, if there is one."""
        found = self.by_token.get(token) if isinstance(token, str) else None
        return found if found is not None and found.type == token_type and found.usable else None


def _jwt(idp: Instance, issued: IssuedToken) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": idp.config.issuer, "sub": issued.subject, "iat": now, "nbf": now - 5,
        "exp": (issued.expiration or (now + 3600) * 1000) // 1000, "jti": issued.id,
    }  # fmt: skip
    if issued.type == "m2m_token":
        if issued.scopes:
            claims["scopes"] = " ".join(issued.scopes)
        claims.update(issued.claims or {})
        return idp.clerk_key.sign(claims, cat=M2M_CATEGORY)
    claims.update(client_id=issued.client_id, scp=list(issued.scopes))
    return idp.clerk_key.sign(claims, typ="at+jwt")


_TOKENS: WeakKeyDictionary[Store, MachineTokens] = WeakKeyDictionary()


def machine_tokens(idp: Instance) -> MachineTokens:
    """The machine tokens ``idp`` issued (kept beside its store, as long as it lives)."""
    tokens = _TOKENS.get(idp.store)
    if tokens is None:
        tokens = _TOKENS[idp.store] = MachineTokens()
    return tokens


def _bearer() -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" else ""


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _machine() -> tuple[str, list[str]] | None:
    """The seeded machine whose machine secret key authenticates this call: (id, scopes)."""
    bearer = _bearer()
    for client in current_idp().store.m2m_clients.values():
        if _same(bearer, machine_secret_key(client.client_secret)):
            return "mch_" + _slug(client.client_id), list(client.scopes)
    return None


def _secret_key_ok() -> bool:
    return _same(_bearer(), current_idp().secret_key)


def _unauthorized() -> Response:
    return clerk_error(401, "authentication_invalid", "Unauthorized request",
                       "The provided Clerk Secret Key is invalid.")  # fmt: skip


def _seconds(body: dict[str, Any]) -> int | None | Response:
    seconds = body.get("seconds_until_expiration")
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
        return clerk_error(422, "form_param_value_invalid",
                           "seconds_until_expiration must be a positive integer")  # fmt: skip
    return seconds


def _strings(value: object) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return value
    return None


def _verify(token_type: str, field_name: str) -> Response:
    """The token's resource, or 404. ``secret`` is read for every type too: Clerk's Python SDK
    (``clerk-backend-api``) sends that field to all three endpoints."""
    body = json_body()
    token = body.get(field_name, body.get("secret"))
    found = machine_tokens(current_idp()).find(token_type, token)
    if found is None:
        return clerk_error(404, "resource_not_found", f"{_NOT_FOUND[token_type]} not found")
    return jsonify(found.resource())


def _revoke(token_type: str, token_id: str) -> Response:
    found = machine_tokens(current_idp()).by_id.get(token_id)
    if found is None or found.type != token_type:
        return clerk_error(404, "resource_not_found", f"{_NOT_FOUND[token_type]} not found")
    reason = json_body().get("revocation_reason")
    found.revoked, found.revocation_reason = True, reason if isinstance(reason, str) else None
    return jsonify(found.resource())


@bapi_machines.post("/m2m_tokens")
def create_m2m_token() -> Response:
    """``M2MTokenApi.createToken``: a token for the machine whose secret key calls."""
    machine = _machine()
    if machine is None:
        return _unauthorized()
    body = json_body()
    seconds, claims = _seconds(body), body.get("claims")
    token_format = body.get("token_format", "opaque")
    if isinstance(seconds, Response):
        return seconds
    if claims is not None and not isinstance(claims, dict) or token_format not in ("opaque", "jwt"):
        return clerk_error(422, "form_param_value_invalid", "claims or token_format is invalid")
    issued = machine_tokens(current_idp()).issue(
        current_idp(), "m2m_token", machine[0], seconds=seconds, token_format=token_format,
        scopes=machine[1], claims=claims,
    )  # fmt: skip
    return jsonify(issued.resource(with_token=True))


@bapi_machines.post("/m2m_tokens/verify")
def verify_m2m_token() -> Response:
    if _machine() is None and not _secret_key_ok():
        return _unauthorized()
    return _verify("m2m_token", "token")


@bapi_machines.post("/m2m_tokens/<token_id>/revoke")
def revoke_m2m_token(token_id: str) -> Response:
    if _machine() is None and not _secret_key_ok():
        return _unauthorized()
    return _revoke("m2m_token", token_id)


@bapi_machines.post("/api_keys")
def create_api_key() -> Response:
    """``APIKeysApi.create``: an API key for a user or an organization."""
    if not _secret_key_ok():
        return _unauthorized()
    body = json_body()
    seconds, subject, scopes = _seconds(body), body.get("subject"), _strings(body.get("scopes"))
    if isinstance(seconds, Response):
        return seconds
    claims, name = body.get("claims"), body.get("name")
    if not isinstance(subject, str) or not subject or scopes is None or not isinstance(name, str):
        return clerk_error(422, "form_param_value_invalid", "name, subject or scopes is invalid")
    if claims is not None and not isinstance(claims, dict):
        return clerk_error(422, "form_param_value_invalid", "claims must be an object")
    issued = machine_tokens(current_idp()).issue(
        current_idp(), "api_key", subject, seconds=seconds, scopes=scopes, claims=claims, name=name
    )
    return jsonify(issued.resource(with_token=True))


@bapi_machines.post("/api_keys/verify")
def verify_api_key() -> Response:
    return _verify("api_key", "secret") if _secret_key_ok() else _unauthorized()


@bapi_machines.post("/api_keys/<key_id>/revoke")
def revoke_api_key(key_id: str) -> Response:
    return _revoke("api_key", key_id) if _secret_key_ok() else _unauthorized()


@bapi_machines.post("/oauth_applications/access_tokens")
def create_oauth_token() -> Response:
    """This provider's own: an OAuth access token for a seeded user (no OAuth flow)."""
    if not _secret_key_ok():
        return _unauthorized()
    body = json_body()
    seconds, user, scopes = _seconds(body), body.get("user_id"), _strings(body.get("scopes"))
    client_id, token_format = body.get("client_id", "devidp-oauth-app"), body.get("token_format")
    if isinstance(seconds, Response):
        return seconds
    if user not in current_idp().store.users or scopes is None or not isinstance(client_id, str):
        return clerk_error(
            422, "form_param_value_invalid", "user_id, client_id or scopes is invalid"
        )
    issued = machine_tokens(current_idp()).issue(
        current_idp(), "oauth_token", str(user), seconds=seconds or 3600, scopes=scopes,
        client_id=client_id, token_format="jwt" if token_format == "jwt" else "opaque",
    )  # fmt: skip
    return jsonify(issued.resource(with_token=True))


@bapi_machines.post("/oauth_applications/access_tokens/verify")
def verify_oauth_token() -> Response:
    return _verify("oauth_token", "access_token") if _secret_key_ok() else _unauthorized()
