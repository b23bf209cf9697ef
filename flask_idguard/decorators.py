"""View decorators. Each works bare or called, on sync and async views; ``OPTIONS`` is exempt."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from functools import wraps
from typing import Any
from typing import Literal
from typing import TypeVar
from typing import overload
from urllib.parse import urlencode

from flask import Response
from flask import abort
from flask import after_this_request
from flask import current_app
from flask import g
from flask import redirect as redirect_response
from flask import request

from .app_state import G_KEY
from .app_state import RETYPES_ATTR
from .app_state import app_state
from .app_state import current_request
from .auth import current_auth_state
from .core.jwt import json_equal
from .core.urls import without_params
from .errors import AuthenticationRequired
from .errors import IdGuardError
from .errors import InsufficientPermission
from .errors import InsufficientScope
from .errors import InvalidAuthScheme
from .errors import InvalidDPoPProof
from .errors import InvalidRequest
from .errors import InvalidToken
from .errors import ServiceUnavailable
from .errors import UseDPoPNonce
from .providers.clerk.machine import Accepts
from .providers.clerk.machine import accepts_value
from .signals import authentication_failed
from .signals import request_authenticated
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
Check = Callable[[AuthState], None]
logger = logging.getLogger("flask_idguard")


def _guard(*checks: Check, vary: bool = False, accepts: Accepts | None = None) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        is_async = inspect.iscoroutinefunction(view)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                if current_request().method != "OPTIONS":
                    if vary:
                        after_this_request(_vary)
                    state = current_auth_state()
                    if accepts is not None and state.retype is not None:
                        state = _accepting(state, accepts)
                    for check in checks:
                        check(state)
                if is_async:
                    return current_app.ensure_sync(view)(*args, **kwargs)
                return view(*args, **kwargs)
            except IdGuardError as exc:
                # The answer's challenge is this app's (realm, DPoP offers, metadata URL).
                if exc.challenge is None:
                    exc.challenge = app_state().challenge()
                raise

        if accepts is not None:
            setattr(wrapper, RETYPES_ATTR, True)  # the hook leaves the signals to this route
        return wrapper  # type: ignore[return-value]

    return decorator


def _accepting(state: AuthState, accepts: Accepts) -> AuthState:
    """The request decided again for a route accepting ``accepts`` (Clerk's ``acceptsToken``);
    the view's ``current_auth`` is that state."""
    retyped = state.retype(state, accepts) if state.retype is not None else state
    if retyped is not state:
        setattr(g._get_current_object(), G_KEY, retyped)
        if retyped.is_signed_in and request_authenticated.receivers:
            request_authenticated.send(app_state().app, state=retyped)
        elif retyped.failure not in (None, "missing") and authentication_failed.receivers:
            authentication_failed.send(app_state().app, state=retyped)
    return retyped


def _vary(response: Response) -> Response:
    """An optional-auth answer differs with and without credentials: caches must key on them.

    (A view that requires sign-in needs no ``Vary``: shared caches do not store answers to
    requests with ``Authorization`` (RFC 9111 §3.5), and its 401 is ``no-store``.)
    """
    vary = response.headers.get("Vary")
    if vary is None:
        response.headers["Vary"] = "Authorization"
    elif "authorization" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Authorization"
    return response


def _is_page_navigation() -> bool:
    """A browser loading a page: ``Sec-Fetch-Dest: document``, or HTML accepted first."""
    if request.method not in ("GET", "HEAD"):
        return False
    dest = request.headers.get("Sec-Fetch-Dest")
    if dest is not None:
        return dest == "document"
    return request.headers.get("Accept", "").lstrip().startswith("text/html")


def _sign_in_redirect(sign_in_url: str) -> str:
    url = request.url
    if "access_token" in request.args and app_state().settings.allow_query_token:
        url = without_params(url, ("access_token",))  # a token never goes to the sign-in page
    sep = "&" if "?" in sign_in_url else "?"
    return f"{sign_in_url}{sep}{urlencode({'redirect_url': url})}"


def _signed_in(redirect: bool) -> Check:
    def check(state: AuthState) -> None:
        if state.is_signed_in:
            return
        if state.failure == "unavailable":
            raise ServiceUnavailable(reason=state.reason)
        if state.failure == "invalid_request":
            raise InvalidRequest(state.message, reason=state.reason)
        if state.failure == "invalid_scheme":
            raise InvalidAuthScheme(state.message, reason=state.reason)
        if state.failure == "invalid_dpop_proof":
            raise InvalidDPoPProof(state.message, reason=state.reason)
        if state.failure == "use_dpop_nonce":
            raise UseDPoPNonce(state.message, reason=state.reason)
        sign_in_url = app_state().sign_in_url
        if redirect and sign_in_url and _is_page_navigation():
            response = redirect_response(_sign_in_redirect(sign_in_url), 302)
            response.headers["Cache-Control"] = "no-store"
            abort(response)
        if state.failure == "invalid_token":
            raise InvalidToken(state.message, reason=state.reason)
        raise AuthenticationRequired(reason=state.reason)

    return check


def _scope_list(scopes: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(scopes, str):
        items = tuple(scopes.split())
    elif isinstance(scopes, Iterable):
        items = tuple(scopes)
        if not all(isinstance(s, str) and s and not any(c.isspace() for c in s) for s in items):
            raise TypeError("'scopes' must be strings without whitespace")
    else:
        raise TypeError("'scopes' must be a string or a list of strings")
    if not items:
        raise ValueError("'scopes' must contain at least one scope")
    return items


def _scope_check(required: tuple[str, ...], match: Literal["any", "all"]) -> Check:
    def check(state: AuthState) -> None:
        have = state.scopes
        ok = (all if match == "all" else any)(s in have for s in required)
        if ok:
            return
        has_claim = "scope" in state.claims or "scp" in state.claims
        message = "Insufficient scope" if has_claim or have else "Missing 'scope' claim"
        raise InsufficientScope(message, scopes=required, reason="insufficient-scope")

    return check


def _optional(pass_invalid: bool) -> Check:
    """Let a request without credentials through; with ``pass_invalid``, any failure."""
    required = _signed_in(False)

    def check(state: AuthState) -> None:
        if state.is_signed_in or state.failure == "missing" or pass_invalid:
            return
        required(state)

    return check


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
    accepts = accepts_value(accepts_token)
    retype = None if accepts == "session_token" else accepts
    if pass_invalid and not optional:
        raise TypeError("pass_invalid=True needs optional=True")
    if optional:
        if scopes is not None:
            raise TypeError(
                "scopes cannot be combined with optional=True: check current_auth.scopes "
                "in the view, or use @scopes_include on a view that requires sign-in"
            )
        decorator = _guard(_optional(pass_invalid), vary=True, accepts=retype)
        return decorator(view) if view is not None else decorator
    checks: list[Check] = [_signed_in(redirect)]
    if scopes is not None:
        checks.append(_scope_check(_scope_list(scopes), "all"))
    decorator = _guard(*checks, accepts=retype)
    return decorator(view) if view is not None else decorator


def scopes_include(
    scopes: str | Iterable[str], *, match: Literal["any", "all"] = "all"
) -> Callable[[F], F]:
    """Require ``all`` (default) or ``any`` of ``scopes`` → 403 ``insufficient_scope``."""
    if match not in ("any", "all"):
        raise ValueError("match must be 'any' or 'all'")
    return _guard(_signed_in(True), _scope_check(_scope_list(scopes), match))


def has_permission(permission: str) -> Callable[[F], F]:
    """Require a permission (Clerk ``org_permissions``, Auth0 ``permissions``) → 403."""
    if not isinstance(permission, str) or not permission:
        raise TypeError("permission must be a non-empty string")

    def check(state: AuthState) -> None:
        if not state.has(permission=permission):
            raise InsufficientPermission(
                f"Missing permission '{permission}'", reason="missing-permission"
            )

    return _guard(_signed_in(True), check)


def has_role(role: str) -> Callable[[F], F]:
    """Require a role (Clerk ``org_role``, or a ``roles`` claim) → 403."""
    if not isinstance(role, str) or not role:
        raise TypeError("role must be a non-empty string")

    def check(state: AuthState) -> None:
        if not state.has(role=role):
            raise InsufficientPermission(f"Missing role '{role}'", reason="missing-role")

    return _guard(_signed_in(True), check)


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

    return _guard(_signed_in(True), check)


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

    return _guard(_signed_in(True), check)


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

    return _guard(_signed_in(True), check)
