"""Clerk's Backend API users endpoints (``/v1/users…``): what ``ClerkClient`` and
``clerk-backend-api`` call. The same secret-key check as the rest of the Backend API
(:func:`.bapi.require_secret_key`); errors in Clerk's format, never a 500 on any input.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from flask import Blueprint
from flask import jsonify
from flask import request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from .bapi import require_secret_key
from .store import User
from .users_json import BadInput
from .users_json import Kind
from .users_json import check_email
from .users_json import check_password
from .users_json import check_unique
from .users_json import check_username
from .users_json import checked
from .users_json import clerk_user
from .users_json import deep_merge
from .users_json import delete_from_store
from .users_json import end_sessions
from .users_json import request_object
from .web import clerk_error
from .web import current_idp

if TYPE_CHECKING:
    from .instance import Instance

__all__ = ["bapi_users"]

bapi_users = Blueprint("bapi_users", __name__, url_prefix="/v1")
bapi_users.before_request(require_secret_key)

#: Clerk's codes for each kind of refused input.
_CODES = {
    "unknown": "form_param_unknown",
    "type": "form_param_format_invalid",
    "value": "form_param_value_invalid",
    "missing": "form_param_missing",
    "taken": "form_identifier_exists",
    "password": "form_password_length_too_short",
}
_NAMES: dict[str, Kind] = {"first_name": "str", "last_name": "str", "username": "str"}
_METADATA: dict[str, Kind] = {
    "public_metadata": "object",
    "private_metadata": "object",
    "unsafe_metadata": "object",
}
_CREATE: dict[str, Kind] = {
    **_NAMES,
    **_METADATA,
    "email_address": "strings",
    "password": "str",
    "banned": "bool",
}
_UPDATE: dict[str, Kind] = {
    **_NAMES,
    **_METADATA,
    "password": "str",
    "primary_email_address_id": "str",
}
#: Checks and notifications Clerk can skip or send; nothing to skip or send here.
_NO_EFFECT = (
    "skip_password_checks",
    "skip_password_requirement",
    "skip_legal_checks",
    "skip_user_requirement",
    "notify_primary_email_address_changed",
    "sign_out_of_other_sessions",
)
#: ``order_by`` fields: user, last activity by user id → sort key.
_ORDER: dict[str, Callable[[User, dict[str, float]], Any]] = {
    "created_at": lambda u, a: u.created_at,
    "updated_at": lambda u, a: u.updated_at,
    "email_address": lambda u, a: u.email.lower(),
    "first_name": lambda u, a: (u.first_name or "").lower(),
    "last_name": lambda u, a: (u.last_name or "").lower(),
    "username": lambda u, a: (u.username or "").lower(),
    "last_sign_in_at": lambda u, a: u.last_sign_in_at or 0.0,
    "last_active_at": lambda u, a: a.get(u.id, 0.0),
    "phone_number": lambda u, a: "",
    "web3wallet": lambda u, a: "",
}


def _refused(exc: BadInput) -> Response:
    return clerk_error(422, _CODES[exc.problem], exc.message, f"{exc.param}: {exc.message}")


# -- list and count -------------------------------------------------------------------------


def _last_active(idp: Instance) -> dict[str, float]:
    """User id → the last activity of any of their sessions."""
    last: dict[str, float] = {}
    for session in list(idp.store.sessions.values()):
        last[session.user_id] = max(last.get(session.user_id, 0.0), session.last_active_at)
    return last


def _millis(args: MultiDict[str, str], name: str) -> float | None:
    value = args.get(name)
    if value is None:
        return None
    if not re.fullmatch(r"-?\d{1,16}", value.strip()):
        raise BadInput("type", name, f"{name} must be a timestamp in milliseconds")
    return int(value) / 1000


def _one_of(get: Callable[[User], str | None], wanted: set[str]) -> Callable[[User], bool]:
    return lambda u: get(u) in wanted


def _contains(fields: Callable[[User], list[str | None]], needle: str) -> Callable[[User], bool]:
    return lambda u: any(needle.lower() in (v or "").lower() for v in fields(u))


def _between(
    get: Callable[[User], float | None], after: float | None, before: float | None
) -> Callable[[User], bool]:
    def test(user: User) -> bool:
        value = get(user)
        if after is not None and (value is None or value <= after):
            return False
        return before is None or (value or 0.0) < before

    return test


_EXACT: dict[str, Callable[[User], str | None]] = {
    "email_address": lambda u: u.email.lower(),
    "user_id": lambda u: u.id,
    "username": lambda u: (u.username or "").lower(),
}
_TEXT: dict[str, Callable[[User], list[str | None]]] = {
    "query": lambda u: [u.id, u.email, u.username, u.first_name, u.last_name],
    "email_address_query": lambda u: [u.email],
    "username_query": lambda u: [u.username],
    "name_query": lambda u: [u.first_name, u.last_name, u.full_name],
    "phone_number_query": lambda u: [],
}
#: Filters on what nobody has here: they match no user.
_ABSENT = ("external_id", "phone_number", "web3_wallet", "provider_user_id")


def _predicates(args: MultiDict[str, str], idp: Instance) -> list[Callable[[User], bool]]:
    """One test per filter Clerk's ``GET /users`` and ``/users/count`` take; a list
    filter (``email_address=a&email_address=b``) matches any of its values."""
    preds: list[Callable[[User], bool]] = []
    for name, get in _EXACT.items():
        if name in args:
            values = args.getlist(name)
            preds.append(
                _one_of(get, {v if name == "user_id" else v.strip().lower() for v in values})
            )
    if any(name in args for name in _ABSENT):
        preds.append(lambda u: False)
    if "organization_id" in args:
        orgs = [idp.store.organizations.get(o) for o in args.getlist("organization_id")]
        members = {m for o in orgs if o is not None for m in o.members}
        preds.append(lambda u: u.id in members)
    for name, fields in _TEXT.items():
        needle = args.get(name, "").strip()
        if needle:
            preds.append(_contains(fields, needle))
    banned = args.get("banned")
    if banned is not None:
        if banned not in ("true", "false"):
            raise BadInput("type", "banned", "banned must be true or false")
        preds.append(lambda u: u.banned == (banned == "true"))
    last = _last_active(idp)
    times: dict[str, Callable[[User], float | None]] = {
        "created_at": lambda u: u.created_at,
        "last_sign_in_at": lambda u: u.last_sign_in_at,
        "last_active_at": lambda u: last.get(u.id),
    }
    for field, get_time in times.items():
        after = _millis(args, f"{field}_after")
        if field == "last_active_at" and after is None:
            after = _millis(args, "last_active_at_since")
        before = _millis(args, f"{field}_before")
        if after is not None or before is not None:
            preds.append(_between(get_time, after, before))
    return preds


def _selected(idp: Instance) -> list[User]:
    preds = _predicates(request.args, idp)
    return [u for u in list(idp.store.users.values()) if all(p(u) for p in preds)]


def _bounded(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    if not re.fullmatch(r"\d{1,9}", value.strip()) or not low <= int(value) <= high:
        raise BadInput("value", name, f"{name} must be an integer from {low} to {high}")
    return int(value)


def _ordered(idp: Instance, users: list[User]) -> list[User]:
    order_by = request.args.get("order_by", "-created_at").strip()
    descending = order_by.startswith("-")
    field = order_by.lstrip("+-")
    if field not in _ORDER:
        raise BadInput("value", "order_by", f"order_by cannot be {order_by[:40]!r}")
    last = _last_active(idp)
    key = _ORDER[field]
    users = sorted(users, key=lambda u: u.id, reverse=descending)
    return sorted(users, key=lambda u: key(u, last), reverse=descending)


@bapi_users.get("/users")
def list_users() -> Response:
    """A page of users (a bare array), filtered, ordered (``-created_at``), ``limit``
    (1–500, 10) from ``offset``."""
    idp = current_idp()
    try:
        limit = _bounded("limit", 10, 1, 500)
        offset = _bounded("offset", 0, 0, 10**9)
        users = _ordered(idp, _selected(idp))
    except BadInput as exc:
        return _refused(exc)
    last = _last_active(idp)
    return jsonify([clerk_user(u, last.get(u.id)) for u in users[offset : offset + limit]])


@bapi_users.get("/users/count")
def count_users() -> Response:
    """``{"object": "total_count", "total_count": n}`` for the same filters."""
    try:
        total = len(_selected(current_idp()))
    except BadInput as exc:
        return _refused(exc)
    return jsonify(object="total_count", total_count=total)


# -- one user -------------------------------------------------------------------------------


def _found(user_id: str) -> User | Response:
    user = current_idp().store.users.get(user_id)
    if user is None:
        return clerk_error(404, "resource_not_found", "not found", "Resource not found")
    return user


def _answer(user: User) -> Response:
    idp = current_idp()
    return jsonify(clerk_user(user, _last_active(idp).get(user.id)))


def _body(kinds: Mapping[str, Kind]) -> tuple[dict[str, Any], set[str]]:
    """The checked fields of the JSON body, and the no-effect flags set to true."""
    body = request_object()
    if body is None:
        raise BadInput("type", "body", "the request body must be a JSON object")
    fields = checked(body, kinds, _NO_EFFECT)
    flags = {name for name in _NO_EFFECT if body.get(name) is True}
    if fields.get("password") is not None:
        check_password(fields["password"], skip_checks="skip_password_checks" in flags)
    check_username(fields.get("username"))
    return fields, flags


@bapi_users.post("/users")
def create_user() -> Response:
    """A new user: one ``email_address``, a ``password`` (unless
    ``skip_password_requirement``), names, metadata, ``banned``."""
    idp = current_idp()
    try:
        fields, flags = _body(_CREATE)
        emails = fields.pop("email_address", [])
        if len(emails) != 1:
            raise BadInput("missing", "email_address", "give exactly one email_address")
        email = check_email(emails[0])
        password = fields.pop("password", None)
        if password is None:
            if "skip_password_requirement" not in flags:
                raise BadInput("missing", "password", "password is missing")
            password = secrets.token_urlsafe(24)  # nobody knows it: no password sign-in
        with idp.store.lock:
            check_unique(idp, None, email, fields.get("username"))
            user = idp.store.add_user(email, password, **fields)
    except BadInput as exc:
        return _refused(exc)
    idp.save()
    return _answer(user)


@bapi_users.get("/users/<path:user_id>")
def get_user(user_id: str) -> Response:
    user = _found(user_id)
    return user if isinstance(user, Response) else _answer(user)


@bapi_users.patch("/users/<path:user_id>")
def update_user(user_id: str) -> Response:
    """Replace the given fields (metadata objects too); a new ``password`` with
    ``sign_out_of_other_sessions`` ends the user's sessions."""
    idp = current_idp()
    user = _found(user_id)
    if isinstance(user, Response):
        return user
    try:
        fields, flags = _body(_UPDATE)
        primary = fields.pop("primary_email_address_id", user.email_id)
        if primary != user.email_id:
            raise BadInput("value", "primary_email_address_id", "no such email address")
        with idp.store.lock:
            check_unique(idp, user.id, None, fields.get("username"))
            _apply(idp, user, fields, sign_out="sign_out_of_other_sessions" in flags)
    except BadInput as exc:
        return _refused(exc)
    idp.save()
    return _answer(user)


