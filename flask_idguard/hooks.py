"""The ``before_request`` hook :class:`~flask_idguard.IdGuard` registers, made for the app.

It runs on every request, so it is a closure over what it reads (no attribute look-ups
through the per-app state, and Flask's per-request ``ensure_sync`` inspection of a plain
function is the cheapest). A request whose decision is already made is answered with a few
look-ups in the WSGI environ:

- an app of bearer-token providers only: no ``Authorization`` header, or a bearer token one
  of them verified moments ago (:meth:`TokenProvider.cached_state
  <flask_idguard.providers.token.TokenProvider.cached_state>`);
- an app with a cookie provider (Clerk): a request without ``Authorization`` or ``DPoP``
  header that it decided moments ago (:meth:`Provider.remembered
  <flask_idguard.providers.base.Provider.remembered>`).

A ``Host`` header not yet found valid takes the general path, :meth:`IdGuardState.before_request
<flask_idguard.app_state.IdGuardState.before_request>`, which checks it first; a request
without a remembered decision is decided by the providers. A remembered decision is signed
in, with no response header, redirect or refusal (both providers' methods promise it), so
the hook announces it (the signals) and keeps it on ``g`` itself; any other state is
settled by :meth:`IdGuardState.settle <flask_idguard.app_state.IdGuardState.settle>`.

Measured against the general path as the hook (``docs/performance.rst``): about 1 µs less
per request with a repeated bearer token, and without a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from flask import Response

from .app_state import BEARER_PREFIXES
from .app_state import G_KEY
from .app_state import NO_TOKEN
from .app_state import IdGuardState
from .app_state import current_g
from .app_state import current_request
from .providers.base import Provider
from .signals import request_authenticated
from .state import AuthState

__all__ = ["Hook", "Recall", "before_request_hook"]

Hook = Callable[[], Response | None]


#: What a hook reads a remembered decision with: the WSGI environ in, a state that needs
#: nothing more than keeping (signed in, or :data:`~.app_state.NO_TOKEN`) or None out.
Recall = Callable[[Mapping[str, Any]], AuthState | None]


def before_request_hook(state: IdGuardState) -> Hook:
    """The ``before_request`` hook for the app whose state is ``state``."""
    if state.header_only:
        return _hook(state, _bearer_recall(state))
    if state.cookie_provider is not None:
        return _hook(state, _cookie_recall(state.cookie_provider))
    general = state.before_request

    def before_request() -> Response | None:  # a function: Flask inspects a method further
        return general()

    return before_request


def _hook(state: IdGuardState, recall: Recall) -> Hook:
    """A hook answering what ``recall`` finds, after the ``Host`` check; the general path
    for a ``Host`` header not yet found valid, the providers for anything else."""
    good_hosts, general, decide = state.good_hosts, state.before_request, state.decide
    settle, announce = state.settle, state.announce

    def before_request() -> Response | None:
        req = current_request()
        environ = req.environ
        if environ.get("HTTP_HOST") not in good_hosts:
            return general()  # checks the Host header (a valid one is remembered)
        found = recall(environ)
        if found is None:
            return settle(decide(req))
        # No headers, redirect or refusal; a missing token is not announced.
        if found.status == "signed-in" and request_authenticated.receivers:
            announce(found)
        current_g().__dict__[G_KEY] = found
        return None

    return before_request


def _bearer_recall(state: IdGuardState) -> Recall:
    """Bearer-token providers only, tokens from the ``Authorization`` header only: no header,
    or a bearer token one of them verified moments ago."""
    token_providers = state.token_providers

    def recall(environ: Mapping[str, Any]) -> AuthState | None:
        header = environ.get("HTTP_AUTHORIZATION")
        if header is None:
            return NO_TOKEN
        if header[:7] in BEARER_PREFIXES and "HTTP_DPOP" not in environ:
            token, now = header[7:], time.time()
            for provider in token_providers:
                hit = provider.cached_state(token, now)
                if hit is not None:
                    return hit
        return None

    return recall


def _cookie_recall(cookies: Provider) -> Recall:
    """A cookie provider (Clerk), maybe with token providers after it: a request without
    ``Authorization`` or ``DPoP`` header that it decided moments ago."""

    def recall(environ: Mapping[str, Any]) -> AuthState | None:
        if "HTTP_AUTHORIZATION" in environ or "HTTP_DPOP" in environ:
            return None
        return cookies.remembered(environ, time.time())

    return recall
