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
from typing import Any
from typing import NamedTuple

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
    mutated)."""

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


_JWS = re.compile(r"[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")  # bytes.translate: a table look-up in C


def _b64_checked(segment: str, what: str) -> bytes:
    """:func:`_b64decode` for a segment already known to be in the base64url alphabet."""
    if len(segment) % 4 == 1:
        return _b64decode(segment, what)  # raises with the message
    padded = (segment + "=" * (-len(segment) % 4)).encode("ascii")
    return binascii.a2b_base64(padded.translate(_TO_STANDARD))


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


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = _DECODER.decode(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise TokenError(
            "token-invalid",
            f"Invalid JWT form. The {what} could not be decoded as JSON.",
        ) from exc
    if not isinstance(value, dict):
        raise TokenError("token-invalid", f"Invalid JWT form. The {what} is not a JSON object.")
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and not _depth_ok(value):
        raise TokenError("token-invalid", f"Invalid JWT form. The {what} is nested too deeply.")
    return value


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
    if _JWS.fullmatch(token) is not None:  # one scan for the alphabet of all three segments
        decode = _b64_checked
    else:
        decode = _b64decode  # finds the segment at fault, for the message
    header = _json_object(decode(header_b64, "header"), "header")
    claims = _json_object(decode(payload_b64, "payload"), "payload")
    signature = decode(signature_b64, "signature")
    signing_input = token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")
    return Unverified(header, claims, signing_input, signature, token)
