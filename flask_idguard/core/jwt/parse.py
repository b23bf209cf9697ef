"""Strict compact-JWS parsing, and the error every token check raises.

:func:`decode_unverified` accepts only three unpadded base64url segments whose header and
payload are JSON objects (no ``NaN``, bounded size and nesting). :class:`TokenError` carries one
stable ``reason`` (Clerk's words where they fit), a human ``message`` and ``details`` from which a
provider may rebuild its own message text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from json.scanner import make_scanner
from typing import Any
from typing import NamedTuple

from ..frozen import FrozenDict

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_TOKEN_BYTES",
    "TokenError",
    "Unverified",
    "decode_unverified",
    "shown",
]

MAX_TOKEN_BYTES = 16 * 1024

#: Nesting depth allowed in header and payload JSON.
MAX_JSON_DEPTH = 32

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def shown(value: object, limit: int = 80) -> str:
    """``value`` from a token as short, single-line JSON for messages and logs."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):  # pragma: no cover - parsed JSON always dumps
        text = "?"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class TokenError(Exception):
    """A token that must not be trusted: ``reason`` is stable, ``message`` is for humans."""

    def __init__(self, reason: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.details = details

    def __repr__(self) -> str:
        return f"TokenError({self.reason!r}, {self.message!r})"


class Unverified(NamedTuple):
    """A strictly parsed but *unverified* compact JWS (immutable; the dicts must not be
    mutated: a flat header is shared, read-only, by every token with the same one)."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes
    #: The compact serialization it was parsed from.
    token: str = ""

    def __repr__(self) -> str:
        return f"Unverified(header={self.header!r}, claims={self.claims!r})"


def _b64decode(segment: str, what: str) -> bytes:
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise TokenError(
            "token-invalid",
            f"Invalid JWT form. The {what} is not unpadded base64url.",
        )
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - regex guards this
        raise TokenError(
            "token-invalid", f"Invalid JWT form. The {what} is not base64url."
        ) from exc


_TO_STANDARD = bytes.maketrans(b"-_", b"+/")  # bytes.translate: a table look-up in C


def _b64_fast(segment: str) -> bytes | None:
    """The bytes of an unpadded base64url ``segment`` whose token has no ``+``, ``/`` or ``=``,
    or None when it is not one (then :func:`_b64decode` finds the fault, for the message).

    Mapped to the standard alphabet, decoded in strict mode: any other character, or a
    length of 4n+1, raises in C without a regular-expression scan.
    """
    extra = len(segment) % 4
    if extra == 1:
        return None
    try:
        data = (segment + "==="[: 4 - extra] if extra else segment).encode("ascii")
        return binascii.a2b_base64(data.translate(_TO_STANDARD), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        return None


def _segment(segment: str, what: str, fast: bool) -> bytes:
    """A segment's bytes; the exact checks run only to word an error (segments are decoded
    in order, so the first fault met is the one reported)."""
    if fast:
        data = _b64_fast(segment)
        if data is not None:
            return data
    return _b64decode(segment, what)


def _depth_ok(value: object, depth: int = 0) -> bool:
    if depth > MAX_JSON_DEPTH:
        return False
    if isinstance(value, dict):
        return all(_depth_ok(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_depth_ok(v, depth + 1) for v in value)
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
#: The C scanner that ``_DECODER.decode`` runs after skipping whitespace (typeshed's stub of
#: ``make_scanner`` does not describe it).
_SCAN: Callable[[str, int], tuple[Any, int]] = make_scanner(_DECODER)  # type: ignore[arg-type]


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
        if text[:1] == "{":
            value, end = _SCAN(text, 0)
            if end != len(text):  # trailing whitespace or data: the decoder's own rules
                value = _DECODER.decode(text)
        else:
            value = _DECODER.decode(text)
    except (UnicodeDecodeError, ValueError, RecursionError, StopIteration) as exc:
        raise TokenError(
            "token-invalid",
            f"Invalid JWT form. The {what} could not be decoded as JSON.",
        ) from exc
    if not isinstance(value, dict):
        raise TokenError("token-invalid", f"Invalid JWT form. The {what} is not a JSON object.")
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and not _depth_ok(value):
        raise TokenError("token-invalid", f"Invalid JWT form. The {what} is nested too deeply.")
    return value


#: Flat headers parsed lately, by their segment (every token signed with one key has the same
#: header), read-only; bounded in count and segment length, cleared when full.
_HEADERS: dict[str, dict[str, Any]] = {}
_HEADERS_MAX = 64
_HEADER_LONGEST = 1024
_FLAT = frozenset({str, int, float, bool, type(None)})


def _header(segment: str, fast: bool) -> dict[str, Any]:
    header = _json_object(_segment(segment, "header", fast), "header")
    if len(segment) <= _HEADER_LONGEST and all(type(v) in _FLAT for v in header.values()):
        if len(_HEADERS) >= _HEADERS_MAX:
            _HEADERS.clear()
        header = _HEADERS[segment] = FrozenDict(header)
    return header


def decode_unverified(token: str, *, max_bytes: int = MAX_TOKEN_BYTES) -> Unverified:
    """Parse ``token`` strictly without checking anything but its form.

    Raises :class:`TokenError` (``token-invalid``) for an oversized token, anything
    but three unpadded base64url segments, or a header/payload that is not a JSON object.
    """
    if not isinstance(token, str) or not token:
        raise TokenError("token-invalid", "Invalid JWT form. The token is empty.")
    if len(token) > max_bytes:
        raise TokenError(
            "token-invalid", f"Invalid JWT form. The token is longer than {max_bytes} bytes."
        )
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError(
            "token-invalid", "Invalid JWT form. A JWT consists of three parts separated by dots."
        )
    header_b64, payload_b64, signature_b64 = parts
    fast = "+" not in token and "/" not in token and "=" not in token
    header = _HEADERS.get(header_b64) or _header(header_b64, fast)
    claims = _json_object(_segment(payload_b64, "payload", fast), "payload")
    signature = _segment(signature_b64, "signature", fast)
    signing_input = token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")
    return Unverified(header, claims, signing_input, signature, token)
