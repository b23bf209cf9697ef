"""Decisions already made: how a request's state is found in the WSGI environ without
asking the providers (the request hook's fast path, and :meth:`IdGuardState.auth_state
<flask_idguard.app_state.IdGuardState.auth_state>`'s).

A recalled state needs nothing more than keeping: it is signed in with no response header,
redirect or refusal (what :meth:`TokenProvider.cached_state
<flask_idguard.providers.token.TokenProvider.cached_state>` and :meth:`Provider.remembered
<flask_idguard.providers.base.Provider.remembered>` promise), or :data:`NO_TOKEN`. The
``Host`` header is checked before any recall.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from .providers.base import Provider
from .providers.token import TokenProvider
from .state import AuthState

__all__ = ["BEARER_PREFIXES", "NO_TOKEN", "Recall", "bearer_recall", "cookie_recall"]

#: The state of a request without credentials.
NO_TOKEN = AuthState.signed_out("token-missing", "No token in the request.", failure="missing")
#: How a bearer ``Authorization`` header starts (RFC 6750 §2.1; the scheme is case-insensitive,
#: these two spellings are the ones worth a fast path).
BEARER_PREFIXES = ("Bearer ", "bearer ")

#: The WSGI environ in; a state that needs nothing more than keeping, or None out.
Recall = Callable[[Mapping[str, Any]], AuthState | None]


def bearer_recall(token_providers: tuple[TokenProvider, ...]) -> Recall:
    """Bearer-token providers only, tokens from the ``Authorization`` header only: no header,
    or a bearer token one of them verified moments ago."""

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


def cookie_recall(cookies: Provider) -> Recall:
    """A cookie provider (Clerk), maybe with token providers after it: a request without
    ``Authorization`` or ``DPoP`` header that it decided moments ago."""

    def recall(environ: Mapping[str, Any]) -> AuthState | None:
        if "HTTP_AUTHORIZATION" in environ or "HTTP_DPOP" in environ:
            return None
        return cookies.remembered(environ, time.time())

    return recall
