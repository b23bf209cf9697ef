"""Users on the wire and the rules both users APIs share: Clerk's and Auth0's user objects,
request bodies checked field by field, the two metadata merge rules, email, username and
password checks, and deleting a user.

One store user is one Clerk user and one Auth0 user. The Auth0 view of ``user_alice`` is
``auth0|user_alice`` (``"auth0|" +`` the Clerk id, connection
``Username-Password-Authentication``); Clerk's ``public_metadata`` is Auth0's
``app_metadata`` and ``unsafe_metadata`` its ``user_metadata``, as
:class:`flask_idguard.User` maps them; ``private_metadata`` has no Auth0 counterpart.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Collection
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from flask import request

from .identifiers import email_address
from .identifiers import phone_number
from .store import User

if TYPE_CHECKING:
    from .instance import Instance

__all__ = [
    "AUTH0_CONNECTION",
    "AUTH0_PREFIX",
    "BadInput",
    "auth0_user",
    "check_email",
    "check_password",
    "check_unique",
    "check_username",
    "checked",
    "clerk_user",
    "deep_merge",
    "delete_from_store",
    "end_sessions",
    "millis",
    "request_object",
    "top_level_merge",
]

#: Auth0 user ids are this prefix and the store's (Clerk-style) user id.
AUTH0_PREFIX = "auth0|"
#: The one database connection of the Auth0 tenant.
AUTH0_CONNECTION = "Username-Password-Authentication"
#: Nesting and size limits of a metadata object (Clerk allows 8 KB per metadata object).
MAX_DEPTH = 32
MAX_METADATA_BYTES = 8 * 1024
MAX_STRING = 512
MIN_PASSWORD = 8
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_USERNAME = re.compile(r"[A-Za-z0-9_.-]{3,64}")

Kind = Literal["str", "bool", "object", "strings"]
Problem = Literal["unknown", "type", "value", "missing", "taken", "password"]


class BadInput(ValueError):
    """A request the users APIs refuse; each API renders it in its own error format."""

    def __init__(self, problem: Problem, param: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.param = param
        self.message = message


# -- request bodies -------------------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def within_depth(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests at most ``limit`` objects and arrays deep (no recursion)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def request_object() -> dict[str, Any] | None:
    """The request's JSON object body (an empty body is ``{}``; form fields when the body is
    a form), or None when it is no JSON object: invalid, too deep, ``NaN``..."""
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {k: v for k, v in request.form.items()}
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) and within_depth(data, 64) else None


def _check(name: str, kind: Kind, value: object) -> object:
    if kind == "str":
        if not isinstance(value, str):
            raise BadInput("type", name, f"{name} must be a string")
        if len(value) > MAX_STRING or not value.isprintable():
            raise BadInput("value", name, f"{name} must be printable, at most {MAX_STRING} chars")
    elif kind == "bool" and not isinstance(value, bool):
        raise BadInput("type", name, f"{name} must be a boolean")
    elif kind == "strings":
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BadInput("type", name, f"{name} must be a list of strings")
    elif kind == "object":
        if not isinstance(value, dict):
            raise BadInput("type", name, f"{name} must be an object")
        if not within_depth(value) or len(json.dumps(value)) > MAX_METADATA_BYTES:
            raise BadInput(
                "value", name, f"{name} must nest at most {MAX_DEPTH} deep and stay under 8 KB"
            )
    return value


def checked(
    body: Mapping[str, Any], kinds: Mapping[str, Kind], no_effect: Collection[str] = ()
) -> dict[str, Any]:
    """The fields of ``body`` that ``kinds`` names, type-checked. ``no_effect`` fields are
    accepted (and type-checked as booleans) but change nothing here; any other field with a
    value is refused: this provider does not keep it. ``null`` is kept for strings (it
    clears them) and dropped for the rest.

    :raises BadInput: naming the first field that is wrong.
    """
    out: dict[str, Any] = {}
    for name, value in body.items():
        if name in no_effect:
            if value is not None:
                _check(name, "bool", value)
        elif name in kinds:
            if value is not None:
                out[name] = _check(name, kinds[name], value)
            elif kinds[name] == "str":
                out[name] = None
        elif value is not None:
            raise BadInput(
                "unknown",
                name,
                f"{name} is not a valid parameter for this request (the local identity "
                "provider does not keep it)",
            )
    return out


# -- metadata -------------------------------------------------------------------------------


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Clerk's metadata merge: objects merge key by key at every level, ``null`` removes a
    key, anything else replaces."""
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            current = out.get(key)
            out[key] = deep_merge(current if isinstance(current, dict) else {}, value)
        else:
            out[key] = value
    return out


def top_level_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Auth0's metadata merge: top-level keys merge, nested objects are replaced, ``null``
    removes a key and an empty object clears the metadata."""
    if not patch:
        return {}
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


# -- shapes ---------------------------------------------------------------------------------


def millis(seconds: float | None) -> int | None:
    """Clerk's timestamps: milliseconds since the epoch."""
    return None if seconds is None else int(seconds * 1000)


