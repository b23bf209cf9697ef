"""The Auth0 Management API's users (``/api/v2/users…``): what ``Auth0ManagementClient`` and
``auth0-python``'s ``users`` client call, authenticated by a Management API token from
``/oauth/token`` (:func:`.auth0.management_token`).

Store users are Auth0 users as :mod:`.users_json` maps them (``auth0|<id>``,
``app_metadata`` = ``public_metadata``, ``user_metadata`` = ``unsafe_metadata``). The
search (``q``) is a subset of Auth0's Lucene syntax: ``field:value`` terms (quoted or
with a trailing ``*``) joined by ``AND`` or ``OR``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from flask import Blueprint
from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from .auth0 import management_error
from .auth0 import management_token
from .store import User
from .users_json import AUTH0_CONNECTION
from .users_json import AUTH0_PREFIX
from .users_json import BadInput
from .users_json import Kind
from .users_json import auth0_user
from .users_json import check_email
from .users_json import check_password
from .users_json import check_unique
from .users_json import check_username
from .users_json import checked
from .users_json import delete_from_store
from .users_json import request_object
from .users_json import top_level_merge
from .web import current_idp

if TYPE_CHECKING:
    from .instance import Instance

__all__ = ["auth0_matches", "auth0_search", "auth0_users"]

auth0_users = Blueprint("auth0_users", __name__, url_prefix="/api/v2")

_FIELDS: dict[str, Kind] = {
    "connection": "str",
    "email": "str",
    "password": "str",
    "username": "str",
    "given_name": "str",
    "family_name": "str",
    "app_metadata": "object",
    "user_metadata": "object",
    "blocked": "bool",
}
#: Verification emails and flags: accepted, nothing is sent or changed.
_NO_EFFECT = ("email_verified", "verify_email", "verify_password")
#: Auth0 field → store field.
_STORE_NAMES = {
    "email": "email",
    "username": "username",
    "given_name": "first_name",
    "family_name": "last_name",
    "blocked": "banned",
}
#: The fields set on a new user besides its email and password.
_PROFILE = ("username", "given_name", "family_name", "blocked")
#: Auth0 pages through the first 1000 users of a query only.
PAGINATION_CAP = 1000


def _refused(exc: BadInput) -> Response:
    if exc.problem == "taken":
        return management_error(409, "The user already exists.", "auth0_idp_error")
    if exc.problem == "password":
        return management_error(400, f"PasswordStrengthError: {exc.message}", "invalid_body")
    return management_error(400, f"Payload validation error: {exc.message}", "invalid_body")


def _query_error(message: str) -> Response:
    return management_error(400, f"Query validation error: {message}", "invalid_query_string")


# -- search -----------------------------------------------------------------------------------

_TERM = re.compile(r'(?:([A-Za-z_][\w.]*):)?("(?:[^"\\]|\\.)*"|[^\s"()]+)\s*')
_UNSUPPORTED = re.compile(r"[()\[\]{}]|(?:^|\s)(?:NOT|TO)\s|(?:^|\s)[-+!]")
Clauses = list[list[tuple[str | None, str]]]


def auth0_search(q: str) -> Clauses:
    """``q`` as clauses joined by ``OR``, each a list of ``(field, value)`` terms joined by
    ``AND`` (or a space): ``email:"a@b.test"``, ``name:jo*``, ``app_metadata.plan:pro``, a
    bare word (email, name, username, nickname, user_id). Groups, ranges and negation are
    refused.

    :raises BadInput: for a query outside that subset.
    """
    if len(q) > 2048 or _UNSUPPORTED.search(q):
        raise BadInput("value", "q", "q supports field:value terms joined by AND and OR only")
    clauses: Clauses = []
    for clause in re.split(r"\s+OR\s+", q.strip()):
        text = re.sub(r"\s+AND\s+", " ", clause)
        terms: list[tuple[str | None, str]] = []
        position = 0
        while position < len(text):
            match = _TERM.match(text, position)
            if match is None:
                raise BadInput("value", "q", f"cannot parse q near {text[position:][:20]!r}")
            terms.append((match.group(1), match.group(2)))
            position = match.end()
        if terms:
            clauses.append(terms)
    return clauses


def _values(data: object, path: list[str]) -> list[object]:
    """The values at a dotted path; a list on the way fans out (``identities.provider``)."""
    if isinstance(data, list):
        return [v for item in data for v in _values(item, path)]
    if not path:
        return [data]
    if not isinstance(data, dict) or path[0] not in data:
        return []
    return _values(data[path[0]], path[1:])


def _matches(value: object, pattern: str) -> bool:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | int):
        text = str(value)
    else:
        return False
    text, pattern = text.lower(), pattern.lower()
    if pattern.endswith("*"):
        return text.startswith(pattern[:-1])
    return text == pattern


def _term(user: Mapping[str, Any], field: str | None, raw: str) -> bool:
    pattern = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
    fields = [field] if field else ["email", "name", "username", "nickname", "user_id"]
    return any(_matches(v, pattern) for f in fields for v in _values(user, f.split(".")))


def auth0_matches(user: Mapping[str, Any], clauses: Clauses) -> bool:
    """Whether an Auth0 user object satisfies :func:`auth0_search`'s clauses (none: all)."""
    return not clauses or any(all(_term(user, f, v) for f, v in terms) for terms in clauses)


