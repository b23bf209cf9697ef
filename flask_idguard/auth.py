"""``current_auth``: the current request's :class:`~flask_idguard.AuthState`, as a proxy."""

from __future__ import annotations

from typing import cast

from flask import g
from flask import has_request_context
from werkzeug.local import LocalProxy

from .app_state import G_KEY
from .app_state import app_state
from .app_state import keep
from .clients.user import User
from .state import AuthState
from .state import install_user_lookup

__all__ = ["current_auth", "current_auth_state"]

_G_USER = "_idguard_user"


def current_auth_state() -> AuthState:
    """The current request's :class:`AuthState` (what ``current_auth`` proxies)."""
    ctx_g = g._get_current_object() if has_request_context() else None
    if ctx_g is None:
        raise RuntimeError(
            "current_auth is only available while handling a request. "
            "Use app.test_request_context() in tests."
        )
    state = ctx_g.__dict__.get(G_KEY)
    if state is None:  # the hook has not run (another hook answered first, a test context)
        state = app_state().auth_state()
        keep(ctx_g.__dict__, state)
    return cast(AuthState, state)


def _current_user(state: AuthState) -> User:
    """``current_auth.get_user()``: one users API call per request, the answer kept on ``g``;
    the client is the one of the provider that signed the request in."""
    user_id = state.user_id
    cached = g.get(_G_USER)
    if cached is not None and cached[0] == user_id:
        return cast(User, cached[1])
    assert user_id is not None
    user = app_state().users_clients.for_provider(state.provider).user(user_id)
    setattr(g, _G_USER, (user_id, user))
    return user


install_user_lookup(_current_user)

#: The :class:`AuthState` of the current request (a proxy; falsy when signed out).
current_auth: AuthState = cast(AuthState, LocalProxy(current_auth_state))
