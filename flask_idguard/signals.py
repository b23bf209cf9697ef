"""Signals for observability (blinker). Senders are the Flask app; ``state`` is the AuthState.

Connect a receiver to count, log or trace outcomes without touching the views::

    from flask_idguard.signals import authentication_failed

    @authentication_failed.connect_via(app)
    def on_failure(app, state, **extra):
        metrics.increment("auth.failed", tags={"reason": state.reason})

Receivers run inside the request, before the view; keep them fast and never let
them raise (an exception propagates to the request).
"""

from __future__ import annotations

from blinker import Namespace

__all__ = ["authentication_failed", "request_authenticated"]

_signals = Namespace()

#: Sent once per request whose credentials were verified (``state.is_signed_in``).
request_authenticated = _signals.signal("idguard.request-authenticated")

#: Sent once per request that carried credentials which were refused: an invalid or
#: malformed token (``state.failure`` ``invalid_token`` / ``invalid_request``) or keys that
#: cannot be had (``unavailable``). Not sent for requests without credentials.
authentication_failed = _signals.signal("idguard.authentication-failed")
