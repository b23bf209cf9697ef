"""The checks behind the view decorators and :meth:`IdGuard.protect
<flask_idguard.IdGuard.protect>`: what :func:`~flask_idguard.requires_auth` requires with
given options (:func:`requirement`), and running it on the current request (:func:`run_checks`)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Literal
from typing import NamedTuple
from urllib.parse import urlencode

from flask import Response
from flask import abort
from flask import after_this_request
from flask import redirect as redirect_response
from flask import request

from .app_state import G_KEY
from .app_state import app_state
from .app_state import current_g
from .app_state import current_request
from .app_state import keep
from .app_state import send_signals
from .auth import current_auth_state
from .core.urls import without_params
from .errors import AuthenticationRequired
from .errors import IdGuardError
from .errors import InsufficientScope
from .errors import InvalidAuthScheme
from .errors import InvalidDPoPProof
from .errors import InvalidRequest
from .errors import InvalidToken
from .errors import ServiceUnavailable
from .errors import UseDPoPNonce
from .providers.clerk.machine import Accepts
from .providers.clerk.machine import accepts_value
from .state import AuthState

__all__ = [
    "Check",
    "Requirement",
    "add_challenge",
    "kept_signed_in",
    "requirement",
    "run_checks",
]

Check = Callable[[AuthState], None]


def kept_signed_in() -> bool:
    """Whether the state the hook kept for this request is signed in (this decides nothing:
    False when no state is kept yet)."""
    state = current_g().__dict__.get(G_KEY)
    return state is not None and state.status == "signed-in"


def run_checks(checks: Sequence[Check], vary: bool = False, accepts: Accepts | None = None) -> None:
    """Run ``checks`` on the current request's state; ``OPTIONS`` is exempt. With ``accepts``
    (Clerk's machine token types), the state is first decided again for what the route
    accepts.

    Raises the :class:`IdGuardError` a failed check calls for, with this app's challenge.
    """
    if current_request().method == "OPTIONS":
        return
    try:
        if vary:
            after_this_request(_vary)
        # In a request (its method was read): the hook's state, else current_auth's way.
        state = current_g().__dict__.get(G_KEY)
        if state is None:
            state = current_auth_state()
        if accepts is not None and state.retype is not None:
            state = _accepting(state, accepts)
        for check in checks:
            check(state)
    except IdGuardError as exc:
        add_challenge(exc)
        raise


def add_challenge(exc: IdGuardError) -> None:
    """The answer's challenge is this app's (realm, DPoP offers, metadata URL)."""
    if exc.challenge is None:
        exc.challenge = app_state().challenge()


def _accepting(state: AuthState, accepts: Accepts) -> AuthState:
    """The request decided again for a route accepting ``accepts`` (Clerk's ``acceptsToken``);
    the view's ``current_auth`` is that state."""
    retyped = state.retype(state, accepts) if state.retype is not None else state
    if retyped is not state:
        keep(current_g().__dict__, retyped)
        send_signals(app_state().app, retyped)
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


def signed_in(redirect: bool) -> Check:
    def check(state: AuthState) -> None:
        if state.status == "signed-in":  # is_signed_in, without a property call per request
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


def scope_list(scopes: str | Iterable[str]) -> tuple[str, ...]:
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


def scope_check(required: tuple[str, ...], match: Literal["any", "all"]) -> Check:
    def check(state: AuthState) -> None:
        have = state.scopes
        ok = (all if match == "all" else any)(s in have for s in required)
        if ok:
            return
        has_claim = "scope" in state.claims or "scp" in state.claims
        message = "Insufficient scope" if has_claim or have else "Missing 'scope' claim"
        raise InsufficientScope(message, scopes=required, reason="insufficient-scope")

    return check


def optional_sign_in(pass_invalid: bool) -> Check:
    """Let a request without credentials through; with ``pass_invalid``, any failure."""
    required = signed_in(False)

    def check(state: AuthState) -> None:
        if state.is_signed_in or state.failure == "missing" or pass_invalid:
            return
        required(state)

    return check


class Requirement(NamedTuple):
    """What :func:`requires_auth` checks with given options."""

    checks: tuple[Check, ...]
    #: Whether answers carry ``Vary: Authorization`` (optional sign-in).
    vary: bool
    #: The Clerk token types the route accepts besides session tokens, None for those only.
    accepts: Accepts | None
    #: Whether every signed-in state meets it (sign-in required; no scope, no other token
    #: type): the guards skip :func:`run_checks` for the signed-in state the hook kept.
    sign_in_only: bool


def requirement(
    *,
    scopes: str | Iterable[str] | None = None,
    redirect: bool = True,
    optional: bool = False,
    pass_invalid: bool = False,
    accepts_token: str | Iterable[str] = "session_token",
) -> Requirement:
    """The checks of :func:`requires_auth` with these options."""
    accepted = accepts_value(accepts_token)
    accepts = None if accepted == "session_token" else accepted
    if pass_invalid and not optional:
        raise TypeError("pass_invalid=True needs optional=True")
    if optional:
        if scopes is not None:
            raise TypeError(
                "scopes cannot be combined with optional=True: check current_auth.scopes "
                "in the view, or use @scopes_include on a view that requires sign-in"
            )
        return Requirement((optional_sign_in(pass_invalid),), True, accepts, False)
    checks: list[Check] = [signed_in(redirect)]
    if scopes is not None:
        checks.append(scope_check(scope_list(scopes), "all"))
    return Requirement(tuple(checks), False, accepts, scopes is None and accepts is None)
