"""verify_webhook and verified_webhook: what Clerk's verifyWebhook accepts and refuses."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
import time_machine
from flask import Flask

from flask_idguard import ConfigurationError

from .conftest import OTHER_SECRET
from .conftest import SECRET
from .conftest import USER_CREATED
from .conftest import delivery
from .conftest import hand_sign
from .conftest import svix_sign
from .conftest import webhook_app

VIEWS = ["/function", "/bare", "/async"]


def post(app: Flask, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return app.test_client().post(path, data=body, headers=headers)


@pytest.mark.parametrize("path", VIEWS)
@pytest.mark.parametrize("sign", [svix_sign, hand_sign], ids=["svix-library", "by-hand"])
def test_a_delivery_signed_by_svix_or_by_hand_is_accepted_in_every_form(
    app: Flask, path: str, sign: Any
) -> None:
    body, headers = delivery(sign=sign)
    r = post(app, path, body, headers)
    assert r.status_code == 200, r.json
    # What @clerk/backend 3.25's verifyWebhook returns.
    assert r.json["event"] == {
        "type": "user.created",
        "object": "event",
        "data": USER_CREATED["data"],
        "event_attributes": USER_CREATED["event_attributes"],
        "timestamp": USER_CREATED["timestamp"],
        "instance_id": USER_CREATED["instance_id"],
    }
    assert r.json["id"] == headers["svix-id"]
    assert r.json["signed_at"] == int(headers["svix-timestamp"])
    # The raw body is still there for the view, as bytes and as JSON.
    assert r.json["body"] == body.decode()
    assert r.json["json_type"] == "user.created"


def test_the_body_stream_is_read_once(app: Flask) -> None:
    body, headers = delivery()
    reads: list[int] = []

    class Counting(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            reads.append(len(chunk))
            return chunk

        def readinto(self, buffer: Any) -> int:
            n = super().readinto(buffer)
            reads.append(n)
            return n

    r = app.test_client().post(
        "/function", input_stream=Counting(body), headers=headers, content_length=len(body)
    )
    assert r.status_code == 200
    assert sum(reads) == len(body)


def test_key_rotation_any_of_several_signatures_matches(app: Flask) -> None:
    body, headers = delivery()
    stale = svix_sign(OTHER_SECRET, headers["svix-id"], int(headers["svix-timestamp"]), "x")
    headers["svix-signature"] = f"{stale} {headers['svix-signature']}"
    assert post(app, "/bare", body, headers).status_code == 200


def test_signing_secret_argument_overrides_the_config(app: Flask) -> None:
    body, headers = delivery(secret=OTHER_SECRET)
    assert post(app, "/other-secret", body, headers).status_code == 200
    assert post(app, "/bare", body, headers).status_code == 400


def test_the_secret_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLERK_WEBHOOK_SIGNING_SECRET", SECRET)
    app = webhook_app(CLERK_WEBHOOK_SIGNING_SECRET=None)
    body, headers = delivery()
    assert post(app, "/bare", body, headers).status_code == 200


def _refused(app: Flask, body: bytes, headers: dict[str, str], reason: str) -> str:
    r = post(app, "/bare", body, headers)
    assert r.status_code == 400, r.data
    assert r.json["error"] == "invalid_webhook"
    assert r.json["reason"] == reason
    assert "WWW-Authenticate" not in r.headers  # not an authentication challenge
    assert r.headers["Cache-Control"] == "no-store"
    description: str = r.json["error_description"]
    return description


def test_tampered_body_is_refused_with_clerks_message(app: Flask) -> None:
    body, headers = delivery()
    tampered = body.replace(b"user.created", b"user.deleted")
    message = _refused(app, tampered, headers, "webhook-signature-invalid")
    assert message == "Unable to verify incoming webhook: No matching signature found"


def test_wrong_secret_is_refused(app: Flask) -> None:
    body, headers = delivery(secret=OTHER_SECRET)
    _refused(app, body, headers, "webhook-signature-invalid")


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(-301, "webhook-timestamp-too-old"), (301, "webhook-timestamp-too-new")],
)
def test_a_timestamp_beyond_the_5_minute_tolerance_is_refused(
    app: Flask, offset: int, reason: str
) -> None:
    body, headers = delivery(timestamp=int(time.time()) + offset)
    _refused(app, body, headers, reason)


def test_a_timestamp_within_the_tolerance_is_accepted(app: Flask) -> None:
    body, headers = delivery(timestamp=int(time.time()) - 290)
    assert post(app, "/bare", body, headers).status_code == 200


def test_a_delivery_replayed_after_the_window_is_refused(app: Flask) -> None:
    body, headers = delivery()
    assert post(app, "/bare", body, headers).status_code == 200
    with time_machine.travel(time.time() + 301, tick=False):
        _refused(app, body, headers, "webhook-timestamp-too-old")


def test_the_same_signed_delivery_twice_is_refused_unlike_clerk_which_remembers_nothing(
    app: Flask,
) -> None:
    body, headers = delivery()
    assert post(app, "/bare", body, headers).status_code == 200
    message = _refused(app, body, headers, "webhook-replayed")
    assert headers["svix-id"] in message


def test_a_retry_with_the_same_id_and_a_new_timestamp_is_accepted_as_svix_retries(
    app: Flask,
) -> None:
    first, headers = delivery(timestamp=int(time.time()) - 10)
    assert post(app, "/bare", first, headers).status_code == 200
    again, headers = delivery()
    r = post(app, "/bare", again, headers)
    assert r.status_code == 200
    assert r.json["id"] == "msg_2Lm9Tu6FQv0ZpS4k0pWmEhb1lZN"  # the key for idempotence


def test_the_replay_memory_is_shared_through_idguard_cache() -> None:
    from cachelib import SimpleCache

    cache = SimpleCache()
    body, headers = delivery()
    assert post(webhook_app(IDGUARD_CACHE=cache), "/bare", body, headers).status_code == 200
    # Another worker with the same cache refuses the same delivery.
    _refused(webhook_app(IDGUARD_CACHE=cache), body, headers, "webhook-replayed")


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        (("svix-id", "svix-timestamp", "svix-signature"),
         "Missing required webhook headers: svix-id, svix-timestamp, svix-signature"),
        (("svix-id",), "Missing required webhook headers: svix-id"),
        (("svix-timestamp",), "Missing required webhook headers: svix-timestamp"),
        (("svix-signature",), "Missing required webhook headers: svix-signature"),
    ],
)  # fmt: skip
def test_missing_headers_are_refused_with_clerks_message(
    app: Flask, drop: tuple[str, ...], message: str
) -> None:
    body, headers = delivery()
    for name in drop:
        del headers[name]
    assert _refused(app, body, headers, "webhook-headers-missing") == message


def test_whitespace_only_headers_count_as_missing_as_in_clerk(app: Flask) -> None:
    body, headers = delivery()
    headers.update({"svix-id": "  \t  ", "svix-timestamp": " ", "svix-signature": ""})
    message = _refused(app, body, headers, "webhook-headers-missing")
    assert message.endswith("svix-id, svix-timestamp, svix-signature")


def test_standard_webhook_header_names_are_not_read_as_in_clerk(app: Flask) -> None:
    body, headers = delivery()
    standard = {k.replace("svix-", "webhook-"): v for k, v in headers.items()}
    _refused(app, body, standard, "webhook-headers-missing")


def test_a_signature_header_sent_twice_is_refused(app: Flask) -> None:
    body, headers = delivery()
    signature = headers.pop("svix-signature")
    r = app.test_client().post(
        "/bare",
        data=body,
        headers=[*headers.items(), ("svix-signature", signature), ("svix-signature", signature)],
    )
    assert r.status_code == 400
    assert r.json is not None
    assert r.json["reason"] == "webhook-header-invalid"


def test_a_signature_list_repeating_a_signature_is_refused(app: Flask) -> None:
    body, headers = delivery()
    headers["svix-signature"] = f"{headers['svix-signature']} {headers['svix-signature']}"
    _refused(app, body, headers, "webhook-header-invalid")


def test_a_signature_list_over_16_entries_is_refused_unread(app: Flask) -> None:
    body, headers = delivery()
    headers["svix-signature"] = " ".join(f"v1,{'A' * 42}{i:02d}" for i in range(17))
    _refused(app, body, headers, "webhook-header-invalid")


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("svix-signature", "v1 abc", "webhook-header-invalid"),
        ("svix-signature", "v1,abc,def", "webhook-header-invalid"),
        ("svix-signature", "v1,abc", "webhook-signature-invalid"),  # base64 cut short
        ("svix-signature", "v2,YWJjZA==", "webhook-signature-invalid"),  # no v1 signature
        ("svix-timestamp", "1e9", "webhook-header-invalid"),
        ("svix-timestamp", "nan", "webhook-header-invalid"),
        ("svix-timestamp", "-5", "webhook-header-invalid"),
        ("svix-timestamp", "9" * 30, "webhook-header-invalid"),
        ("svix-id", "m" * 300, "webhook-header-invalid"),
    ],
)
def test_malformed_headers_are_refused(app: Flask, header: str, value: str, reason: str) -> None:
    body, headers = delivery()
    headers[header] = value
    _refused(app, body, headers, reason)


def test_a_body_that_is_not_utf8_is_refused(app: Flask) -> None:
    _, headers = delivery()
    _refused(app, b"\xff\xfe{}", headers, "webhook-body-invalid")


def test_a_body_over_one_mebibyte_is_refused_unread(app: Flask) -> None:
    _, headers = delivery()
    _refused(app, b"x" * ((1 << 20) + 1), headers, "webhook-body-too-large")


@pytest.mark.parametrize("payload", [[1, 2], "user.created", {"data": {}}, {"type": 5}])
def test_a_signed_body_that_is_not_an_event_is_refused(app: Flask, payload: Any) -> None:
    body, headers = delivery(payload)
    _refused(app, body, headers, "webhook-payload-invalid")


def test_a_signed_body_that_is_not_json_is_refused(app: Flask) -> None:
    ts = int(time.time())
    headers = {
        "svix-id": "msg_1",
        "svix-timestamp": str(ts),
        "svix-signature": svix_sign(SECRET, "msg_1", ts, "not json"),
    }
    _refused(app, b"not json", headers, "webhook-payload-invalid")


def test_without_a_secret_the_app_is_told_how_to_configure_it() -> None:
    app = webhook_app(CLERK_WEBHOOK_SIGNING_SECRET=None)
    body, headers = delivery()
    with app.test_request_context("/bare", method="POST", data=body, headers=headers):
        with pytest.raises(ConfigurationError, match="CLERK_WEBHOOK_SIGNING_SECRET"):
            app.view_functions["bare"]()


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_c2hvcnQ=", "sk_test_abc"])
def test_a_malformed_secret_is_a_configuration_error(secret: str) -> None:
    app = webhook_app(CLERK_WEBHOOK_SIGNING_SECRET=secret)
    body, headers = delivery()
    with app.test_request_context("/bare", method="POST", data=body, headers=headers):
        with pytest.raises(ConfigurationError, match="CLERK_WEBHOOK_SIGNING_SECRET: "):
            app.view_functions["bare"]()


def test_a_secret_without_the_whsec_prefix_is_accepted_as_the_library_does() -> None:
    app = webhook_app(CLERK_WEBHOOK_SIGNING_SECRET=SECRET.removeprefix("whsec_"))
    body, headers = delivery()
    assert post(app, "/bare", body, headers).status_code == 200


def test_an_app_errorhandler_customises_the_refusal() -> None:
    from flask_idguard import InvalidWebhook

    app = webhook_app()

    @app.errorhandler(InvalidWebhook)
    def refused(error: InvalidWebhook) -> Any:
        return {"refused": error.reason}, 400

    body, headers = delivery(secret=OTHER_SECRET)
    r = post(app, "/bare", body, headers)
    assert (r.status_code, r.json) == (400, {"refused": "webhook-signature-invalid"})


def test_the_event_json_round_trips() -> None:
    app = webhook_app()
    body, headers = delivery()
    r = post(app, "/function", body, headers)
    assert json.loads(r.json["body"]) == USER_CREATED
