"""The verification core: strict compact-JWS parsing and claim checks on joserfc keys.

This module knows nothing of Flask. :func:`verify` either returns the verified
:class:`VerifiedToken` or raises :class:`TokenError` carrying one stable ``reason``
string (Clerk's words where they fit) and a human ``message``. Providers that need
their own message texts (Clerk) can rebuild them from ``TokenError.details``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import time
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import TypeGuard

from joserfc.jwk import Key
from joserfc.jws import JWSRegistry

from .keys import KeySource

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "MAX_TOKEN_BYTES",
    "Policy",
    "TokenError",
    "VerifiedToken",
    "check_signature",
    "decode_unverified",
    "verify",
    "verify_signature",
]

logger = logging.getLogger("flask_idguard")

#: Algorithms a key set may be configured with: asymmetric signatures only.
ASYMMETRIC_ALGORITHMS = frozenset(
    {
        "RS256", "RS384", "RS512",
        "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512",
        "EdDSA", "Ed25519",
    }
)  # fmt: skip

#: Tokens longer than this are refused before any decoding (CVE-2025-61920's lesson).
MAX_TOKEN_BYTES = 16 * 1024

#: Nesting depth allowed in header and payload JSON.
MAX_JSON_DEPTH = 32

#: Header members that carry or point at key material. Keys come only from the
#: configured key set, so a token that brings its own is refused outright.
KEY_MATERIAL_HEADERS = ("jku", "x5u", "x5c", "jwk")

#: A custom claim check: a literal compared for equality, or a predicate.
Validator = Callable[[Any, Mapping[str, Any], Mapping[str, Any]], bool] | str | int | float | bool

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_ALG_MODELS = {name: JWSRegistry.algorithms[name] for name in ASYMMETRIC_ALGORITHMS}


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


@dataclass(frozen=True)
class Policy:
    """What a provider accepts. Built once at ``init_app``; immutable afterwards.

    ``issuer`` None skips the ``iss`` check (Clerk relies on per-instance keys).
    ``audience`` None skips ``aud``; with ``audience_if_present`` the check runs only
    when the token carries an ``aud`` (Clerk's rule). ``authorized_parties`` None
    skips ``azp``; ``azp_required`` makes a missing ``azp`` fail (Clerk's rule);
    otherwise an ``azp`` is checked only when present. ``typ`` None accepts any
    header ``typ``; a set lists the accepted values (compared case-insensitively)
    and may contain None for "absent".
    """

    algorithms: frozenset[str] = frozenset({"RS256"})
    issuer: str | None = None
    #: False keeps ``issuer`` for routing but skips the ``iss`` comparison.
    check_issuer: bool = True
    audience: frozenset[str] | None = None
    audience_if_present: bool = False
    authorized_parties: frozenset[str] | None = None
    azp_required: bool = False
    leeway: float = 5.0
    require_sub: bool = True
    typ: frozenset[str | None] | None = None
    max_token_bytes: int = MAX_TOKEN_BYTES
    #: Seconds after ``iat`` a token stays acceptable (``iat`` then required).
    max_token_age: float | None = None
    #: Claims that must be present (any value).
    required_claims: frozenset[str] = frozenset()
    #: Extra checks: name → literal (equality) or ``fn(value, claims, header) -> bool``.
    #: ``alg`` and ``typ`` read the header, every other name the claims.
    validators: Mapping[str, Validator] = field(default_factory=dict)

    def window(self, claims: Mapping[str, Any]) -> tuple[float, float]:
        """The (from, until) wall-clock interval in which verified ``claims`` stay valid."""
        until = float(claims["exp"]) + self.leeway
        if self.max_token_age is not None:
            until = min(until, float(claims["iat"]) + self.max_token_age + self.leeway)
        nbf = claims.get("nbf")
        start = float(nbf) - self.leeway if nbf is not None else -math.inf
        return start, until

    def __post_init__(self) -> None:
        expected_algorithms(self.algorithms)
        if not math.isfinite(self.leeway) or self.leeway < 0:
            raise ValueError("leeway must be a finite number of seconds >= 0")


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature and claims passed the policy."""

    token: str = field(repr=False)
    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    kid: str | None


@dataclass(frozen=True)
class Unverified:
    """A strictly parsed but *unverified* compact JWS."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes = field(repr=False)
    signature: bytes = field(repr=False)


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
    header = _json_object(_b64decode(header_b64, "header"), "header")
    claims = _json_object(_b64decode(payload_b64, "payload"), "payload")
    signature = _b64decode(signature_b64, "signature")
    return Unverified(header, claims, f"{header_b64}.{payload_b64}".encode("ascii"), signature)


def _check_header(header: Mapping[str, Any], policy: Policy) -> str:
    """Return the header's ``alg`` after the checks that need no key."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in policy.algorithms:
        allowed = ",".join(sorted(policy.algorithms))
        raise TokenError(
            "token-invalid-algorithm",
            f"Invalid JWT algorithm {shown(alg)}. Supported: {allowed}.",
            alg=alg,
        )
    if "crit" in header:
        raise TokenError(
            "token-invalid-header",
            "The JWT header lists critical extensions (crit) that are not understood.",
        )
    for name in KEY_MATERIAL_HEADERS:
        if name in header:
            raise TokenError(
                "token-invalid-header",
                f'The JWT header carries "{name}": keys come only from the configured key set.',
            )
    if policy.typ is not None:
        typ = header.get("typ")
        norm = typ.lower() if isinstance(typ, str) else typ
        accepted = {t.lower() if isinstance(t, str) else t for t in policy.typ}
        if norm not in accepted or not (typ is None or isinstance(typ, str)):
            expected = ", ".join(sorted(t for t in policy.typ if t is not None))
            raise TokenError(
                "token-invalid",
                f"Invalid JWT type {'undefined' if typ is None else shown(typ)}. "
                f'Expected "{expected}".',
                typ=typ,
            )
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenError("jwk-kid-mismatch", "The JWT kid header is not a string.")
    return alg


def _check_key(key: Key, alg: str) -> None:
    model = _ALG_MODELS[alg]
    key_alg = key.alg
    if key.key_type != model.key_type or (key_alg is not None and key_alg != alg):
        raise TokenError(
            "token-invalid-algorithm",
            f"Invalid JWT algorithm {shown(alg)}: the key with this kid is for another algorithm.",
            alg=alg,
        )
    check = getattr(model, "check_key", None)
    if check is not None:
        try:
            check(key)
        except Exception as exc:
            raise TokenError(
                "token-invalid-algorithm",
                f"Invalid JWT algorithm {shown(alg)}: the key with this kid does not fit it.",
                alg=alg,
            ) from exc


def _http_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number usable as a time: not a bool, finite, within float range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer literal of hundreds of digits
        return False


def _number(claims: Mapping[str, Any], name: str, label: str) -> float | None:
    value = claims.get(name)
    if value is None and name not in claims:
        return None
    if not is_number(value):
        raise TokenError(
            "token-verification-failed",
            f"Invalid JWT {label} claim ({name}) {shown(value)}. Expected number.",
            claim=name,
        )
    return float(value)


def check_claims(claims: Mapping[str, Any], policy: Policy, now: float) -> None:
    """Apply the policy's claim rules in Clerk's order: sub, aud, azp, iss, exp, nbf, iat."""
    sub = claims.get("sub")
    if policy.require_sub and not isinstance(sub, str):
        raise TokenError(
            "token-verification-failed",
            f"Subject claim (sub) is required and must be a string. Received {shown(sub)}.",
            claim="sub",
        )
    if sub is not None and not isinstance(sub, str):
        raise TokenError("token-verification-failed", "Subject claim (sub) must be a string.")
    if policy.audience is not None:
        _check_audience(claims, policy)
    if policy.authorized_parties is not None:
        azp = claims.get("azp")
        if (azp is not None or policy.azp_required) and azp not in policy.authorized_parties:
            raise TokenError(
                "token-invalid-authorized-parties",
                f"Invalid JWT Authorized party claim (azp) {shown(azp)}. "
                f'Expected "{",".join(sorted(policy.authorized_parties))}".',
                claim="azp",
            )
    if policy.issuer is not None and policy.check_issuer and claims.get("iss") != policy.issuer:
        raise TokenError(
            "token-invalid-issuer",
            f"Unexpected 'iss' value {shown(claims.get('iss'))}; expected {policy.issuer!r}.",
            claim="iss",
        )
    exp = _number(claims, "exp", "expiry date")
    if exp is None:
        raise TokenError(
            "token-verification-failed",
            "Invalid JWT expiry date claim (exp) undefined. Expected number.",
            claim="exp",
        )
    leeway = policy.leeway
    if exp <= now - leeway:
        raise TokenError(
            "token-expired",
            f"JWT is expired. Expiry date: {_http_date(exp)}, Current date: {_http_date(now)}.",
            exp=exp,
            now=now,
            hint="If clocks drift, raise IDGUARD_CLOCK_SKEW.",
        )
    nbf = _number(claims, "nbf", "not before date")
    if nbf is not None and nbf > now + leeway:
        raise TokenError(
            "token-not-active-yet",
            "JWT cannot be used prior to not before date claim (nbf). "
            f"Not before date: {_http_date(nbf)}; Current date: {_http_date(now)};",
            nbf=nbf,
            now=now,
        )
    iat = _number(claims, "iat", "issued at date")
    if iat is not None and iat > now + leeway:
        raise TokenError(
            "token-iat-in-the-future",
            "JWT issued at date claim (iat) is in the future. "
            f"Issued at date: {_http_date(iat)}; Current date: {_http_date(now)};",
            iat=iat,
            now=now,
        )
    if policy.max_token_age is not None:
        if iat is None:
            raise TokenError(
                "token-verification-failed",
                "Invalid JWT issued at date claim (iat) undefined. Expected number: "
                "a maximum token age is configured.",
                claim="iat",
            )
        if iat + policy.max_token_age + leeway <= now:
            raise TokenError(
                "token-max-age-exceeded",
                f"JWT was issued at {_http_date(iat)}, more than {policy.max_token_age:g} s ago "
                "(IDGUARD_MAX_TOKEN_AGE).",
                iat=iat,
                now=now,
            )
    for name in sorted(policy.required_claims):
        if name not in claims:
            raise TokenError("token-missing-claim", f"Missing '{name}' claim", claim=name)


def check_validators(header: Mapping[str, Any], claims: Mapping[str, Any], policy: Policy) -> None:
    """Run the policy's custom validators; the first failure wins."""
    for name, validator in policy.validators.items():
        source = header if name in ("alg", "typ") else claims
        value = source.get(name)
        if callable(validator):
            try:
                ok = validator(value, claims, header) is True
            except Exception:
                logger.exception("Validator for %r raised; treating it as a failed check", name)
                ok = False
        else:
            ok = name in source and json_equal(value, validator)
        if not ok:
            raise TokenError("token-invalid-claim", f"Unexpected '{name}' value", claim=name)


def json_equal(a: object, b: object) -> bool:
    """JSON equality: ``True`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    return a == b


def _check_audience(claims: Mapping[str, Any], policy: Policy) -> None:
    assert policy.audience is not None
    aud = claims.get("aud")
    if policy.audience_if_present and aud in (None, "", []):
        return
    if isinstance(aud, str):
        ok = aud in policy.audience
    elif isinstance(aud, list):
        ok = any(isinstance(a, str) and a in policy.audience for a in aud)
    else:
        ok = False
    if not ok:
        expected = json.dumps(sorted(policy.audience))
        raise TokenError(
            "token-invalid-audience",
            f"Unexpected 'aud' value {shown(aud)}; expected one of {expected}.",
            claim="aud",
        )


def check_signature(parsed: Unverified, key: Key, alg: str) -> None:
    """Check that ``key`` fits ``alg`` and signed ``parsed``; raise :class:`TokenError` if not.

    ``alg`` must be one of :data:`ASYMMETRIC_ALGORITHMS` (the caller's allow-list check).
    """
    _check_key(key, alg)
    try:
        valid = _ALG_MODELS[alg].verify(parsed.signing_input, parsed.signature, key)
    except Exception as exc:
        raise TokenError(
            "token-verification-failed", f"Error verifying JWT signature. {type(exc).__name__}"
        ) from exc
    if not valid:
        raise TokenError("token-invalid-signature", "JWT signature is invalid.")


def verify_signature(p: Unverified, keys: KeySource, policy: Policy) -> str | None:
    """Check the header (alg allow-list, no key material, typ), find the key by ``kid`` and
    check the signature; return the kid.

    Claims are not looked at: :func:`verify` adds them, and a handshake token (Clerk) is
    checked with this step alone.
    """
    alg = _check_header(p.header, policy)
    kid = p.header.get("kid")
    key = keys.get(kid)
    if key is None:
        raise TokenError(
            "jwk-kid-mismatch",
            "Unable to find a signing key that matches the JWT kid"
            + (f" {shown(kid)}." if kid is not None else " (the token has no kid)."),
            kid=kid,
        )
    check_signature(p, key, alg)
    return kid


def verify(
    token: str,
    keys: KeySource,
    policy: Policy,
    *,
    now: float | None = None,
    parsed: Unverified | None = None,
) -> VerifiedToken:
    """Verify ``token`` against ``keys`` and ``policy``; signature before claims.

    Raises :class:`TokenError` for any token that must not be trusted, and
    :class:`~flask_idguard.keys.KeysUnavailable` when no key set can be had.
    """
    p = parsed if parsed is not None else decode_unverified(token, max_bytes=policy.max_token_bytes)
    kid = verify_signature(p, keys, policy)
    check_claims(p.claims, policy, time.time() if now is None else now)
    if policy.validators:
        check_validators(p.header, p.claims, policy)
    return VerifiedToken(token, p.header, p.claims, kid)


def expected_algorithms(values: Collection[str]) -> frozenset[str]:
    """Validate a configured algorithm list (asymmetric only) and freeze it."""
    algs = frozenset(values)
    bad = sorted(a for a in algs if a not in ASYMMETRIC_ALGORITHMS)
    if bad or not algs:
        raise ValueError(
            f"{bad or 'an empty list'} cannot be used: only asymmetric algorithms are accepted "
            f"({', '.join(sorted(ASYMMETRIC_ALGORITHMS))}). HS* and none are refused because a "
            "public key must never be usable as an HMAC secret."
        )
    return algs
