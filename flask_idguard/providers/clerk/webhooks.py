"""Clerk's webhooks: Svix-signed deliveries checked as ``@clerk/backend``'s ``verifyWebhook``.

Flask-free: headers and body bytes in, a :class:`WebhookEvent` or a :class:`WebhookError` out.
The signature itself is checked by the ``standardwebhooks`` library (the one Clerk's own
``verifyWebhook`` uses, in its JavaScript form); what is checked here first is what that library
would let through as an unexpected exception (malformed headers, a body that is not UTF-8) and
the replay of a delivery it would accept twice.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

__all__ = [
    "HEADERS",
    "MAX_BODY",
    "TOLERANCE",
    "WebhookError",
    "WebhookEvent",
    "WebhookVerifier",
    "signing_key",
]

#: The headers Clerk's ``verifyWebhook`` reads (Svix's names; the Standard Webhooks
#: ``webhook-*`` names are not read, as in Clerk's code).
HEADERS = ("svix-id", "svix-timestamp", "svix-signature")
#: Seconds a delivery's timestamp may be from now, either way (the library's fixed 5 minutes).
TOLERANCE = 300
#: The largest body read. Clerk's payloads are a few kilobytes (metadata is capped at 8 KB).
MAX_BODY = 1 << 20
#: More signatures than this in one header is not key rotation.
MAX_SIGNATURES = 16
_MAX_ID = 256
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v[0-9]{1,3},[A-Za-z0-9+/]{1,200}={0,2}")
_SECRET_PREFIX = "whsec_"


class WebhookError(ValueError):
    """A delivery that is refused: ``reason`` is stable, ``message`` says what is wrong."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class ReplayCache(Protocol):
    def add(self, key: str, ttl: float) -> bool: ...


#: What Clerk's ``verifyWebhook`` (``@clerk/backend`` 3.25) returns of the payload, besides
#: ``type`` and ``object``.
_RETURNED = ("data", "event_attributes", "timestamp", "instance_id")


@dataclass(frozen=True)
class WebhookEvent:
    """A verified delivery.

    ``type``, ``object`` (always ``"event"``), ``data``, ``event_attributes``, ``timestamp``
    (Clerk's, in milliseconds) and ``instance_id`` are what Clerk's ``verifyWebhook`` returns.
    Added: ``id`` (``svix-id``, the same on every retry of one message: the key for idempotent
    handling), ``signed_at`` (``svix-timestamp``, seconds) and the whole ``payload``.
    """

    id: str
    signed_at: int
    type: str
    data: Any = None
    object: str = "event"
    event_attributes: Any = None
    timestamp: Any = None
    instance_id: Any = None
    payload: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The event as Clerk's ``verifyWebhook`` returns it (absent members left out)."""
        out = {"type": self.type, "object": "event"}
        out.update({k: self.payload[k] for k in _RETURNED if k in self.payload})
        return out


def signing_key(secret: str) -> bytes:
    """The key of a ``whsec_…`` signing secret; ``ValueError`` naming the problem otherwise.

    Stricter than the library, which base64-decodes whatever it is given, skipping bad
    characters: a pasted secret with a typo would then verify nothing, silently.
    """
    value = secret.strip()
    if value.startswith(_SECRET_PREFIX):
        value = value[len(_SECRET_PREFIX) :]
    try:
        key = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "it must be the signing secret from the Clerk Dashboard (whsec_ and base64)"
        ) from None
    if len(key) < 16:
        raise ValueError("the key is too short (at least 16 bytes after whsec_)")
    return key


