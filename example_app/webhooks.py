"""The example app's Clerk webhooks: a verified receiver keeps a table of users in sync.

``POST /webhooks/clerk`` takes Clerk's events (``make demo``: the local identity provider sends
them; with real Clerk keys, point a Clerk Dashboard endpoint at it and set
``CLERK_WEBHOOK_SIGNING_SECRET``). ``/synced-users`` shows the table. A real app would write to
its database; this one keeps the rows in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import render_template

from flask_idguard import WebhookEvent
from flask_idguard import requires_auth
from flask_idguard import verified_webhook

__all__ = ["SyncedUsers", "synced_users", "webhooks"]

webhooks = Blueprint("webhooks", __name__)


@dataclass
class SyncedUser:
    id: str
    email: str = ""
    name: str = ""
    last_session_at: int | None = None
    #: organization slug → role.
    organizations: dict[str, str] = field(default_factory=dict)


class SyncedUsers:
    """The table the events keep: idempotent, since Clerk may deliver an event more than once."""

    def __init__(self) -> None:
        self.rows: dict[str, SyncedUser] = {}
        self._handled: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def apply(self, event: WebhookEvent) -> bool:
        """Apply ``event``; False when it was applied before (a retry of the same message)."""
        with self._lock:
            if event.id in self._handled:
                return False
            self._handled[event.id] = None
            if len(self._handled) > 10_000:
                self._handled.popitem(last=False)
            self._apply(event.type, event.data if isinstance(event.data, dict) else {})
            return True

    def _apply(self, kind: str, data: dict[str, Any]) -> None:
        if kind in ("user.created", "user.updated") and isinstance(data.get("id"), str):
            row = self.rows.setdefault(data["id"], SyncedUser(data["id"]))
            emails = data.get("email_addresses") or []
            primary = [e for e in emails if e.get("id") == data.get("primary_email_address_id")]
            row.email = (primary or emails or [{}])[0].get("email_address", "")
            names = (data.get("first_name"), data.get("last_name"))
            row.name = " ".join(n for n in names if n)
        elif kind == "user.deleted":
            self.rows.pop(data.get("id", ""), None)
        elif kind == "session.created":
            signed_in = self.rows.get(data.get("user_id", ""))
            if signed_in is not None:
                signed_in.last_session_at = data.get("created_at")
        elif kind.startswith("organizationMembership."):
            user_id = (data.get("public_user_data") or {}).get("user_id", "")
            slug = (data.get("organization") or {}).get("slug", "")
            row = self.rows.setdefault(user_id, SyncedUser(user_id))
            if kind.endswith(".deleted"):
                row.organizations.pop(slug, None)
            else:
                row.organizations[slug] = data.get("role", "")


def synced_users() -> SyncedUsers:
    """This app's table."""
    table: SyncedUsers = current_app.extensions.setdefault("example.synced_users", SyncedUsers())
    return table


@webhooks.post("/webhooks/clerk")
@verified_webhook
def clerk_webhook(event: WebhookEvent) -> Any:
    applied = synced_users().apply(event)
    return {"received": event.type, "applied": applied}


@webhooks.get("/synced-users")
@requires_auth
def synced() -> str:
    rows = sorted(synced_users().rows.values(), key=lambda r: r.email)
    return render_template("synced_users.html", rows=rows)
