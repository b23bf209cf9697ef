"""Webhooks from the local identity provider: Clerk's events, Svix-signed, sent to one URL.

After every request it serves (and on :meth:`WebhookSender.sync`), the provider compares its
users, sessions and organization memberships with what it last reported and queues an event
for each change: ``user.created`` / ``user.updated`` / ``user.deleted``, ``session.created`` /
``session.ended`` / ``session.removed`` / ``session.revoked``,
``organizationMembership.created`` / ``.updated`` / ``.deleted``. The seeded users count as
created: the first report sends them, so an app's synced table starts full.

One background thread delivers them in order with a short timeout, retrying a few times with
a fresh timestamp and signature (as Svix does) and then giving up with a log line: a receiver
that is down never slows or breaks the provider.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import asdict
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import has_request_context
from flask import request

from .store import new_id
from .users_json import clerk_user
from .users_json import millis

if TYPE_CHECKING:
    from .instance import Instance

__all__ = ["SENDER", "Delivery", "WebhookSender", "webhooks"]

logger = logging.getLogger("flask_idguard.devidp")

#: Seconds to wait between attempts of one delivery (Svix's schedule, much shortened). Each
#: attempt is also at least a second after the previous one: a retry carries a new timestamp,
#: so a receiver that refuses the same signed delivery twice takes it.
RETRY_DELAYS = (1.0, 3.0, 6.0)
#: Seconds a receiver has to connect, and to answer.
TIMEOUT = (2.0, 5.0)


#: The app extension that holds an identity provider's :class:`WebhookSender`.
SENDER = "devidp.webhooks"


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver an event: its status code, or the error that stopped it."""

    msg_id: str
    type: str
    attempt: int
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


Snapshot = dict[str, dict[Any, Any]]


