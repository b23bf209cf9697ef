"""Clerk's machine tokens: what type a header token is (``machine.ts``) and verifying it
(``verifyMachineAuthToken``): JWT-format M2M and OAuth tokens with the instance's keys,
opaque ``ak_``/``mt_``/``oat_`` tokens through the Backend API, remembered briefly.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property
from typing import Any

from ...core.cache import VerifiedCache
from ...core.frozen import freeze_claims
from ...core.jwt import Policy
from ...core.jwt import TokenError
from ...core.jwt import Unverified
from ...core.jwt import check_claims
from ...core.jwt import verify_signature
from ...core.keys import KeysUnavailable
from ...state import Failure
from .backend import BackendAPIError
from .js import js_stringify
from .machine_api import MachineAPI
from .verify import ALGORITHMS
from .verify import M2M_CATEGORY
from .verify import ClerkVerifier
from .verify import parse

__all__ = ["OPAQUE_PREFIXES", "MachineError", "MachineVerifier", "machine_token_type"]

logger = logging.getLogger("flask_idguard")

M2M_PREFIX, OAUTH_PREFIX, API_KEY_PREFIX, M2M_SUBJECT_PREFIX = "mt_", "oat_", "ak_", "mch_"
OAUTH_TYPES = ("at+jwt", "application/at+jwt")
OPAQUE_PREFIXES = (M2M_PREFIX, OAUTH_PREFIX, API_KEY_PREFIX)
_JWT_FORMAT = re.compile(r"[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\Z")
#: Claims of an M2M JWT that are not its custom ``claims`` (``M2MToken.fromJwtPayload``).
_RESERVED = frozenset({"iss", "sub", "exp", "nbf", "iat", "jti"})
#: Longer opaque tokens, or any with a character outside printable ASCII, are refused without
#: asking the Backend API (Clerk's are a prefix and a few dozen characters).
MAX_OPAQUE_LENGTH = 512
_OPAQUE = re.compile(r"[\x21-\x7e]+\Z")
_NOT_FOUND = {
    "api_key": "API key not found",
    "m2m_token": "Machine token not found",
    "oauth_token": "OAuth token not found",
}


def _parsed_jwt(token: str) -> Unverified | None:
    if _JWT_FORMAT.match(token) is None:
        return None
    try:
        return parse(token)
    except TokenError:
        return None


def _jwt_type(parsed: Unverified) -> str | None:
    sub = parsed.claims.get("sub")
    if isinstance(sub, str) and sub.startswith(M2M_SUBJECT_PREFIX):
        return "m2m_token"
    return "oauth_token" if parsed.header.get("typ") in OAUTH_TYPES else None


def machine_token_type(token: str) -> str | None:
    """Clerk's ``getMachineTokenType``: ``m2m_token`` (``mt_``, or a JWT whose ``sub`` is a
    ``mch_`` machine), ``oauth_token`` (``oat_``, or a JWT typed ``at+jwt``), ``api_key``
    (``ak_``); None for anything else (a session token, or garbage)."""
    if token.startswith(M2M_PREFIX):
        return "m2m_token"
    if token.startswith(OAUTH_PREFIX):
        return "oauth_token"
    if token.startswith(API_KEY_PREFIX):
        return "api_key"
    parsed = _parsed_jwt(token)
    return None if parsed is None else _jwt_type(parsed)


class MachineError(Exception):
    """A machine token that does not verify: Clerk's ``MachineTokenVerificationError``
    (``code`` is the signed-out reason) and how the decorators answer it."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        failure: Failure = "invalid_token",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.failure: Failure = failure

    @property
    def full_message(self) -> str:
        """``getFullMessage()``: ``<message> (code=<code>, status=<status or n/a>)``."""
        return f"{self.message} (code={self.code}, status={self.status or 'n/a'})"


