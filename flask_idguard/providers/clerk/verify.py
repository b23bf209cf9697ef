"""Clerk's token checks (``verifyToken``, the token-class guard, handshake tokens) and messages.

The checks run on the shared verification core (:mod:`flask_idguard.jwt`); this module adds
what is Clerk's own: the ``cat``/machine-token guards, RS256/384/512 only, ``azp`` required
when authorized parties are set, ``aud`` only when both sides have one, no ``iss`` check, and
Clerk's exact reason strings and message texts (spec clerk.md §1.9, §11.17–§11.19).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from functools import cached_property
from typing import Any

from ...core.cache import SizedLRU
from ...core.cache import VerifiedCache
from ...core.frozen import freeze_claims
from ...core.jwt import Policy
from ...core.jwt import TokenError
from ...core.jwt import Unverified
from ...core.jwt import check_claims
from ...core.jwt import decode_unverified
from ...core.jwt import verify_signature
from ...core.keys import KeySource
from .js import js_stringify

__all__ = [
    "ClerkVerifier",
    "full_message",
    "is_non_session_token",
]

logger = logging.getLogger("flask_idguard")

ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
SESSION_CATEGORY = "cl_B7d4PD111AAA"
IGNORED_CATEGORY = "cl_I7d4PD111III"
M2M_CATEGORY = "cl_B7d4PD333AAA"
_ALLOWED_CATEGORIES = (SESSION_CATEGORY, IGNORED_CATEGORY)
_MACHINE_TYPES = ("at+jwt", "application/at+jwt")

#: Clerk's "action" appended to verification messages.
ACTION = "Make sure that this is a valid Clerk-generated JWT."
_THREE_PARTS = "Invalid JWT form. A JWT consists of three parts separated by dots."
_ALG_MISMATCH = 'Error: JWK "alg" does not match the requested algorithm'
_UNDECODABLE = "Invalid JWT form. The header, payload, or signature could not be decoded."


def full_message(exc: TokenError, carrier: str) -> str:
    """``TokenVerificationError.getFullMessage()``: message, action, reason and carrier."""
    action = exc.details.get("action")
    text = f"{exc.message} {action}" if action else exc.message
    return f"{text} (reason={exc.reason}, token-carrier={carrier})"


def is_non_session_token(parsed: Unverified) -> bool:
    """Machine JWTs and non-session categories, refused as ``token-type-mismatch`` (§1.5)."""
    header, claims = parsed.header, parsed.claims
    if header.get("typ") in _MACHINE_TYPES:
        return True
    sub = claims.get("sub")
    if isinstance(sub, str) and sub.startswith("mch_"):
        return True
    return "cat" in header and header["cat"] not in _ALLOWED_CATEGORIES


_PER_CHARACTER = 24
_OVERHEAD = 1024

#: Tokens parsed lately, bounded by the bytes they hold: cookies are unauthenticated input.
PARSED: SizedLRU[Unverified] = SizedLRU(4 * 1024 * 1024)


def parse(token: str) -> Unverified:
    """Decode ``token`` without verifying it; errors carry Clerk's two form messages.

    Remembered for the last tokens seen (a few MiB of them): a session cookie is read by
    several steps of a request and by every request of a page. The result must not be
    mutated.
    """
    parsed = PARSED.get(token)
    if parsed is not None:
        return parsed
    try:
        parsed = decode_unverified(token)
    except TokenError as exc:
        if exc.message == _THREE_PARTS:
            raise
        raise TokenError("token-invalid", _UNDECODABLE) from None
    PARSED.put(token, parsed, parsed_cost(token))
    return parsed


def parsed_cost(token: str) -> int:
    """An upper bound of the bytes a parsed ``token`` holds, from its length alone: the
    token, its decoded parts, and the JSON values, which cost at most ~18 bytes per token
    character (a flat array of empty objects; measured in tests/clerk) plus fixed overhead."""
    return _PER_CHARACTER * len(token) + _OVERHEAD


def _cache_key(parsed: Unverified) -> str:
    """The verified-token cache's key: the token as sent."""
    return parsed.token