# -- list -----------------------------------------------------------------------------------


def _int(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not re.fullmatch(r"\d{1,9}", value) or not low <= int(value) <= high:
        raise BadInput("value", name, f"{name} must be an integer from {low} to {high}")
    return int(value)


def _shown(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``fields`` (comma-separated) kept, or left out with ``include_fields=false``."""
    names = {f.strip() for f in request.args.get("fields", "").split(",") if f.strip()}
    if not names:
        return users
    include = request.args.get("include_fields", "true") != "false"
    return [{k: v for k, v in u.items() if (k in names) == include} for u in users]


def _sorted(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By ``sort`` (``field:1`` ascending, ``field:-1`` descending), else by creation."""
    field, _, order = request.args.get("sort", "created_at:1").partition(":")
    if order not in ("1", "-1") or not re.fullmatch(r"[A-Za-z_][\w.]{0,63}", field):
        raise BadInput("value", "sort", "sort must be field:1 or field:-1")
    users = sorted(users, key=lambda u: str(u.get("user_id")))
    return sorted(users, key=lambda u: str(u.get(field, "")), reverse=order == "-1")


@auth0_users.get("/users")
def list_users() -> Response:
    """A page of users (``page``, ``per_page`` up to 100), as a bare list or, with
    ``include_totals=true``, ``{start, limit, length, total, users}``."""
    denied = management_token("read:users")
    if denied is not None:
        return denied
    try:
        page = _int("page", 0, 0, PAGINATION_CAP)
        per_page = _int("per_page", 50, 1, 100)
        if request.args.get("search_engine", "v3") not in ("v1", "v2", "v3"):
            raise BadInput("value", "search_engine", "search_engine must be v1, v2 or v3")
        clauses = auth0_search(request.args.get("q", ""))
        everyone = [auth0_user(u) for u in list(current_idp().store.users.values())]
        users = _sorted([u for u in everyone if auth0_matches(u, clauses)])
    except BadInput as exc:
        return _query_error(exc.message)
    start = page * per_page
    if start >= PAGINATION_CAP:
        return management_error(
            400, "You can only page through the first 1000 records.", "invalid_paging"
        )
    chosen = _shown(users[start : start + per_page])
    if request.args.get("include_totals") == "true":
        return jsonify(
            start=start, limit=per_page, length=len(chosen), total=len(users), users=chosen
        )
    return jsonify(chosen)


# -- one user -------------------------------------------------------------------------------


def _found(user_id: str) -> User | Response:
    store_id = user_id.removeprefix(AUTH0_PREFIX)
    user = current_idp().store.users.get(store_id) if user_id.startswith(AUTH0_PREFIX) else None
    if user is None:
        return management_error(404, "The user does not exist.", "inexistent_user")
    return user


def _body() -> dict[str, Any]:
    body = request_object()
    if body is None:
        raise BadInput("type", "body", "the body must be a JSON object")
    fields = checked(body, _FIELDS, _NO_EFFECT)
    if fields.get("connection") not in (None, AUTH0_CONNECTION):
        raise BadInput("value", "connection", "The connection does not exist.")
    if fields.get("email") is not None:
        fields["email"] = check_email(fields["email"])
    if fields.get("password") is not None:
        check_password(fields["password"])
    check_username(fields.get("username"))
    return fields


@auth0_users.get("/users/<path:user_id>")
def get_user(user_id: str) -> Response:
    denied = management_token("read:users")
    if denied is not None:
        return denied
    user = _found(user_id)
    return user if isinstance(user, Response) else jsonify(_shown([auth0_user(user)])[0])


@auth0_users.post("/users")
def create_user() -> Response:
    """A new user of the database connection: ``connection``, ``email`` and ``password``
    required; names, ``username``, ``app_metadata``, ``user_metadata``, ``blocked``."""
    denied = management_token("create:users")
    if denied is not None:
        return denied
    idp = current_idp()
    try:
        fields = _body()
        for required in ("connection", "email", "password"):
            if fields.get(required) is None:
                raise BadInput("missing", required, f"Missing required property: {required}")
        with idp.store.lock:
            check_unique(idp, None, fields["email"], fields.get("username"))
            user = idp.store.add_user(
                fields["email"],
                fields["password"],
                **{_STORE_NAMES[k]: v for k, v in fields.items() if k in _PROFILE},
                public_metadata=fields.get("app_metadata", {}),
                unsafe_metadata=fields.get("user_metadata", {}),
            )
    except BadInput as exc:
        return _refused(exc)
    idp.save()
    response = jsonify(auth0_user(user))
    response.status_code = 201
    return response


@auth0_users.patch("/users/<path:user_id>")
def update_user(user_id: str) -> Response:
    """Set the given fields; ``app_metadata``/``user_metadata`` merge their top-level keys
    (``null`` removes one, ``{}`` clears them)."""
    denied = management_token("update:users", "update:users_app_metadata")
    if denied is not None:
        return denied
    idp = current_idp()
    user = _found(user_id)
    if isinstance(user, Response):
        return user
    try:
        fields = _body()
        if not fields:
            raise BadInput("missing", "body", "Too few properties defined (0), minimum 1")
        with idp.store.lock:
            check_unique(idp, user.id, fields.get("email"), fields.get("username"))
            _apply(idp, user, fields)
    except BadInput as exc:
        return _refused(exc)
    idp.save()
    return jsonify(auth0_user(user))


def _apply(idp: Instance, user: User, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name in _STORE_NAMES and (value is not None or name not in ("email", "blocked")):
            setattr(user, _STORE_NAMES[name], value)
    if fields.get("password") is not None:
        idp.store.set_password(user, fields["password"])
    for auth0_name, store_name in (
        ("app_metadata", "public_metadata"),
        ("user_metadata", "unsafe_metadata"),
    ):
        if auth0_name in fields:
            setattr(
                user, store_name, top_level_merge(getattr(user, store_name), fields[auth0_name])
            )
    user.updated_at = time.time()


@auth0_users.delete("/users/<path:user_id>")
def delete_user(user_id: str) -> Response:
    """Delete the user (``204``); their sessions end and memberships go."""
    denied = management_token("delete:users")
    if denied is not None:
        return denied
    idp = current_idp()
    with idp.store.lock:
        user = _found(user_id)
        if isinstance(user, Response):
            return user
        delete_from_store(idp, user)
    idp.save()
    return Response(status=204)
