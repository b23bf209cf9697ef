"""``make demo``'s synced-users page: the local identity provider's webhooks keep it, offline."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from example_app import create_app
from example_app.__main__ import offline_config
from flask_idguard.devidp import DevIdP
from flask_idguard.devidp import DevIdPConfig

from ..devidp.conftest import Browser


@pytest.fixture
def idp() -> Iterator[DevIdP]:
    with DevIdP(DevIdPConfig()).serve() as served:
        yield served
        served.webhooks.close()


def test_the_synced_users_page_follows_the_providers_webhooks(
    idp: DevIdP, serve: Callable[[Flask], str]
) -> None:
    config = offline_config(idp)
    assert config["CLERK_WEBHOOK_SIGNING_SECRET"] == idp.webhook_secret
    app_url = serve(create_app(config))
    idp.config.webhook_url = app_url + "/webhooks/clerk"
    browser = Browser()
    browser.go(app_url + "/dashboard")
    browser.go(
        idp.config.base_url + "/sign-in",
        "POST",
        {"user_id": "user_alice", "redirect_url": app_url + "/dashboard"},
    )
    assert idp.webhooks.flush(10)
    page = browser.go(app_url + "/synced-users").text
    assert "alice@example.test" in page and "bob@example.test" in page
    assert "acme (org:admin)" in page
    assert all(d.ok for d in idp.webhooks.deliveries)

    auth = {"Authorization": f"Bearer {idp.secret_key}"}
    r = requests.delete(f"{idp.config.base_url}/v1/users/user_bob", headers=auth, timeout=10)
    assert r.status_code == 200
    assert idp.webhooks.flush(10)
    page = browser.go(app_url + "/synced-users").text
    assert "alice@example.test" in page and "bob@example.test" not in page


def test_the_receiver_refuses_an_unsigned_delivery(idp: DevIdP) -> None:
    app = create_app(offline_config(idp))
    r = app.test_client().post("/webhooks/clerk", json={"type": "user.created", "data": {}})
    assert r.status_code == 400
    assert r.json is not None and r.json["reason"] == "webhook-headers-missing"


def test_the_table_applies_each_event_once_and_ignores_odd_data() -> None:
    from example_app.webhooks import SyncedUsers
    from flask_idguard import WebhookEvent

    table = SyncedUsers()
    user = {"id": "user_1", "email_addresses": [{"id": "e1", "email_address": "a@b.test"}]}
    created = WebhookEvent(id="msg_1", signed_at=0, type="user.created", data=user)
    assert table.apply(created) is True
    assert table.apply(created) is False  # a retry of the same message
    assert table.rows["user_1"].email == "a@b.test"
    assert table.apply(WebhookEvent(id="msg_2", signed_at=0, type="user.created", data={}))
    assert table.apply(WebhookEvent(id="msg_3", signed_at=0, type="user.deleted", data=user))
    assert table.rows == {}