class WebhookVerifier:
    """Verifies deliveries signed with one secret.

    ``replay``, when given, remembers every accepted (``svix-id``, ``svix-timestamp``) pair for
    twice the tolerance, so the same signed delivery sent again is refused. Svix retries a
    failed delivery with the same id but a fresh timestamp and signature: retries pass, and
    handlers stay idempotent on :attr:`WebhookEvent.id`. Clerk's ``verifyWebhook`` remembers
    nothing.
    """

    def __init__(
        self,
        key: bytes,
        *,
        replay: ReplayCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from standardwebhooks import Webhook

        self._webhook = Webhook(key)
        self._replay = replay
        self._clock = clock

    def verify(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """The event ``body`` carries, if ``headers`` sign it; else :class:`WebhookError`."""
        msg_id, timestamp, signatures = _headers(headers)
        _check_time(int(timestamp), self._clock())
        if len(body) > MAX_BODY:
            raise WebhookError(
                "webhook-body-too-large", f"The body is over {MAX_BODY} bytes; refused unread."
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookError("webhook-body-invalid", "The body is not UTF-8.") from None
        self._check_signature(msg_id, timestamp, signatures, text)
        payload = _payload(text)
        if self._replay is not None and not self._replay.add(
            f"{msg_id}\n{timestamp}", 2 * TOLERANCE
        ):
            raise WebhookError(
                "webhook-replayed",
                f"This delivery (svix-id {msg_id}, svix-timestamp {timestamp}) was already "
                "accepted; a retry from Clerk carries a new timestamp.",
            )
        return WebhookEvent(
            id=msg_id,
            signed_at=int(timestamp),
            type=payload["type"],
            data=payload.get("data"),
            event_attributes=payload.get("event_attributes"),
            timestamp=payload.get("timestamp"),
            instance_id=payload.get("instance_id"),
            payload=payload,
        )

    def _check_signature(self, msg_id: str, timestamp: str, signatures: str, text: str) -> None:
        from standardwebhooks import WebhookVerificationError

        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": signatures,
        }
        try:
            self._webhook.verify(text, headers, json_parse=False)
        except WebhookVerificationError as exc:
            # "No matching signature found", or the library's own timestamp check.
            raise WebhookError(
                "webhook-signature-invalid", f"Unable to verify incoming webhook: {exc}"
            ) from None
        except ValueError:  # binascii.Error: a signature's base64 is cut short
            raise WebhookError(
                "webhook-signature-invalid",
                "Unable to verify incoming webhook: a signature in svix-signature is not base64.",
            ) from None


def _headers(headers: Mapping[str, str]) -> tuple[str, str, str]:
    """``svix-id``, ``svix-timestamp``, ``svix-signature``, trimmed and well-formed."""
    values = [(headers.get(name) or "").strip() for name in HEADERS]
    missing = [name for name, value in zip(HEADERS, values, strict=True) if not value]
    if missing:
        # Clerk's message, word for word.
        raise WebhookError(
            "webhook-headers-missing", f"Missing required webhook headers: {', '.join(missing)}"
        )
    msg_id, timestamp, signatures = values
    if len(msg_id) > _MAX_ID or not msg_id.isprintable():
        raise WebhookError("webhook-header-invalid", "svix-id is not a message id.")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookError(
            "webhook-header-invalid", "svix-timestamp must be whole seconds since the epoch."
        )
    entries = signatures.split(" ")
    if len(entries) > MAX_SIGNATURES:
        raise WebhookError(
            "webhook-header-invalid", f"svix-signature lists over {MAX_SIGNATURES} signatures."
        )
    if not all(_SIGNATURE.fullmatch(entry) for entry in entries):
        # Also a header sent twice: the server joins the two lines with ", ".
        raise WebhookError(
            "webhook-header-invalid",
            "svix-signature must be space-separated v1,<base64> signatures, sent once.",
        )
    if len(set(entries)) != len(entries):
        raise WebhookError("webhook-header-invalid", "svix-signature lists a signature twice.")
    return msg_id, timestamp, signatures


def _check_time(timestamp: int, now: float) -> None:
    if timestamp < now - TOLERANCE:
        raise WebhookError(
            "webhook-timestamp-too-old",
            f"Message timestamp too old: signed {int(now - timestamp)} s ago, over the "
            f"{TOLERANCE} s tolerance (a replay, or this server's clock is wrong).",
        )
    if timestamp > now + TOLERANCE:
        raise WebhookError(
            "webhook-timestamp-too-new",
            f"Message timestamp too new: {int(timestamp - now)} s ahead, over the "
            f"{TOLERANCE} s tolerance (is this server's clock wrong?).",
        )


def _payload(text: str) -> dict[str, Any]:
    """The signed JSON: an object whose ``type`` is a string (Clerk's event envelope)."""
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        raise WebhookError("webhook-payload-invalid", "The signed body is not JSON.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise WebhookError(
            "webhook-payload-invalid", "The signed body is not an event (an object with a type)."
        )
    return payload
