"""Fixtures: a signing secret, deliveries signed by independent signers, an app receiving them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask import request

from flask_idguard import WebhookEvent
from flask_idguard import verified_webhook
from flask_idguard import verify_webhook

#: The secret Clerk's own test suite uses (packages/backend/src/__tests__/webhooks.test.ts).
SECRET = "whsec_" + base64.b64encode(b"test_signing_secret_32_chars_long").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another_signing_secret_32_chars!").decode()

#: A user.created delivery shaped as Clerk sends it.
USER_CREATED: dict[str, Any] = {
    "data": {
        "id": "user_29w83sxmDNGwOuEthce5gg56FcC",
        "object": "user",
        "first_name": "Example",
        "last_name": "Example",
        "email_addresses": [
            {
                "email_address": "example@example.org",
                "id": "idn_29w83yL7CwVlJXylYLxcslromF1",
                "object": "email_address",
            }
        ],
        "primary_email_address_id": "idn_29w83yL7CwVlJXylYLxcslromF1",
        "public_metadata": {},
        "created_at": 1654012591514,
        "updated_at": 1654012591835,
    },
    "event_attributes": {
        "http_request": {"client_ip": "0.0.0.0", "user_agent": "Mozilla/5.0 (Test)"}
    },
    "instance_id": "ins_123",
    "object": "event",
    "timestamp": 1654012591835,
    "type": "user.created",
}


def svix_sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """A signature made by the ``svix`` library, the one flask-idguard does not verify with."""
    from svix.webhooks import Webhook

    return Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, tz=UTC), body)


def hand_sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The signature as the Standard Webhooks spec defines it, computed here from scratch."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


Signer = Callable[[str, str, int, str], str]


def delivery(
    payload: Any = None,
    *,
    secret: str = SECRET,
    msg_id: str = "msg_2Lm9Tu6FQv0ZpS4k0pWmEhb1lZN",
    timestamp: int | None = None,
    sign: Signer = svix_sign,
) -> tuple[bytes, dict[str, str]]:
    """A body and the svix headers that sign it."""
    body = json.dumps(USER_CREATED if payload is None else payload)
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "svix-id": msg_id,
        "svix-timestamp": str(ts),
        "svix-signature": sign(secret, msg_id, ts, body),
        "content-type": "application/json",
    }
    return body.encode(), headers


def webhook_app(**config: Any) -> Flask:
    """An app with a webhook view in each form: the function, the decorator bare and called,
    an async view. Each answers what it got, and the body it can still read."""
    app = Flask("webhook-tests")
    app.config.update({"CLERK_WEBHOOK_SIGNING_SECRET": SECRET, **config})

    def answer(event: WebhookEvent) -> dict[str, Any]:
        return {
            "event": event.to_dict(),
            "id": event.id,
            "signed_at": event.signed_at,
            "body": request.get_data(as_text=True),
            "json_type": (request.get_json(silent=True) or {}).get("type"),
        }

    @app.post("/function")
    def function() -> Any:
        event = verify_webhook(request)
        assert verify_webhook(request) is event  # a second call: the same event, no replay
        return answer(event)

    @app.post("/bare")
    @verified_webhook
    def bare(event: WebhookEvent) -> Any:
        return answer(event)

    @app.post("/other-secret")
    @verified_webhook(signing_secret=OTHER_SECRET)
    def other(event: WebhookEvent) -> Any:
        return answer(event)

    @app.post("/async")
    @verified_webhook
    async def asynchronous(event: WebhookEvent) -> Any:
        return answer(event)

    return app


@pytest.fixture
def app() -> Flask:
    return webhook_app()
