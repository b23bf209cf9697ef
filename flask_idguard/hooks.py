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

Anything else, a ``Host`` header not yet found valid included, takes the general path,
:meth:`IdGuardState.before_request <flask_idguard.app_state.IdGuardState.before_request>`.
A remembered decision is signed in, with no response header, redirect or refusal (both
providers' methods promise it), so the hook announces it (the signals) and keeps it on ``g``
itself; any other state is settled by :meth:`IdGuardState.settle
<flask_idguard.app_state.IdGuardState.settle>`.

Measured against the general path as the hook (``docs/performance.rst``): about 1 µs less
per request with a repeated bearer token, and without a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Response

from .app_state import BEARER_PREFIXES
from .app_state import G_KEY
from .app_state import NO_TOKEN
from .app_state import IdGuardState
from .app_state import current_g
from .app_state import current_request
from .signals import request_authenticated

__all__ = ["Hook", "before_request_hook"]

Hook = Callable[[], Response | None]


def before_request_hook(state: IdGuardState) -> Hook:
    """The ``before_request`` hook for the app whose state is ``state``."""
    if state.header_only:
        return _bearer_hook(state)
    if state.cookie_provider is not None:
        return _cookie_hook(state)
    general = state.before_request

    def before_request() -> Response | None:  # a function: Flask inspects a method further
        return general()

    return before_request


def _bearer_hook(state: IdGuardState) -> Hook:
    """Bearer-token providers only, tokens from the ``Authorization`` header only."""
    good_hosts = state.good_hosts
    general, decide, settle = state.before_request, state.decide, state.settle
    announce = state.announce
    token_providers = state.token_providers

    def before_request() -> Response | None:
        req = current_request()
        environ = req.environ
        if environ.get("HTTP_HOST") not in good_hosts:
            return general()  # checks the Host header (a valid one is remembered)
        header = environ.get("HTTP_AUTHORIZATION")
        if header is None:  # nothing to announce (the signals skip a missing token), no headers
            current_g().__dict__[G_KEY] = NO_TOKEN
            return None
        if header[:7] in BEARER_PREFIXES and "HTTP_DPOP" not in environ:
            token, now = header[7:], time.time()
            for provider in token_providers:
                hit = provider.cached_state(token, now)
                if hit is not None:  # signed in, so no headers, redirect or refusal
                    if request_authenticated.receivers:
                        announce(hit)
                    current_g().__dict__[G_KEY] = hit
                    return None
        return settle(decide(req))

    return before_request


def _cookie_hook(state: IdGuardState) -> Hook:
    """A cookie provider (Clerk), maybe with token providers after it."""
    assert state.cookie_provider is not None
    good_hosts = state.good_hosts
    general, decide, settle = state.before_request, state.decide, state.settle
    announce, cookies = state.announce, state.cookie_provider

    def before_request() -> Response | None:
        req = current_request()
        environ = req.environ
        if environ.get("HTTP_HOST") not in good_hosts:
            return general()  # checks the Host header (a valid one is remembered)
        if "HTTP_AUTHORIZATION" not in environ and "HTTP_DPOP" not in environ:
            hit = cookies.remembered(environ, time.time())
            if hit is not None:  # signed in, so no headers, redirect or refusal
                if request_authenticated.receivers:
                    announce(hit)
                current_g().__dict__[G_KEY] = hit
                return None
        return settle(decide(req))

    return before_request