class WebhookSender:
    """Queues and delivers ``instance``'s events to its ``config.webhook_url``, signed with its
    ``webhook_secret`` (nothing is sent without a URL)."""

    def __init__(self, instance: Instance) -> None:
        from standardwebhooks import Webhook

        self.instance = instance
        self._webhook = Webhook(instance.webhook_secret)
        self._last: Snapshot = {"users": {}, "sessions": {}, "memberships": {}}
        self._sync_lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, str, bytes] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        #: The last attempts, newest last (for tests and for a look when debugging).
        self.deliveries: deque[Delivery] = deque(maxlen=200)

    @property
    def url(self) -> str | None:
        return self.instance.config.webhook_url

    # what changed --------------------------------------------------------------------------

    def sync(self) -> list[dict[str, Any]]:
        """Queue an event for every change since the last report; the events queued."""
        if not self.url:
            return []
        with self._sync_lock:
            now = self._snapshot()
            events = self._changes(self._last, now)
            self._last = now
        for event in events:
            self._enqueue(event)
        return events

    def _snapshot(self) -> Snapshot:
        store = self.instance.store
        with store.lock:
            users = {u.id: asdict(u) for u in store.users.values()}
            for data in users.values():
                data.pop("last_sign_in_at")  # a sign-in is a session event
            sessions = {s.id: s.status for s in store.sessions.values()}
            members = {
                (o.id, user_id): role
                for o in store.organizations.values()
                for user_id, role in o.members.items()
            }
        return {"users": users, "sessions": sessions, "memberships": members}

    def _changes(self, old: Snapshot, new: Snapshot) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        store = self.instance.store
        for user_id, data in new["users"].items():
            before = old["users"].get(user_id)
            if before != data and user_id in store.users:
                kind = "user.created" if before is None else "user.updated"
                events.append(self._event(kind, clerk_user(store.users[user_id])))
        for (org_id, user_id), role in new["memberships"].items():
            before = old["memberships"].get((org_id, user_id))
            if before != role:
                kind = "created" if before is None else "updated"
                events.append(self._membership(kind, org_id, user_id, role))
        for key, role in old["memberships"].items():
            if key not in new["memberships"]:
                events.append(self._membership("deleted", key[0], key[1], role))
        for session_id, status in new["sessions"].items():
            before = old["sessions"].get(session_id)
            if before is None and status == "active":
                events.append(self._session("session.created", session_id))
            elif before == "active" and status in ("ended", "removed", "revoked"):
                events.append(self._session(f"session.{status}", session_id))
        for user_id in old["users"]:
            if user_id not in new["users"]:
                deleted = {"object": "user", "id": user_id, "deleted": True}
                events.append(self._event("user.deleted", deleted))
        return events

    # Clerk's payloads ------------------------------------------------------------------------

    def _event(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        if has_request_context():
            attributes["http_request"] = {
                "client_ip": request.remote_addr or "",
                "user_agent": request.user_agent.string,
            }
        return {
            "data": data,
            "event_attributes": attributes,
            "instance_id": self.instance.clerk_key.kid,
            "object": "event",
            "timestamp": millis(time.time()),
            "type": kind,
        }

    def _session(self, kind: str, session_id: str) -> dict[str, Any]:
        store = self.instance.store
        s = store.sessions[session_id]
        user = store.users.get(s.user_id)
        data = {
            "object": "session",
            "id": s.id,
            "client_id": s.client_id,
            "user_id": s.user_id,
            "status": s.status,
            "last_active_organization_id": s.org_id,
            "actor": None,
            "last_active_at": millis(s.last_active_at),
            "expire_at": millis(s.expire_at),
            "abandon_at": millis(s.expire_at),
            "created_at": millis(s.created_at),
            "updated_at": millis(time.time()),
            "user": clerk_user(user) if user is not None else None,
        }
        return self._event(kind, data)

    def _membership(self, kind: str, org_id: str, user_id: str, role: str) -> dict[str, Any]:
        store = self.instance.store
        org = store.organizations.get(org_id)
        user = store.users.get(user_id)
        now = millis(time.time())
        organization = {
            "object": "organization",
            "id": org_id,
            "name": org.name if org else "",
            "slug": org.slug if org else "",
            "image_url": "",
            "has_image": False,
            "members_count": len(org.members) if org else 0,
            "max_allowed_memberships": 0,
            "admin_delete_enabled": True,
            "public_metadata": {},
            "created_at": millis(org.created_at) if org else now,
            "updated_at": now,
        }
        data = {
            "object": "organization_membership",
            "id": f"orgmem_{org_id}_{user_id}",
            "role": role,
            "permissions": list(store.permissions(role)),
            "public_metadata": {},
            "created_at": now,
            "updated_at": now,
            "organization": organization,
            "public_user_data": {
                "user_id": user_id,
                "identifier": user.email if user else "",
                "first_name": user.first_name if user else None,
                "last_name": user.last_name if user else None,
                "image_url": "",
                "has_image": False,
            },
        }
        return self._event(f"organizationMembership.{kind}", data)

    # delivery --------------------------------------------------------------------------------

    def _enqueue(self, event: dict[str, Any]) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        self._queue.put((new_id("msg"), event["type"], body))
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="devidp-webhooks", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if not self._closed.is_set():
                    self._deliver(*item)
            except Exception:  # never let one event stop the others
                logger.exception("Webhook delivery failed")
            finally:
                self._queue.task_done()

    def _deliver(self, msg_id: str, kind: str, body: bytes) -> None:
        import requests

        last = 0
        for attempt, delay in enumerate((0.0, *self.retry_delays), start=1):
            if self._closed.wait(max(delay, last + 1 - time.time() if last else 0.0)):
                return
            now = datetime.now(tz=UTC)
            last = int(now.timestamp())
            headers = {
                "content-type": "application/json",
                "user-agent": "flask-idguard-devidp-webhooks",
                "svix-id": msg_id,
                "svix-timestamp": str(int(now.timestamp())),
                "svix-signature": self._webhook.sign(msg_id, now, body.decode()),
            }
            try:
                response = requests.post(str(self.url), data=body, headers=headers, timeout=TIMEOUT)
            except requests.RequestException as exc:
                self.deliveries.append(Delivery(msg_id, kind, attempt, None, str(exc)))
                continue
            self.deliveries.append(Delivery(msg_id, kind, attempt, response.status_code))
            if 200 <= response.status_code < 300:
                return
        logger.warning(
            "Webhook %s (%s) to %s not delivered after %d attempts.",
            msg_id, kind, self.url, len(self.retry_delays) + 1,
        )  # fmt: skip

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event is delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def close(self) -> None:
        """Stop the delivery thread; events still queued are dropped."""
        self._closed.set()
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)


#: Reports the changes each request made (registered by :func:`~.app.create_app`).
webhooks = Blueprint("devidp_webhooks", __name__)


@webhooks.after_app_request
def _report(response: Response) -> Response:
    sender: WebhookSender = current_app.extensions[SENDER]
    try:
        sender.sync()
    except Exception:  # the provider keeps answering whatever happens here
        logger.exception("Could not queue webhooks")
    return response
