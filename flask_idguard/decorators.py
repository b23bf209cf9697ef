"""View decorators. Each works bare or called, on sync and async views; ``OPTIONS`` is exempt."""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from functools import wraps
from typing import Any
from typing import Literal
from typing import TypeVar
from typing import overload

from flask import current_app

from .app_state import RETYPES_ATTR
from .checks import Check
from .checks import add_challenge
from .checks import kept_signed_in
from .checks import requirement
from .checks import run_checks
from .checks import scope_check
from .checks import scope_list
from .checks import signed_in
from .core.jwt import json_equal
from .errors import IdGuardError
from .errors import InsufficientPermission
from .errors import InvalidToken
from .providers.clerk.machine import Accepts
from .state import AuthState

__all__ = [
    "claim_check",
    "claim_equals",
    "claim_includes",
    "has_permission",
    "has_role",
    "requires_auth",
    "scopes_include",
]

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("flask_idguard")


#: Views wrapped by a decorator here, and their wrappers: a view registered bare while its
#: wrapper is registered nowhere had the decorator stacked above ``@app.route``
#: (:func:`~flask_idguard.protect.misplaced_guards`).
GUARDED: weakref.WeakKeyDictionary[Callable[..., Any], weakref.WeakSet[Callable[..., Any]]] = (
    weakref.WeakKeyDictionary()
)


def _guard(
    *checks: Check, vary: bool = False, accepts: Accepts | None = None, sign_in_only: bool = False
) -> Callable[[F], F]:
    """The decorator running ``checks`` (:func:`~flask_idguard.checks.run_checks`) before the
    view; with ``sign_in_only``, not for a request the hook found signed in."""

    def decorator(view: F) -> F:
        is_async = inspect.iscoroutinefunction(view)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                if not (sign_in_only and kept_signed_in()):
                    run_checks(checks, vary, accepts)
                if is_async:
                    return current_app.ensure_sync(view)(*args, **kwargs)
                return view(*args, **kwargs)
            except IdGuardError as exc:  # raised by the view itself, too
                add_challenge(exc)
                raise

        try:
            GUARDED.setdefault(view, weakref.WeakSet()).add(wrapper)
        except TypeError:  # a callable that cannot be weakly referenced: not tracked
            pass
        if accepts is not None:
            setattr(wrapper, RETYPES_ATTR, True)  # the hook leaves the signals to this route
        return wrapper  # type: ignore[return-value]

    return decorator


@overload
def requires_auth(view: F) -> F: ...
@overload
def requires_auth(
    view: None = None,
    *,
    scopes: str | Iterable[str] | None = None,
    redirect: bool = True,
    optional: bool = False,
    pass_invalid: bool = False,
    accepts_token: str | Iterable[str] = "session_token",
) -> Callable[[F], F]: ...
def requires_auth(
    view: F | None = None,
    *,
    scopes: str | Iterable[str] | None = None,
    redirect: bool = True,
    optional: bool = False,
    pass_invalid: bool = False,
    accepts_token: str | Iterable[str] = "session_token",
) -> F | Callable[[F], F]:
    """Require a verified token; with ``scopes``, all of them.

    Not signed in: a browser page navigation is redirected (302) to the sign-in URL
    with ``redirect_url`` when one is configured and ``redirect`` is true; any other
    request gets 401 with an RFC 6750 challenge (400 for a malformed
    ``Authorization`` header, 503 when the provider's keys cannot be loaded).

    ``optional=True``: a request without credentials runs the view, signed out; a bad
    token is still refused as above. ``pass_invalid=True`` (with ``optional``) lets every
    failure through to the view, which reads ``current_auth.reason`` (Auth0's
    ``authRequired: false``).

    ``accepts_token`` (Clerk): the token types the route accepts, as Clerk's
    ``acceptsToken``: ``"session_token"`` (the default), ``"api_key"``, ``"m2m_token"``,
    ``"oauth_token"``, a list of them, or ``"any"``. A machine token in the
    ``Authorization`` header is verified only on a route that accepts its type; any other
    type is refused with Clerk's ``token-type-mismatch`` (401). States of other providers
    are not filtered.
    """
    checks, vary, accepts, sign_in_only = requirement(
        scopes=scopes,
        redirect=redirect,
        optional=optional,
        pass_invalid=pass_invalid,
        accepts_token=accepts_token,
    )
    decorator = _guard(*checks, vary=vary, accepts=accepts, sign_in_only=sign_in_only)
    return decorator(view) if view is not None else decorator