@dataclass(frozen=True)
class ClerkVerifier:
    """Verifies session and handshake tokens of one Clerk instance.

    ``keys`` is the instance's key set: the ``CLERK_JWT_KEY`` PEM, or the Backend API JWKS
    (scoped to this instance, never shared, clerk.md §3).
    """

    keys: KeySource
    authorized_parties: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    skew: float = 5.0
    #: Tokens verified moments ago, used only inside their validity window.
    _verified: VerifiedCache[Mapping[str, Any]] = field(
        default_factory=VerifiedCache, repr=False, compare=False
    )

    @cached_property
    def policy(self) -> Policy:
        """Clerk's rules: RS256/384/512, no ``iss``, ``aud`` only when both sides have one,
        ``azp`` required when authorized parties are set."""
        return Policy(
            algorithms=ALGORITHMS,
            issuer=None,
            audience=frozenset(self.audience) if self.audience else None,
            audience_if_present=True,
            authorized_parties=(
                frozenset(self.authorized_parties) if self.authorized_parties else None
            ),
            azp_required=True,
            leeway=self.skew,
            require_sub=True,
            typ=None,
        )

    def verify_session(
        self, parsed: Unverified, *, now: float | None = None, skew: float | None = None
    ) -> Mapping[str, Any]:
        """Clerk's ``verifyToken``: the verified claims (a read-only view, remembered within
        their validity window), or :class:`TokenError` with Clerk's words.

        :raises KeysUnavailable: when the Backend API JWKS cannot be had.
        """
        now = time.time() if now is None else now
        key = _cache_key(parsed)
        if skew is None:
            cached = self._verified.get(key, now)
            if cached is not None:
                return cached
        header = parsed.header
        if header.get("cat") == M2M_CATEGORY:
            raise TokenError("token-invalid", "Invalid session token category.")
        self._check_type_and_algorithm(header)
        policy = self.policy if skew is None else replace(self.policy, leeway=skew)
        try:
            verify_signature(parsed, self.keys, policy)
            check_claims(parsed.claims, policy, now)
        except TokenError as exc:
            raise self._clerk_error(exc, parsed.claims) from None
        claims = freeze_claims(parsed.claims)  # handed to views: read-only, built once
        if skew is None:
            start, until = policy.window(claims)
            until = min(until, now + self._verified.max_age)
            self._verified.put(key, start, until, claims)
        return claims

    def verified_window(self, parsed: Unverified) -> tuple[float, float] | None:
        """When the remembered verification of ``parsed`` is usable (start, until), if it is."""
        return self._verified.window(_cache_key(parsed))

    def verify_handshake(self, parsed: Unverified) -> Mapping[str, Any]:
        """``verifyHandshakeToken``: ``typ``, ``alg``, the ``cat`` allow-list and the signature.

        No time or subject checks apply to the handshake JWT itself (clerk.md §2.3).
        """
        header = parsed.header
        self._check_type_and_algorithm(header)
        if "cat" in header and header["cat"] not in _ALLOWED_CATEGORIES:
            raise TokenError("token-invalid", "Invalid handshake token category.", action=ACTION)
        try:
            verify_signature(parsed, self.keys, self.policy)
        except TokenError as exc:
            if exc.reason == "token-invalid-algorithm":
                raise TokenError(
                    "token-verification-failed", f"Error verifying handshake token. {_ALG_MISMATCH}"
                ) from None
            raise self._clerk_error(exc, parsed.claims) from None
        return parsed.claims

    @staticmethod
    def _check_type_and_algorithm(header: Mapping[str, Any]) -> None:
        # Clerk's order: typ (absent or "JWT"), then alg.
        if "typ" in header and header["typ"] != "JWT":
            raise TokenError(
                "token-invalid",
                f'Invalid JWT type {js_stringify(header["typ"])}. Expected "JWT".',
                action=ACTION,
            )
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALGORITHMS:
            raise TokenError(
                "token-invalid-algorithm",
                f"Invalid JWT algorithm {js_stringify(alg)}. Supported: RS256,RS384,RS512.",
                action=ACTION,
            )

    def _clerk_error(self, exc: TokenError, claims: Mapping[str, Any]) -> TokenError:
        """Rewrite a core error into Clerk's reason and message where they differ."""
        reason, message = exc.reason, exc.message
        claim = exc.details.get("claim")
        if reason == "token-invalid-audience":
            return TokenError(
                "token-verification-failed",
                _audience_message(claims.get("aud"), self.audience),
                action=ACTION,
            )
        if reason == "token-invalid-authorized-parties":
            return TokenError(
                reason,
                f"Invalid JWT Authorized party claim (azp) {js_stringify(claims.get('azp'))}. "
                f'Expected "{",".join(self.authorized_parties)}".',
            )
        if reason == "token-invalid-algorithm":
            # The header's alg was allowed (checked first), so the key is for another one:
            # Clerk's keys are RS256 JWKs, and WebCrypto refuses the mismatch.
            return TokenError(
                "token-verification-failed",
                f"Error verifying JWT signature. {_ALG_MISMATCH}",
                action=ACTION,
            )
        if reason == "jwk-kid-mismatch":
            return TokenError(
                reason,
                f"Unable to find a signing key in JWKS that matches the kid={_kid(exc)} of the "
                "provided session token. Please make sure that the __session cookie or the "
                "HTTP authorization header contain a Clerk-generated session JWT.",
                action="Go to your Dashboard and validate your secret and public keys are "
                "correct. Contact support@clerk.com if the issue persists.",
            )
        if reason == "token-invalid-header":
            # Clerk ignores crit/jku/x5u/x5c/jwk; refusing them is a documented deviation.
            return TokenError("token-invalid", message, action=ACTION)
        if reason == "token-verification-failed" and claim == "sub":
            return TokenError(
                reason,
                "Subject claim (sub) is required and must be a string. "
                f"Received {js_stringify(claims.get('sub'))}.",
                action=ACTION,
            )
        if reason == "token-verification-failed" and claim is not None:
            return TokenError(reason, message, action=ACTION)
        return exc


def _kid(exc: TokenError) -> str:
    kid = exc.details.get("kid")
    return f"'{kid}'" if isinstance(kid, str) else "'undefined'"


def _audience_message(aud: object, audience: Sequence[str]) -> str:
    expected = js_stringify(list(audience))
    kind = "claim array" if isinstance(aud, list) else "claim"
    return (
        f'Invalid JWT audience {kind} (aud) {js_stringify(aud)}. Is not included in "{expected}".'
    )
