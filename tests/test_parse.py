"""The fast token parser agrees with the plain reading of its rules, on any input.

``decode_unverified`` decodes in C (strict base64 after mapping the alphabet, the JSON scanner
without the decoder's whitespace wrapper) and falls back to the slow, exact checks only to word
an error. The reference below is the rule as written: three segments of ``[A-Za-z0-9_-]``, none
of length 4n+1, header and payload JSON objects (whitespace around them allowed, nothing else,
no ``NaN``/``Infinity``), the first fault met in that order reported.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard.core.jwt import TokenError
from flask_idguard.core.jwt import decode_unverified
from flask_idguard.testing import b64url

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


def _no_constants(name: str) -> Any:
    raise ValueError(name)


def reference(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes] | str:
    """(header, claims, signature), or the message of the first fault, segment by segment."""
    parts = token.split(".")
    if len(parts) != 3:
        return "Invalid JWT form. A JWT consists of three parts separated by dots."
    decoded: list[Any] = []
    for part, what in zip(parts, ("header", "payload", "signature"), strict=True):
        if not _SEGMENT.fullmatch(part) or len(part) % 4 == 1:
            return f"Invalid JWT form. The {what} is not unpadded base64url."
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        if what == "signature":
            decoded.append(data)
            break
        try:
            value = json.loads(data.decode("utf-8"), parse_constant=_no_constants)
        except ValueError:
            return f"Invalid JWT form. The {what} could not be decoded as JSON."
        if not isinstance(value, dict):
            return f"Invalid JWT form. The {what} is not a JSON object."
        decoded.append(value)
    return decoded[0], decoded[1], decoded[2]


def ours(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes] | str:
    try:
        parsed = decode_unverified(token)
    except TokenError as exc:
        assert exc.reason == "token-invalid"
        return exc.message
    assert parsed.token == token
    assert parsed.signing_input == token[: token.rindex(".")].encode()
    return parsed.header, parsed.claims, parsed.signature


ALPHABET = "ABCxyz019-_"
HOSTILE = "+/= \t\n.!é\u00a0\x00"
JSON_TEXTS = [
    '{"a":1}', ' {"a":1}', '{"a":1} ', '{"a":1}\n', '{"a":1}x', '{"a":1}{}', "[1]", '"s"',
    "{", "{}", '{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '{"a":1,}', "\ufeff{}",
    '{"a":"\\ud800"}', '{"a":{"b":[1,2,{"c":null}]}}', "", " ", "{} {}", '{"a":1}\t\r\n',
]  # fmt: skip


def segment(text: str) -> str:
    return b64url(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.text(alphabet=ALPHABET + HOSTILE, max_size=12)
        | st.sampled_from(JSON_TEXTS).map(segment)
        | st.binary(max_size=24).map(lambda b: base64.urlsafe_b64encode(b).decode()),
        min_size=1,
        max_size=4,
    )
)
def test_any_token_is_read_as_the_rules_say(parts: list[str]) -> None:
    token = ".".join(parts)
    if not token:
        return
    assert ours(token) == reference(token)


@pytest.mark.parametrize("header", JSON_TEXTS)
@pytest.mark.parametrize("payload", JSON_TEXTS)
def test_every_json_text_in_both_places(header: str, payload: str) -> None:
    token = f"{segment(header)}.{segment(payload)}.c2ln"
    assert ours(token) == reference(token)


@pytest.mark.parametrize("bad", ["+", "/", "=", "é", " ", "\x00"])
@pytest.mark.parametrize("where", [0, 1, 2])
def test_a_character_outside_base64url_is_refused_in_any_segment(bad: str, where: int) -> None:
    parts = [segment('{"alg":"RS256"}'), segment('{"sub":"u"}'), "c2lnbmF0dXJl"]
    parts[where] = parts[where][:2] + bad + parts[where][3:]
    with pytest.raises(TokenError) as caught:
        decode_unverified(".".join(parts))
    assert "is not unpadded base64url" in caught.value.message
    assert ("header", "payload", "signature")[where] in caught.value.message


def token_of(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{segment(json.dumps(header))}.{segment(json.dumps(claims))}.c2ln"


def test_a_flat_header_is_shared_read_only_and_a_nested_one_is_not() -> None:
    """Every token signed with one key has the same header: it is parsed once, and nobody
    holding it can change what the next token's checks read."""
    first = decode_unverified(token_of({"alg": "RS256", "kid": "k1"}, {"sub": "a"}))
    second = decode_unverified(token_of({"alg": "RS256", "kid": "k1"}, {"sub": "b"}))
    assert first.header is second.header and first.claims != second.claims
    with pytest.raises(TypeError):
        first.header["alg"] = "none"
    with pytest.raises(TypeError):
        first.header.pop("kid")
    assert decode_unverified(token_of({"alg": "RS256", "kid": "k1"}, {})).header["alg"] == "RS256"
    proof_header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": {"kty": "EC", "crv": "P-256"}}
    one, two = (decode_unverified(token_of(proof_header, {"n": n})) for n in range(2))
    assert one.header == two.header and one.header is not two.header  # nested: not shared


def test_the_remembered_headers_are_bounded() -> None:
    from flask_idguard.core.jwt import parse

    for n in range(parse._HEADERS_MAX * 3):
        decode_unverified(token_of({"alg": "RS256", "kid": f"key-{n}"}, {}))
        assert len(parse._HEADERS) <= parse._HEADERS_MAX
    long = {"alg": "RS256", "kid": "k" * parse._HEADER_LONGEST}
    assert (
        decode_unverified(token_of(long, {})).header
        is not decode_unverified(token_of(long, {})).header
    )
