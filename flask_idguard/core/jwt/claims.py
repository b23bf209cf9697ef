"""Claim checks: the policy's rules in Clerk's order, custom validators, JSON equality."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from typing import Any
from typing import TypeGuard

from .parse import TokenError
from .parse import shown
from .policy import Policy

__all__ = ["check_claims", "check_validators", "is_number", "json_equal"]

logger = logging.getLogger("flask_idguard")


_WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: JavaScript's time range: ±8.64e15 ms around the epoch (``TimeClip``).
_MAX_TIME_MS = 8.64e15


def _civil(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day count from 1970-01-01, proleptic Gregorian, any year."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, doy - (153 * mp + 2) // 5 + 1


def _http_date(ts: float) -> str:
    """``new Date(ts * 1000).toUTCString()``: any number, ``Invalid Date`` past JavaScript's
    range (a time claim far outside ``datetime``'s years never raises)."""
    ms = ts * 1000
    if not math.isfinite(ms) or abs(ms) > _MAX_TIME_MS:
        return "Invalid Date"
    days, in_day = divmod(int(ms), 86_400_000)
    year, month, day = _civil(days)
    minutes, seconds = divmod(in_day // 1000, 60)
    hours, minutes = divmod(minutes, 60)
    sign = "-" if year < 0 else ""
    return (
        f"{_WEEKDAYS[(days + 4) % 7]}, {day:02d} {_MONTHS[month - 1]} {sign}{abs(year):04d} "
        f"{hours:02d}:{minutes:02d}:{seconds:02d} GMT"
    )


def is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number usable as a time: not a bool, finite, within float range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer literal of hundreds of digits
        return False


#: Integers smaller than this in magnitude convert to a finite float.
_SAFE_INT = 2**1023


def _number(claims: Mapping[str, Any], name: str, label: str) -> float | None:
    value = claims.get(name)
    if type(value) is int and -_SAFE_INT < value < _SAFE_INT:  # the usual case, at once
        return float(value)
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
    _check_subject(claims, policy)
    if policy.audience is not None:
        _check_audience(claims, policy)
    if policy.authorized_parties is not None:
        azp = claims.get("azp")
        listed = isinstance(azp, str) and azp in policy.authorized_parties
        if (azp is not None or policy.azp_required) and not listed:
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
    _check_times(claims, policy, now)
    for name in policy.required_in_order:
        if name not in claims:
            raise TokenError("token-missing-claim", f"Missing '{name}' claim", claim=name)


def _check_subject(claims: Mapping[str, Any], policy: Policy) -> None:
    sub = claims.get("sub")
    if policy.require_sub and not isinstance(sub, str):
        raise TokenError(
            "token-verification-failed",
            f"Subject claim (sub) is required and must be a string. Received {shown(sub)}.",
            claim="sub",
        )
    if sub is not None and not isinstance(sub, str):
        raise TokenError("token-verification-failed", "Subject claim (sub) must be a string.")


def _check_times(claims: Mapping[str, Any], policy: Policy, now: float) -> None:
    """``exp`` (required), ``nbf``, ``iat`` and the maximum token age, with the leeway."""
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
        _check_age(iat, policy.max_token_age, leeway, now)


def _check_age(iat: float | None, max_age: float, leeway: float, now: float) -> None:
    if iat is None:
        raise TokenError(
            "token-verification-failed",
            "Invalid JWT issued at date claim (iat) undefined. Expected number: "
            "a maximum token age is configured.",
            claim="iat",
        )
    if iat + max_age + leeway <= now:
        raise TokenError(
            "token-max-age-exceeded",
            f"JWT was issued at {_http_date(iat)}, more than {max_age:g} s ago "
            "(IDGUARD_MAX_TOKEN_AGE).",
            iat=iat,
            now=now,
        )


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
