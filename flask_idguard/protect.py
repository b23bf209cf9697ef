"""Protecting a blueprint or a whole app (``idguard.protect``), the views that opt out
(:func:`public`), and finding decorators stacked above ``@app.route`` (which protect nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from typing import TypeVar

from flask import Flask
from flask import current_app
from flask import request

from .checks import kept_signed_in
from .checks import requirement
from .checks import run_checks
from .decorators import GUARDED

__all__ = ["Protection", "misplaced_guards", "public"]

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("flask_idguard")

_PUBLIC = "_idguard_public"
#: Always reachable under a protected app: RFC 9728 metadata is for clients not signed in.
_ALWAYS_PUBLIC = frozenset({"idguard_resource_metadata"})


def public(view: F) -> F:
    """Let ``view`` through :meth:`IdGuard.protect <flask_idguard.IdGuard.protect>`.

    Above or below ``@app.route`` alike: it marks the function, it does not wrap it.
    """
    setattr(view, _PUBLIC, True)
    return view


class Protection:
    """A ``before_request`` hook requiring sign-in as :func:`~flask_idguard.requires_auth`
    with the same options, except on :func:`public` views and ``exempt`` endpoints.

    A request that matches no route (a 404 to be) is protected too, as Express middleware
    is: a signed-out client does not learn which URLs exist.
    """

    def __init__(self, *, exempt: Iterable[str] = ("static",), **options: Any) -> None:
        if isinstance(exempt, str):
            raise TypeError("exempt must be a list of endpoint names, not a string")
        self.requirement = requirement(**options)
        self.exempt = frozenset(exempt) | _ALWAYS_PUBLIC

    def __call__(self) -> None:
        endpoint = request.endpoint
        if endpoint is not None:
            if endpoint in self.exempt:
                return
            if getattr(current_app.view_functions.get(endpoint), _PUBLIC, False):
                return
        checks, vary, accepts, sign_in_only = self.requirement
        if not (sign_in_only and kept_signed_in()):
            run_checks(checks, vary=vary, accepts=accepts)


def misplaced_guards(app: Flask) -> list[str]:
    """Endpoints whose view was wrapped by an IdGuard decorator *after* it was registered.

    ``@requires_auth`` above ``@app.route`` wraps the function once the route already holds
    the bare one: the view is served unprotected. Such a view is registered bare while none
    of its wrappers is registered (registering both on purpose is not reported).
    """
    registered = set(app.view_functions.values())
    found = []
    for endpoint, view in app.view_functions.items():
        try:
            wrappers = GUARDED.get(view)
        except TypeError:
            continue
        if wrappers and not any(w in registered for w in wrappers):
            found.append(endpoint)
    return sorted(found)


def warn_misplaced_once(app: Flask) -> Callable[[], None]:
    """A ``before_request`` hook (debug mode only) logging misplaced decorators once."""
    done: list[bool] = []

    def hook() -> None:
        if done:
            return
        done.append(True)
        for endpoint in misplaced_guards(app):
            logger.error(MISPLACED, endpoint)

    return hook


#: The log line (and the ``flask idguard check`` row) for a decorator above the route.
MISPLACED = (
    "IdGuard: the view %r is NOT protected: its IdGuard decorator is above @app.route (or "
    "@bp.route), so the route holds the bare function. Put @app.route first (outermost), the "
    "IdGuard decorators below it."
)