def scopes_include(
    scopes: str | Iterable[str], *, match: Literal["any", "all"] = "all"
) -> Callable[[F], F]:
    """Require ``all`` (default) or ``any`` of ``scopes`` → 403 ``insufficient_scope``."""
    if match not in ("any", "all"):
        raise ValueError("match must be 'any' or 'all'")
    return _guard(signed_in(True), scope_check(scope_list(scopes), match))


def has_permission(permission: str) -> Callable[[F], F]:
    """Require a permission (Clerk ``org_permissions``, Auth0 ``permissions``) → 403."""
    if not isinstance(permission, str) or not permission:
        raise TypeError("permission must be a non-empty string")

    def check(state: AuthState) -> None:
        if not state.has(permission=permission):
            raise InsufficientPermission(
                f"Missing permission '{permission}'", reason="missing-permission"
            )

    return _guard(signed_in(True), check)


def has_role(role: str) -> Callable[[F], F]:
    """Require a role (Clerk ``org_role``, or a ``roles`` claim) → 403."""
    if not isinstance(role, str) or not role:
        raise TypeError("role must be a non-empty string")

    def check(state: AuthState) -> None:
        if not state.has(role=role):
            raise InsufficientPermission(f"Missing role '{role}'", reason="missing-role")

    return _guard(signed_in(True), check)


_Primitive = str | int | float | bool | None


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    if name not in claims:
        raise InvalidToken(f"Missing '{name}' claim", reason="claim-missing")
    return claims[name]


def claim_equals(name: str, value: _Primitive) -> Callable[[F], F]:
    """Require ``claims[name] == value`` (a JSON primitive) → 401 ``invalid_token``."""
    if not isinstance(value, (str, int, float, bool)) and value is not None:
        raise TypeError("'value' must be a JSON primitive (str, int, float, bool or None)")

    def check(state: AuthState) -> None:
        if not json_equal(_claim(state.claims, name), value):
            raise InvalidToken(f"Unexpected '{name}' value", reason="claim-mismatch")

    return _guard(signed_in(True), check)


def claim_includes(name: str, values: Iterable[_Primitive]) -> Callable[[F], F]:
    """Require the claim (a list, or a space-separated string) to contain all ``values``."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError("'values' must be a list of JSON primitives")
    wanted = tuple(values)
    if not wanted:
        raise ValueError("'values' must not be empty")
    for v in wanted:
        if not isinstance(v, (str, int, float, bool)) and v is not None:
            raise TypeError("'values' must contain JSON primitives only")

    def check(state: AuthState) -> None:
        actual = _claim(state.claims, name)
        if isinstance(actual, str):
            actual = actual.split(" ")
        if not isinstance(actual, list) or not all(
            any(json_equal(a, w) for a in actual) for w in wanted
        ):
            raise InvalidToken(f"Unexpected '{name}' value", reason="claim-mismatch")

    return _guard(signed_in(True), check)


def claim_check(
    fn: Callable[[Mapping[str, Any]], bool], *, error_message: str = "Invalid token claims"
) -> Callable[[F], F]:
    """Require ``fn(claims)`` to return True; an exception in ``fn`` counts as False."""
    if not callable(fn):
        raise TypeError("'fn' must be callable")

    def check(state: AuthState) -> None:
        try:
            ok = fn(state.claims) is True
        except Exception:
            logger.exception("claim_check function %r raised; treating as a failed check", fn)
            ok = False
        if not ok:
            raise InvalidToken(error_message, reason="claim-check-failed")

    return _guard(signed_in(True), check)
