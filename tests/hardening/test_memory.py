"""Unauthenticated input cannot pin more than a few MiB in any cache.

A flood of what anyone can send, each request different: session cookies of 16 KiB whose
JSON is dense with small objects (the costliest to keep parsed), handshake nonces, ``Host``
headers, unsigned and foreign-signed bearer tokens. What stays allocated afterwards
(``tracemalloc``, after a collection) must stay under :data:`LIMIT`; the Clerk parse cache is
also checked by its own count of bytes.
"""

from __future__ import annotations

import gc
import json
import logging
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard.core.cache import deep_size
from flask_idguard.core.jwt.parse import MAX_TOKEN_BYTES
from flask_idguard.providers.clerk import verify as clerk_verify
from flask_idguard.providers.clerk.provider import ClerkProvider
from flask_idguard.testing import ClerkTestInstance
from flask_idguard.testing import TestIssuer
from flask_idguard.testing import b64url

from .apps import ORIGIN
from .apps import build

MiB = 1024 * 1024
#: What a flood may leave allocated: the parse cache's 4 MiB and the small memories.
LIMIT = 6 * MiB


def dense_token(i: int) -> str:
    """An unsigned token just under 16 KiB whose payload is 3,500 empty objects (~270 KiB
    once parsed)."""
    body = b'{"iss":"https://clerk.app.test","n":%d,"a":[' % i + b",".join([b"{}"] * 3500) + b"]}"
    return f"{b64url(json.dumps({'alg': 'RS256'}).encode())}.{b64url(body)}.c2ln"


def retained(flood: Callable[[], None]) -> int:
    """Bytes still allocated after ``flood()``, once collected."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        flood()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


def send(app: Flask, count: int, make: Callable[[int], dict[str, Any]]) -> None:
    client = app.test_client(use_cookies=False)
    for i in range(count):
        client.get("/inspect", base_url=ORIGIN, **make(i))


def test_a_flood_of_unauthenticated_input_pins_a_few_mib_at_most(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.CRITICAL, logger="flask_idguard")  # no records kept either
    clerk = ClerkTestInstance("production")
    clerk_app = build(clerk.config())
    provider = clerk_app.extensions["idguard"].providers[0]
    assert isinstance(provider, ClerkProvider)
    provider.backend.handshake_payload = lambda nonce: []  # type: ignore[method-assign]
    issuer, stranger = TestIssuer(), TestIssuer()
    oidc_app = build({"IDGUARD_ISSUER": issuer.issuer, "IDGUARD_AUDIENCE": issuer.audience,
                      "IDGUARD_PUBLIC_KEYS": issuer.jwks()})  # fmt: skip
    foreign = [stranger.token({"n": i}) for i in range(50)]
    clerk_verify.PARSED.clear()
    send(clerk_app, 1, lambda i: {})  # warm up: imports, first-request set-up

    def flood() -> None:
        cookie = "__session={}; __client_uat=1"
        send(clerk_app, 40, lambda i: {"headers": {"Cookie": cookie.format(dense_token(i))}})
        send(clerk_app, 300, lambda i: {"query_string": {"__clerk_handshake_nonce": f"n{i:060}"},
                                         "headers": {"Sec-Fetch-Dest": "document"}})  # fmt: skip
        send(clerk_app, 100, lambda i: {"headers": {"Host": f"h{i}." + "a" * 240}})
        send(oidc_app, 50, lambda i: {"headers": {"Authorization": f"Bearer {foreign[i]}"}})
        send(oidc_app, 30, lambda i: {"headers": {"Authorization": f"Bearer {dense_token(i)}"}})

    kept = retained(flood)
    assert clerk_verify.PARSED.bytes <= clerk_verify.PARSED.max_bytes
    assert kept < LIMIT, f"{kept / MiB:.1f} MiB stayed allocated"


# -- the parse cache's cost bound ----------------------------------------------------------------

_SMALL = st.sampled_from([{}, [], 0, 1.5, "", "ab", None, True, 10**20, {"k": 0}, [0]])
_JSON = st.recursive(
    _SMALL | st.text(max_size=8) | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=50) | st.dictionaries(st.text(max_size=6), inner, max_size=20)
    ),
    max_leaves=150,
)


@settings(max_examples=100, deadline=None)
@given(
    claims=st.dictionaries(st.text(max_size=6), _JSON, max_size=10),
    flat=st.lists(_SMALL, max_size=600),
)
def test_the_parse_cache_never_undercounts_what_a_token_holds(
    claims: dict[str, Any], flat: list[Any]
) -> None:
    """``parsed_cost`` (from the token's length alone) bounds what ``deep_size`` measures of
    the parsed token, for any JSON payload, the densest ones included."""
    claims = {**claims, "flat": flat}
    body = json.dumps(claims, separators=(",", ":")).encode()
    token = f"{b64url(json.dumps({'alg': 'RS256'}).encode())}.{b64url(body)}.c2ln"
    assume(len(token) <= MAX_TOKEN_BYTES)  # longer ones are refused unparsed
    parsed = clerk_verify.parse(token)
    held = deep_size(token) + deep_size(parsed.signing_input) + deep_size(parsed.signature)
    held += deep_size((parsed.header, parsed.claims))
    assert held <= clerk_verify.parsed_cost(token)


def test_the_densest_payload_is_within_the_bound() -> None:
    token = dense_token(0)
    parsed = clerk_verify.parse(token)
    held = deep_size((parsed.header, parsed.claims)) + 3 * deep_size(token)
    assert 0.5 * clerk_verify.parsed_cost(token) < held <= clerk_verify.parsed_cost(token)