def _iso(seconds: float) -> str:
    """Auth0's timestamps: ``2024-05-01T12:00:00.000Z``."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def avatar(user: User) -> str:
    """An initials avatar as an SVG ``data:`` URL: no image server, works offline."""
    initials = "".join(n[0] for n in (user.first_name, user.last_name) if n) or user.email[0]
    letters = "".join(c for c in initials.upper() if c.isalnum())[:2] or "?"
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" '
        'height="64" fill="#6c47ff"/><text x="32" y="40" font-size="24" text-anchor="middle" '
        f'fill="#fff" font-family="sans-serif">{letters}</text></svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


#: What every Clerk user object says here: no wallets, passkeys or external
#: accounts, no second factor, no lockout, every self-service setting on.
_CLERK_FIXED: dict[str, Any] = {
    "object": "user",
    "external_id": None,
    "primary_web3_wallet_id": None,
    "has_image": False,
    "web3_wallets": [],
    "passkeys": [],
    "external_accounts": [],
    "saml_accounts": [],
    "enterprise_accounts": [],
    "password_enabled": True,
    "two_factor_enabled": False,
    "totp_enabled": False,
    "backup_code_enabled": False,
    "mfa_enabled_at": None,
    "mfa_disabled_at": None,
    "locked": False,
    "lockout_expires_in_seconds": None,
    "verification_attempts_remaining": 100,
    "delete_self_enabled": True,
    "create_organization_enabled": True,
    "create_organizations_limit": None,
    "legal_accepted_at": None,
    "locale": None,
}


def clerk_user(user: User, last_active_at: float | None = None) -> dict[str, Any]:
    """Clerk's user object, with every field ``clerk-backend-api`` requires."""
    created, updated = millis(user.created_at), millis(user.updated_at)
    email = email_address(user, created, updated)
    image = avatar(user)
    phones = [] if user.phone is None else [phone_number(user, created, updated)]
    return {
        **_CLERK_FIXED,
        "id": user.id,
        "primary_email_address_id": user.email_id,
        "email_addresses": [email],
        "primary_phone_number_id": user.phone_id if phones else None,
        "phone_numbers": phones,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "image_url": image,
        "profile_image_url": image,
        "public_metadata": user.public_metadata,
        "private_metadata": user.private_metadata,
        "unsafe_metadata": user.unsafe_metadata,
        "banned": user.banned,
        "last_sign_in_at": millis(user.last_sign_in_at),
        "last_active_at": millis(last_active_at),
        "created_at": created,
        "updated_at": updated,
    }


def auth0_user(user: User) -> dict[str, Any]:
    """Auth0's user object (absent values are left out, as Auth0 does)."""
    data: dict[str, Any] = {
        "user_id": AUTH0_PREFIX + user.id,
        "email": user.email,
        "email_verified": True,
        "username": user.username,
        "given_name": user.first_name,
        "family_name": user.last_name,
        "name": user.full_name,
        "nickname": user.username or user.email.partition("@")[0],
        "picture": avatar(user),
        "identities": [
            {
                "connection": AUTH0_CONNECTION,
                "provider": "auth0",
                "user_id": user.id,
                "isSocial": False,
            }
        ],
        "app_metadata": user.public_metadata,
        "user_metadata": user.unsafe_metadata,
        "created_at": _iso(user.created_at),
        "updated_at": _iso(user.updated_at),
        "logins_count": 0 if user.last_sign_in_at is None else 1,
    }
    if user.last_sign_in_at is not None:
        data["last_login"] = _iso(user.last_sign_in_at)
    if user.banned:
        data["blocked"] = True
    return {k: v for k, v in data.items() if v is not None}


# -- rules on store users -------------------------------------------------------------------


def check_email(email: str) -> str:
    """An email address as stored (trimmed); :class:`BadInput` when it is not one."""
    if not _EMAIL.fullmatch(email.strip()) or len(email) > 320:
        raise BadInput("value", "email_address", f"{email[:80]!r} is not a valid email address")
    return email.strip()


def check_username(username: str | None) -> str | None:
    if username is not None and not _USERNAME.fullmatch(username):
        raise BadInput("value", "username", "usernames are 3 to 64 letters, digits, _ . or -")
    return username


def check_password(password: str, *, skip_checks: bool = False) -> str:
    if len(password) < MIN_PASSWORD and not skip_checks:
        raise BadInput(
            "password", "password", f"Passwords must be {MIN_PASSWORD} characters or more."
        )
    return password


def check_unique(
    idp: Instance, user_id: str | None, email: str | None, username: str | None
) -> None:
    """:class:`BadInput` (``taken``) when another user has this email or username."""
    for other in idp.store.users.values():
        if other.id == user_id:
            continue
        if email is not None and other.email.lower() == email.lower():
            raise BadInput(
                "taken", "email_address", "That email address is taken. Please try another."
            )
        if username is not None and (other.username or "").lower() == username.lower():
            raise BadInput("taken", "username", "That username is taken. Please try another.")


def end_sessions(idp: Instance, user_id: str, status: str) -> None:
    for session in list(idp.store.sessions.values()):
        if session.user_id == user_id and session.status == "active":
            session.status = status
            client = idp.store.clients.get(session.client_id)
            if client is not None:
                client.touch()


def delete_from_store(idp: Instance, user: User) -> None:
    """Remove ``user``: their sessions end (``removed``), memberships go."""
    with idp.store.lock:
        end_sessions(idp, user.id, "removed")
        for org in idp.store.organizations.values():
            org.members.pop(user.id, None)
        idp.store.users.pop(user.id, None)