def oauth_audience_error(aud: object, audience: tuple[str, ...]) -> str | None:
    """Clerk's ``assertOAuthAudienceClaim``: the message when ``aud`` misses every expected
    audience (none expected: no check)."""
    if not audience:
        return None
    values = aud if isinstance(aud, list) else [aud] if aud else None
    if not values or not all(isinstance(a, str) and a for a in values):
        return (
            f"Invalid OAuth audience claim (aud) {js_stringify(aud)}. Expected a non-empty "
            "string or a non-empty array of non-empty strings."
        )
    if not any(a in audience for a in values):
        return (
            f"OAuth audience mismatch. Verification expected audience "
            f"{js_stringify(list(audience))}, but incoming token has aud {js_stringify(aud)}."
        )
    return None


def _scopes(value: object) -> list[str]:
    if isinstance(value, str):
        return value.split(" ")
    if isinstance(value, list):
        return [s for s in value if isinstance(s, str)]
    return []


class MachineVerifier:
    """Verifies one instance's machine tokens; verified ones are remembered for at most
    ``ttl`` seconds (and never past their expiry), so a token revoked upstream stops working
    within ``ttl``. ``ttl`` 0 asks the Backend API every time."""

    def __init__(
        self, session: ClerkVerifier, api: MachineAPI, *, ttl: float = 10.0, size: int = 4096
    ) -> None:
        self.session = session
        self.api = api
        self.ttl = ttl
        self._verified: VerifiedCache[Mapping[str, Any]] = VerifiedCache(size, max_age=ttl)

    @cached_property
    def policy(self) -> Policy:
        """``verifyJwt`` as the machine path calls it: no ``azp`` rule, ``aud`` only when both
        sides have one (M2M; OAuth audiences are checked apart)."""
        audience = self.session.audience
        return Policy(
            algorithms=ALGORITHMS,
            issuer=None,
            audience=frozenset(audience) if audience else None,
            audience_if_present=True,
            leeway=self.session.skew,
            require_sub=True,
            typ=None,
        )

    def verify(self, token_type: str, token: str, now: float | None = None) -> Mapping[str, Any]:
        """The verified token as Clerk's resource (``id``, ``subject``, ``scopes``, ...,
        read-only), or :class:`MachineError`."""
        now = time.time() if now is None else now
        key = (token_type, token)
        if self.ttl > 0:
            hit = self._verified.get(key, now)
            if hit is not None:
                return hit
        parsed = _parsed_jwt(token)
        if parsed is not None and _jwt_type(parsed) is not None:
            found = self._verify_jwt(parsed, now)
        else:
            found = self._verify_opaque(token_type, token, now)
        resource = freeze_claims(found)
        expiration = resource.get("expiration")
        until = now + self.ttl
        if isinstance(expiration, int | float) and not isinstance(expiration, bool):
            until = min(until, expiration / 1000)
        if self.ttl > 0 and until > now:
            self._verified.put(key, now, until, resource)
        return resource

    def _verify_opaque(self, token_type: str, token: str, now: float) -> dict[str, Any]:
        if len(token) > MAX_OPAQUE_LENGTH or _OPAQUE.match(token) is None:
            raise MachineError("token-invalid", _NOT_FOUND[token_type])
        try:
            data = dict(self.api.verify(token_type, token))
        except BackendAPIError as exc:
            raise _api_error(token_type, exc) from None
        # Clerk's SDK trusts the answer; a revoked or expired resource is refused all the same.
        expiration = data.get("expiration")
        expired = isinstance(expiration, int | float) and expiration / 1000 <= now
        if data.get("revoked") is True or data.get("expired") is True or expired:
            raise MachineError("token-invalid", f"{_NOT_FOUND[token_type]}", status=404)
        if not isinstance(data.get("subject"), str):
            raise MachineError("unexpected-error", "Unexpected error")
        if token_type == "oauth_token":
            error = oauth_audience_error(data.get("aud"), self.session.audience)
            if error is not None:
                raise MachineError("token-verification-failed", error)
        return data

    def _verify_jwt(self, parsed: Unverified, now: float) -> dict[str, Any]:
        header, claims = parsed.header, parsed.claims
        m2m = _jwt_type(parsed) == "m2m_token"
        if m2m and "cat" in header and header["cat"] != M2M_CATEGORY:
            raise MachineError("token-invalid", "Invalid M2M JWT category.")
        try:
            if m2m:
                # verifyJwt's header checks, the same for sessions and machines.
                ClerkVerifier._check_type_and_algorithm(header)
            else:
                _check_oauth_header(header)
            verify_signature(parsed, self.session.keys, self.policy)
            check_claims(claims, self._policy_for(m2m), now)
        except TokenError as exc:
            error = self.session._clerk_error(exc, claims)  # Clerk's texts, shared
            raise MachineError("token-verification-failed", error.message) from None
        except KeysUnavailable as exc:
            logger.warning("Clerk: signing keys unavailable for a machine token: %s", exc)
            raise MachineError(
                "unexpected-error", "Unexpected error", failure="unavailable"
            ) from None
        if not m2m:
            error_text = oauth_audience_error(claims.get("aud"), self.session.audience)
            if error_text is not None:
                raise MachineError("token-verification-failed", error_text)
        return _jwt_resource(claims, m2m)

    def _policy_for(self, m2m: bool) -> Policy:
        return self.policy if m2m or self.policy.audience is None else self._oauth_policy

    @cached_property
    def _oauth_policy(self) -> Policy:
        """OAuth tokens' ``aud`` is checked after the signature (:func:`oauth_audience_error`)."""
        return replace(self.policy, audience=None, audience_if_present=False)


