"""Stateless DPoP server nonces (RFC 9449 §8), signed with itsdangerous.

A nonce is the number of the time window it was made in, signed (HMAC-SHA256) with the
configured secret, so every worker that shares the secret accepts every other worker's nonces
and nothing is stored.
"""

from __future__ import annotations

import hashlib
import time

from itsdangerous import BadSignature
from itsdangerous import Signer

__all__ = ["NonceIssuer"]

#: Longer values are refused unread (a nonce of ours is about 50 characters).
_MAX_NONCE = 128


class NonceIssuer:
    """Server nonces valid in the window they were made in and the next one, so a nonce lives
    between ``lifetime`` and ``2 * lifetime`` seconds."""

    def __init__(self, secret: bytes, lifetime: float = 300.0) -> None:
        if not secret:
            raise ValueError("the nonce secret must not be empty")
        self._signer = Signer(secret, salt="flask-idguard dpop nonce", digest_method=hashlib.sha256)
        self.lifetime = lifetime

    def _window(self, now: float | None) -> int:
        return int((time.time() if now is None else now) // self.lifetime)

    def current(self, now: float | None = None) -> str:
        """The nonce to hand out now (``DPoP-Nonce``)."""
        return self._signer.sign(str(self._window(now))).decode("ascii")

    def check(self, value: object, now: float | None = None) -> bool:
        """Whether ``value`` (a proof's ``nonce`` claim) is a nonce of ours, still fresh."""
        if not isinstance(value, str) or len(value) > _MAX_NONCE or not value.isascii():
            return False
        try:
            window = self._signer.unsign(value).decode("ascii")
        except BadSignature:
            return False
        if not window.isdigit():
            return False
        return self._window(now) - int(window) in (0, 1)
