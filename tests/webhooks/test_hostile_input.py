"""Hostile headers and bodies: always a 400 with a reason, never a 500, never accepted."""

from __future__ import annotations

import time

from flask import Flask
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from .conftest import delivery
from .conftest import webhook_app

APP: Flask = webhook_app()
REASONS = {
    "webhook-headers-missing",
    "webhook-header-invalid",
    "webhook-signature-invalid",
    "webhook-timestamp-too-old",
    "webhook-timestamp-too-new",
    "webhook-body-invalid",
}
# Latin-1 header text without CR/LF (what a WSGI server hands over).
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=300)
fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assert_refused(body: bytes, headers: dict[str, str]) -> None:
    r = APP.test_client().post("/bare", data=body, headers=headers)
    assert r.status_code == 400, r.data
    assert r.json is not None
    assert r.json["reason"] in REASONS


@fuzz
@given(
    name=st.sampled_from(["svix-id", "svix-timestamp", "svix-signature"]),
    value=header_text,
)
def test_any_value_in_one_header_is_refused_cleanly(name: str, value: str) -> None:
    body, headers = delivery()
    if value.strip() == headers[name]:
        return
    headers[name] = value
    _assert_refused(body, headers)


@fuzz
@given(entries=st.lists(st.text("v1,=+/ABCabc0123", max_size=60), max_size=20))
def test_any_signature_list_without_the_real_signature_is_refused(entries: list[str]) -> None:
    body, headers = delivery()
    headers["svix-signature"] = " ".join(entries)
    _assert_refused(body, headers)


@fuzz
@given(body=st.binary(max_size=2000))
def test_any_other_body_is_refused(body: bytes) -> None:
    signed, headers = delivery()
    if body == signed:
        return
    _assert_refused(body, headers)


@fuzz
@given(offset=st.integers(min_value=301, max_value=10**11))
def test_any_timestamp_outside_the_window_is_refused(offset: int) -> None:
    now = int(time.time())
    for ts in (now - offset, now + offset):
        if 0 <= ts < 10**12:
            body, headers = delivery(timestamp=ts)
            _assert_refused(body, headers)