def _apply(idp: Instance, user: User, fields: dict[str, Any], *, sign_out: bool) -> None:
    password = fields.pop("password", None)
    if password is not None:
        idp.store.set_password(user, password)
        if sign_out:
            end_sessions(idp, user.id, "ended")
    for name, value in fields.items():
        setattr(user, name, value)
    user.updated_at = time.time()


@bapi_users.patch("/users/<path:user_id>/metadata")
def update_metadata(user_id: str) -> Response:
    """Deep-merge ``public_metadata``/``private_metadata``/``unsafe_metadata``; ``null``
    removes a key."""
    idp = current_idp()
    user = _found(user_id)
    if isinstance(user, Response):
        return user
    try:
        fields, _ = _body(_METADATA)
    except BadInput as exc:
        return _refused(exc)
    with idp.store.lock:
        for name, patch in fields.items():
            setattr(user, name, deep_merge(getattr(user, name), patch))
        user.updated_at = time.time()
    idp.save()
    return _answer(user)


@bapi_users.delete("/users/<path:user_id>")
def delete_user(user_id: str) -> Response:
    """Delete the user, end their sessions and memberships."""
    idp = current_idp()
    with idp.store.lock:
        user = _found(user_id)
        if isinstance(user, Response):
            return user
        delete_from_store(idp, user)
    idp.save()
    return jsonify(object="user", id=user_id, deleted=True)