def _check_oauth_header(header: Mapping[str, Any]) -> None:
    typ = header.get("typ")
    if typ not in OAUTH_TYPES:
        raise TokenError(
            "token-invalid",
            f'Invalid JWT type {js_stringify(typ)}. Expected "{", ".join(OAUTH_TYPES)}".',
        )
    ClerkVerifier._check_type_and_algorithm({"alg": header.get("alg")})


def _jwt_resource(claims: Mapping[str, Any], m2m: bool) -> dict[str, Any]:
    """``M2MToken.fromJwtPayload`` / ``IdPOAuthAccessToken.fromJwtPayload``, snake_case."""
    exp, iat = claims.get("exp"), claims.get("iat")
    common = {
        "id": claims.get("jti") or "",
        "subject": claims["sub"],
        "revoked": False,
        "revocation_reason": None,
        "expired": False,
        "expiration": exp * 1000 if isinstance(exp, int | float) else None,
        "created_at": iat * 1000 if isinstance(iat, int | float) else None,
    }
    if m2m:
        custom = {k: v for k, v in claims.items() if k not in _RESERVED}
        scopes = claims.get("scopes")
        return {
            **common,
            "scopes": _scopes(scopes if isinstance(scopes, str) else claims.get("aud")),
            "claims": custom or None,
        }
    aud = claims.get("aud")
    scp = claims.get("scp")
    return {
        **common,
        "type": "oauth_token",
        "client_id": claims.get("client_id") or "",
        "scopes": _scopes(scp if scp is not None else claims.get("scope")),
        "aud": None if aud is None else aud if isinstance(aud, list) else [aud],
    }


def _api_error(token_type: str, exc: BackendAPIError) -> MachineError:
    """``handleClerkAPIError``: 401 → ``secret-key-invalid``, 404 → ``token-invalid``, anything
    else ``unexpected-error``. An API that cannot answer (no answer, 429, 5xx) is a 503."""
    status = exc.status
    if status == 401:
        return MachineError(
            "secret-key-invalid", str(exc) or "Invalid secret key", status=401,
            failure="unavailable",
        )  # fmt: skip
    if status == 404:
        return MachineError("token-invalid", _NOT_FOUND[token_type], status=404)
    if status is None or status == 429 or status >= 500:
        logger.warning("Clerk: the Backend API could not verify a machine token: %s", exc)
        return MachineError("unexpected-error", "Unexpected error", status=status,
                            failure="unavailable")  # fmt: skip
    return MachineError("unexpected-error", "Unexpected error", status=status)
