"""Side by side with Clerk's own code (@clerk/backend 3.25.0's verifyWebhook, standardwebhooks in
JavaScript): its signatures pass here, the local identity provider's deliveries pass there, and
both refuse the same forgeries."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask import request

from flask_idguard.devidp import DevIdP
from flask_idguard.devidp import DevIdPConfig

from ..clerk.test_differential import clerk_backend_node
from .conftest import OTHER_SECRET
from .conftest import SECRET
from .conftest import USER_CREATED
from .conftest import delivery
from .conftest import webhook_app

SCRIPT = Path(__file__).with_name("clerk_webhooks.mjs")


def clerk(secret: str, sign: list[Any] = (), verify: list[Any] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """One run of clerk_webhooks.mjs."""
    node, env = clerk_backend_node("@clerk/backend's verifyWebhook")
    job = {"secret": secret, "sign": list(sign), "verify": list(verify)}
    proc = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"clerk_webhooks.mjs exited with {proc.returncode}:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_a_delivery_signed_by_clerks_standardwebhooks_is_accepted() -> None:
    body = json.dumps(USER_CREATED)
    now = int(time.time())
    messages = [{"id": "msg_js", "timestamp": now, "body": body}]
    (signature,) = clerk(SECRET, sign=messages)["signatures"]
    headers = {"svix-id": "msg_js", "svix-timestamp": str(now), "svix-signature": signature}
    r = webhook_app().test_client().post("/bare", data=body, headers=headers)
    assert r.status_code == 200, r.json
    assert r.json is not None and r.json["event"]["data"] == USER_CREATED["data"]


def _as_node(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return {"headers": headers, "body": body.decode("utf-8", "replace")}


def test_both_accept_and_refuse_the_same_deliveries_and_return_the_same_event() -> None:
    good = delivery()
    cases = {
        "good": good,
        "tampered": (good[0].replace(b"Example", b"Mallory"), good[1]),
        "wrong secret": delivery(secret=OTHER_SECRET, msg_id="msg_other"),
        "stale": delivery(timestamp=int(time.time()) - 400, msg_id="msg_stale"),
        "future": delivery(timestamp=int(time.time()) + 400, msg_id="msg_future"),
        "no headers": (good[0], {}),
        "rotation": (
            good[0],
            {**good[1], "svix-signature": "v1,bm90IGl0 " + good[1]["svix-signature"]},
        ),
    }
    results = clerk(SECRET, verify=[_as_node(*case) for case in cases.values()])["verified"]
    app = webhook_app()
    for (name, (body, headers)), theirs in zip(cases.items(), results, strict=True):
        ours = app.test_client().post("/function", data=body, headers=headers)
        assert (ours.status_code == 200) == theirs["ok"], (name, ours.json, theirs)
        if theirs["ok"]:
            assert ours.json is not None and ours.json["event"] == theirs["event"], name
            app = webhook_app()  # a fresh replay memory for the next accepted one
        elif name == "no headers":
            assert ours.json is not None
            assert theirs["error"].endswith(ours.json["error_description"])


@pytest.fixture
def idp() -> Iterator[DevIdP]:
    provider = DevIdP(DevIdPConfig())
    yield provider
    provider.webhooks.close()


def test_the_local_identity_providers_deliveries_pass_clerks_verify_webhook(
    idp: DevIdP, serve: Callable[[Flask], str]
) -> None:
    captured: list[dict[str, Any]] = []
    recorder = Flask("recorder")

    @recorder.post("/hook")
    def hook() -> Any:
        names = ("svix-id", "svix-timestamp", "svix-signature", "content-type")
        headers = {k: request.headers[k] for k in names}
        captured.append({"headers": headers, "body": request.get_data(as_text=True)})
        return {}

    idp.config.webhook_url = serve(recorder) + "/hook"
    form = {"email": "erin@example.test", "password": "erin-password"}
    idp.app.test_client().post("/sign-up", data=form)
    assert idp.webhooks.flush(10)
    results = clerk(idp.webhook_secret, verify=captured)["verified"]
    assert results and all(r["ok"] for r in results), results
    types = {r["event"]["type"] for r in results}
    assert {"user.created", "session.created", "organizationMembership.created"} <= types
    erin = next(
        r["event"]["data"]
        for r in results
        if r["event"]["type"] == "user.created"
        and r["event"]["data"]["email_addresses"][0]["email_address"] == "erin@example.test"
    )
    assert erin["object"] == "user"
