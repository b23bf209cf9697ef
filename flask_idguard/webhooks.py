"""Clerk's webhooks in a Flask view: :func:`verify_webhook` and the :func:`verified_webhook`
decorator.

The signing secret is ``CLERK_WEBHOOK_SIGNING_SECRET`` (``app.config``, else the environment), read
when the first delivery arrives; a refused delivery is a 400 :class:`InvalidWebhook` with a JSON
body, never a 500. The body is read once (and kept: the view can still read ``request.data``);
the verified event is kept on ``g``, so a second call in one request answers the same event.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any
from typing import TypeVar
from typing import overload

from flask import Flask
from flask import current_app
from flask import g
from flask import request as current_request

from .config import ConfigReader
from .core.dpop.replay import InProcessReplayCache
from .core.dpop.replay import SharedReplayCache
from .errors import ConfigurationError
from .errors import IdGuardError
from .providers.clerk.webhooks import HEADERS
from .providers.clerk.webhooks import MAX_BODY
from .providers.clerk.webhooks import WebhookError
from .providers.clerk.webhooks import WebhookEvent
from .providers.clerk.webhooks import WebhookVerifier
from .providers.clerk.webhooks import signing_key

__all__ = ["InvalidWebhook", "WebhookEvent", "verified_webhook", "verify_webhook"]

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("flask_idguard")

_EXTENSION = "idguard.webhooks"
_G_KEY = "_idguard_webhook_event"
_lock = threading.Lock()


class InvalidWebhook(IdGuardError):
    """400 ``invalid_webhook``: a delivery whose signature, headers or body fail a check.

    Not an authentication challenge: no ``WWW-Authenticate``. The JSON body adds ``reason``
    (``webhook-signature-invalid``, ``webhook-timestamp-too-old``, ...).
    """

    code = 400
    error = "invalid_webhook"
    description = "Webhook verification failed."

    def challenges(self) -> list[str]:
        return []

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        return json.dumps(
            {
                "error": self.error,
                "error_description": self.description or "",
                "reason": self.reason,
            }
        )


def verify_webhook(request: Any = None, signing_secret: str | None = None) -> WebhookEvent:
    """The verified Clerk event the current request delivers (``request``, Flask's by default).

    ``signing_secret`` overrides ``CLERK_WEBHOOK_SIGNING_SECRET``. Raises :class:`InvalidWebhook`
    (400) for a delivery that fails a check, :class:`~flask_idguard.ConfigurationError` when no
    secret is configured.
    """
    req = current_request if request is None else request
    cached = g.get(_G_KEY)
    if isinstance(cached, WebhookEvent):
        return cached
    verifier = _verifier(signing_secret)
    try:
        body = _body(req)
        headers = {name: req.headers.get(name) or "" for name in HEADERS}
        event = verifier.verify(headers, body)
    except WebhookError as exc:
        logger.info("Webhook refused (%s): %s", exc.reason, exc.message)
        raise InvalidWebhook(exc.message, reason=exc.reason) from None
    setattr(g, _G_KEY, event)
    return event


@overload
def verified_webhook(view: F) -> F: ...
@overload
def verified_webhook(*, signing_secret: str | None = None) -> Callable[[F], F]: ...
def verified_webhook(
    view: F | None = None, *, signing_secret: str | None = None
) -> F | Callable[[F], F]:
    """Decorate a webhook view: it runs with the verified event as its ``event`` keyword
    argument; a refused delivery answers 400 before it runs. Works bare or called, on sync
    and async views."""

    def decorator(view: F) -> F:
        is_async = inspect.iscoroutinefunction(view)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs["event"] = verify_webhook(signing_secret=signing_secret)
            if is_async:
                return current_app.ensure_sync(view)(*args, **kwargs)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator(view) if view is not None else decorator


def _body(req: Any) -> bytes:
    """The raw body, read once and kept for the view (never parsed as a form)."""
    length = req.content_length
    if length is not None and length > MAX_BODY:
        raise WebhookError(
            "webhook-body-too-large", f"The body is over {MAX_BODY} bytes; refused unread."
        )
    data: bytes = req.get_data(cache=True, parse_form_data=False)
    return data


class _Webhooks:
    """One app's webhook settings: the verifier for its configured secret, its replay cache."""

    def __init__(self, app: Flask) -> None:
        reader = ConfigReader(app)
        cache = reader.raw("IDGUARD_CACHE")
        self.replay: Any = (
            SharedReplayCache(cache, prefix="idguard:webhook:")
            if cache is not None
            else InProcessReplayCache(size=10_000, what="webhook deliveries")
        )
        self.secret = reader.string("CLERK_WEBHOOK_SIGNING_SECRET")
        self.verifier = self.build(self.secret) if self.secret else None
        self._others: dict[str, WebhookVerifier] = {}

    def build(self, secret: str, name: str = "CLERK_WEBHOOK_SIGNING_SECRET") -> WebhookVerifier:
        try:
            key = signing_key(secret)
        except ValueError as exc:
            raise ConfigurationError(f"{name}: {exc}.") from None
        return WebhookVerifier(key, replay=self.replay)

    def for_secret(self, secret: str | None) -> WebhookVerifier:
        if secret is None or secret == self.secret:
            if self.verifier is None:
                # Clerk's message, with the config key this app can also use.
                raise ConfigurationError(
                    "Missing webhook signing secret. Set the CLERK_WEBHOOK_SIGNING_SECRET "
                    "environment variable (or app.config key) with the webhook secret from the "
                    "Clerk Dashboard."
                )
            return self.verifier
        verifier = self._others.get(secret)
        if verifier is None:
            verifier = self._others[secret] = self.build(secret, "signing_secret")
        return verifier


def _verifier(signing_secret: str | None) -> WebhookVerifier:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions.get(_EXTENSION)
    if state is None:
        with _lock:
            state = app.extensions.get(_EXTENSION)
            if state is None:
                state = app.extensions[_EXTENSION] = _Webhooks(app)
    verifier: WebhookVerifier = state.for_secret(signing_secret)
    return verifier
