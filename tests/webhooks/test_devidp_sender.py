"""The local identity provider sends Clerk's webhooks, and an app on verify_webhook takes them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from flask_idguard import WebhookEvent
from flask_idguard import verified_webhook
from flask_idguard.devidp import DevIdP
from flask_idguard.devidp import DevIdPConfig


class Receiver:
    """An app that records every verified event (and can be told to fail)."""

    def __init__(self, secret: str) -> None:
        self.events: list[WebhookEvent] = []
        #: Deliveries to answer with a 500 before taking them.
        self.fail = 0
        self.app = Flask("receiver")
        self.app.config["CLERK_WEBHOOK_SIGNING_SECRET"] = secret

        @self.app.post("/webhooks")
        @verified_webhook
        def hook(event: WebhookEvent) -> Any:
            if self.fail:
                self.fail -= 1
                return {"ok": False}, 500
            self.events.append(event)
            return {"ok": True}

    def types(self) -> list[str]:
        return [e.type for e in self.events]


@pytest.fixture
def idp() -> Iterator[DevIdP]:
    provider = DevIdP(DevIdPConfig())
    provider.webhooks.retry_delays = (0.05, 0.05)
    yield provider
    provider.webhooks.close()


@pytest.fixture
def receiver(idp: DevIdP, serve: Callable[[Flask], str]) -> Receiver:
    receiving = Receiver(idp.env()["CLERK_WEBHOOK_SIGNING_SECRET"])
    idp.config.webhook_url = serve(receiving.app) + "/webhooks"
    return receiving


def sync(idp: DevIdP) -> None:
    idp.webhooks.sync()
    assert idp.webhooks.flush(10)


def test_the_seeded_users_and_memberships_arrive_first(idp: DevIdP, receiver: Receiver) -> None:
    idp.app.test_client().get("/sign-in")  # any request reports what changed
    assert idp.webhooks.flush(10)
    users = {e.data["id"] for e in receiver.events if e.type == "user.created"}
    assert users == set(idp.store.users)
    memberships = [e for e in receiver.events if e.type == "organizationMembership.created"]
    assert len(memberships) == sum(len(o.members) for o in idp.store.organizations.values())
    m = memberships[0].data
    assert m["object"] == "organization_membership"
    assert m["organization"]["object"] == "organization"
    assert m["public_user_data"]["user_id"] in idp.store.users
    assert m["role"].startswith("org:")
    assert all(d.ok for d in idp.webhooks.deliveries)


def test_sign_up_sends_user_created_then_session_created(idp: DevIdP, receiver: Receiver) -> None:
    sync(idp)
    receiver.events.clear()
    form = {"email": "dora@example.test", "password": "dora-password", "first_name": "Dora"}
    idp.app.test_client().post("/sign-up", data=form)
    assert idp.webhooks.flush(10)
    assert receiver.types() == ["user.created", "session.created"]
    user, session = (e.data for e in receiver.events)
    assert user["object"] == "user"
    assert user["email_addresses"][0]["email_address"] == "dora@example.test"
    assert user["first_name"] == "Dora"
    assert session["object"] == "session"
    assert session["user_id"] == user["id"]
    assert session["status"] == "active"
    assert session["user"]["id"] == user["id"]
    event = receiver.events[0]
    assert event.object == "event"
    assert event.payload["instance_id"] == idp.clerk_key.kid
    assert event.event_attributes["http_request"]["client_ip"] == "127.0.0.1"


def test_backend_api_update_and_delete_send_user_updated_and_user_deleted(
    idp: DevIdP, receiver: Receiver
) -> None:
    sync(idp)
    receiver.events.clear()
    client = idp.app.test_client()
    auth = {"Authorization": f"Bearer {idp.secret_key}"}
    member_of = next(o for o in idp.store.organizations.values() if o.members)
    user_id = next(iter(member_of.members))
    r = client.patch(f"/v1/users/{user_id}", json={"first_name": "Renamed"}, headers=auth)
    assert r.status_code == 200, r.data
    assert client.delete(f"/v1/users/{user_id}", headers=auth).status_code == 200
    assert idp.webhooks.flush(10)
    types = receiver.types()
    assert types[0] == "user.updated"
    assert receiver.events[0].data["first_name"] == "Renamed"
    assert "organizationMembership.deleted" in types
    assert types[-1] == "user.deleted"
    assert receiver.events[-1].data == {"object": "user", "id": user_id, "deleted": True}


def test_sign_out_sends_session_ended(idp: DevIdP, receiver: Receiver) -> None:
    client = idp.app.test_client()
    seed_user = idp.seed.users[0]
    client.post("/sign-in", data={"email": seed_user.email, "password": seed_user.password})
    sync(idp)
    receiver.events.clear()
    for session in idp.store.sessions.values():
        idp.store.end_sessions(idp.store.clients[session.client_id])
    sync(idp)
    assert receiver.types() == ["session.ended"]


def test_each_change_is_sent_once_even_under_concurrent_requests(
    idp: DevIdP, receiver: Receiver
) -> None:
    client = idp.app.test_client()
    threads = [threading.Thread(target=client.get, args=("/sign-in",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert idp.webhooks.flush(10)
    ids = [e.data["id"] for e in receiver.events if e.type == "user.created"]
    assert sorted(ids) == sorted(idp.store.users)


def test_a_failing_receiver_gets_the_event_on_a_retry_with_a_fresh_timestamp(
    idp: DevIdP, receiver: Receiver
) -> None:
    sync(idp)
    receiver.events.clear()
    idp.webhooks.deliveries.clear()
    receiver.fail = 2
    user = next(iter(idp.store.users.values()))
    user.first_name = "Changed"
    sync(idp)
    assert [d.status for d in idp.webhooks.deliveries] == [500, 500, 200]
    assert len({d.msg_id for d in idp.webhooks.deliveries}) == 1  # one message, retried
    # The receiver refuses a delivery it already accepted; the retries were not refused,
    # since each carries a new timestamp.
    assert receiver.types() == ["user.updated"]


def test_a_receiver_that_is_down_never_slows_the_provider(idp: DevIdP) -> None:
    idp.config.webhook_url = "http://127.0.0.1:9/unreachable"  # discard port: refused
    idp.webhooks.retry_delays = ()  # one attempt each, so the queue drains at once
    started = time.monotonic()
    r = idp.app.test_client().get("/sign-in")
    assert r.status_code == 200
    assert time.monotonic() - started < 1.0
    assert idp.webhooks.flush(10)
    assert idp.webhooks.deliveries and not any(d.ok for d in idp.webhooks.deliveries)


def test_without_a_url_nothing_is_queued(idp: DevIdP) -> None:
    assert idp.webhooks.sync() == []
    idp.app.test_client().get("/sign-in")
    assert list(idp.webhooks.deliveries) == []


def test_the_signing_secret_is_in_env_and_kept_in_the_state_file(tmp_path: Any) -> None:
    state = tmp_path / "state.json"
    first = DevIdP(DevIdPConfig(), state_file=state)
    secret = first.env()["CLERK_WEBHOOK_SIGNING_SECRET"]
    assert secret.startswith("whsec_")
    assert DevIdP(DevIdPConfig(), state_file=state).webhook_secret == secret


@pytest.mark.parametrize("url", ["ftp://example.test/hook", "not a url", "http://"])
def test_a_bad_webhook_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="webhook_url"):
        DevIdPConfig(webhook_url=url)


def test_the_cli_takes_a_webhook_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from flask_idguard.devidp import __main__ as cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr(cli, "run_simple", lambda host, port, app, **kw: seen.update(app=app))
    result = CliRunner().invoke(cli.main, ["--webhook-url", "http://127.0.0.1:5000/webhooks"])
    assert result.exit_code == 0, result.output
    assert "CLERK_WEBHOOK_SIGNING_SECRET=whsec_" in result.output
    idp = seen["app"].extensions["devidp"]
    assert idp.config.webhook_url == "http://127.0.0.1:5000/webhooks"
