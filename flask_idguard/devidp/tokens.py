"""What the identity provider signs: Clerk session tokens (v1 or v2 organization claims),
handshake tokens, the ``Set-Cookie`` directives a handshake carries, Auth0 access tokens."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from ..providers.clerk.instance import cookie_suffix

if TYPE_CHECKING:
    from .instance import Instance
    from .store import Client
    from .store import Session

__all__ = ["SESSION_CATEGORY", "handshake_directives", "org_claims_v2", "session_token"]

#: Clerk's ``cat`` header of session tokens (packages/backend/src/tokens/jwtCategories.ts).
SESSION_CATEGORY = "cl_B7d4PD111AAA"
#: Clerk's tokens carry ``nbf`` a few seconds before ``iat`` (clock skew between services).
NBF_SKEW = 10


def org_claims_v2(role: str, permissions: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    """The v2 ``o`` claim's ``rol``/``per``/``fpm`` and the ``fea`` list for a role.

    ``org:<feature>:<permission>`` strings become features (in order), permission names (in
    order) and one bit mask per feature, bit *k* for ``per[k]``, as ``jwtPayloadParser`` reads
    them back.
    """
    features: list[str] = []
    names: list[str] = []
    for permission in permissions:
        parts = permission.split(":")
        if len(parts) != 3 or parts[0] != "org":
            continue  # system permissions (org:sys_*) are not in session tokens
        if parts[1] not in features:
            features.append(parts[1])
        if parts[2] not in names:
            names.append(parts[2])
    masks = [0] * len(features)
    for permission in permissions:
        parts = permission.split(":")
        if len(parts) == 3 and parts[0] == "org":
            masks[features.index(parts[1])] |= 1 << names.index(parts[2])
    org: dict[str, Any] = {"rol": role.removeprefix("org:")}
    if features:
        org["per"] = ",".join(names)
        org["fpm"] = ",".join(str(m) for m in masks)
    return org, ",".join(f"o:{f}" for f in features)


def session_token(
    idp: Instance,
    session: Session,
    *,
    azp: str | None = None,
    lifetime: int | None = None,
    extra: dict[str, Any] | None = None,
    now: float | None = None,
    org_id: str | None | Literal[False] = False,
) -> str:
    """A session token for ``session``, signed with the instance key: for its active
    organization, or for ``org_id`` (None: the personal account) when given."""
    store, config = idp.store, idp.config
    user = store.users[session.user_id]
    client = store.clients.get(session.client_id)
    iat = int(time.time() if now is None else now)
    if client is not None:
        # Never older than __client_uat: the app would take it for an outdated token.
        iat = max(iat, int(client.updated_at))
        client.last_token_iat = max(client.last_token_iat, iat)
    minutes = max(0, (iat - int(user.last_sign_in_at or iat)) // 60)
    claims: dict[str, Any] = {
        "exp": iat + (lifetime or config.token_lifetime),
        "fva": [minutes, -1],
        "iat": iat,
        "iss": config.issuer,
        "jti": secrets.token_hex(10),
        "nbf": iat - NBF_SKEW,
        "sid": session.id,
        "sts": "active",
        "sub": user.id,
    }
    if azp:
        claims["azp"] = azp
    org = store.organizations.get((session.org_id if org_id is False else org_id) or "")
    if config.org_claims == "v2":
        claims["v"] = 2
    if org is not None and session.user_id in org.members:
        role = org.members[session.user_id]
        permissions = store.permissions(role)
        if config.org_claims == "v2":
            o, fea = org_claims_v2(role, permissions)
            claims["o"] = {"id": org.id, "slg": org.slug, **o}
            if fea:
                claims["fea"] = fea
        else:
            claims.update(
                org_id=org.id, org_slug=org.slug, org_role=role, org_permissions=list(permissions)
            )
    claims.update(extra or {})
    return idp.clerk_key.sign(claims, cat=SESSION_CATEGORY)


def _cookie(idp: Instance, name: str, value: str, max_age: int | None = None) -> str:
    text = f"{name}={value}; Path=/; SameSite=Lax"
    if max_age is not None:
        text += f"; Max-Age={max_age}"
    return text + ("; Secure" if idp.config.secure_cookies else "")


def handshake_directives(
    idp: Instance,
    client: Client | None,
    *,
    suffixed: bool,
    azp: str | None,
    dev_browser: str | None,
) -> list[str]:
    """The ``Set-Cookie`` strings a handshake hands the app: a fresh session token and
    ``__client_uat`` for an active session, both cleared otherwise; the dev browser on a
    development instance; the handshake carriers expired."""
    session = idp.store.active_session(client)
    suffix = cookie_suffix(idp.config.publishable_key)
    year = 365 * 24 * 3600

    def both(name: str, value: str, max_age: int | None = None) -> list[str]:
        out = [_cookie(idp, name, value, max_age)]
        if suffixed:
            out.append(_cookie(idp, f"{name}_{suffix}", value, max_age))
        return out

    directives: list[str] = []
    if session is not None and client is not None:
        token = session_token(idp, session, azp=azp)
        directives += both("__session", token)
        directives += both("__client_uat", str(int(client.updated_at)), year)
    else:
        directives += both("__session", "", 0)
        directives += both("__client_uat", "0", year)
    if dev_browser is not None:
        directives += both("__clerk_db_jwt", dev_browser, year)
    directives.append(_cookie(idp, "__clerk_handshake", "", 0))
    directives.append(_cookie(idp, "__clerk_handshake_nonce", "", 0))
    return directives
