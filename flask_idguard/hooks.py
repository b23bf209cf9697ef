"""The ``before_request`` hook :class:`~flask_idguard.IdGuard` registers, made for the app.

It runs on every request, so it is a closure over what it reads (no attribute look-ups
through the per-app state, and Flask's per-request ``ensure_sync`` inspection of a plain
function is the cheapest). A request whose decision is already made (:mod:`.recall`: a
bearer token verified moments ago or no credentials, a Clerk page view decided moments
ago) is answered with a few look-ups in the WSGI environ.

A ``Host`` header not yet found valid takes the general path, :meth:`IdGuardState.before_request
<flask_idguard.app_state.IdGuardState.before_request>`, which checks it first; a request
without a recalled decision is decided by the providers. A recalled state needs no response
header, redirect or refusal, so the hook announces it (the signals) and keeps it on ``g``
itself; any other state is settled by :meth:`IdGuardState.settle
<flask_idguard.app_state.IdGuardState.settle>`.

Measured against the general path as the hook (``docs/performance.rst``): about 1 µs less
per request with a repeated bearer token, and without a token.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from .app_state import G_KEY
from .app_state import IdGuardState
from .app_state import current_g
from .app_state import current_request
from .recall import Recall
from .signals import request_authenticated

__all__ = ["Hook", "before_request_hook"]

Hook = Callable[[], Response | None]


def before_request_hook(state: IdGuardState) -> Hook:
    """The ``before_request`` hook for the app whose state is ``state``."""
    recall = state.recall
    if recall is not None:
        return _hook(state, recall)
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
