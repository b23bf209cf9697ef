"""Reading Clerk's cookies: the ``Cookie`` header, the suffixed-cookie decision, the numbers.

Clerk's values are parsed with JavaScript semantics (the ``cookie`` package, ``parseInt``,
``Number()``, on the primitives of :mod:`.js`); the readers below reproduce them exactly so
that garbage means here what it means there (research notes §1.3 and §11.4–§11.7). Nothing
here raises on hostile input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from ...core.jwt import TokenError
from .js import JS_INFINITY_INT
from .js import JS_WHITESPACE
from .js import as_double
from .js import decode_uri_component
from .js import js_number
from .js import js_trim
from .js import js_truthy
from .verify import parse

__all__ = [
    "first_cookies",
    "from_another_instance",
    "parse_client_uat",
    "parse_redirect_count",
    "session_token_in",
    "unverified_claims",
    "uses_suffixed_cookies",
]

SESSION = "__session"
CLIENT_UAT = "__client_uat"

# -- Cookie header ---------------------------------------------------------------------------


def _trim_sp_tab(value: str) -> str:
    return value.strip(" \t")


def first_cookies(cookie_header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header the way Clerk's ``cookie`` package (1.x) does.

    The header is split on ``;`` first and each value is percent-decoded afterwards, so an
    encoded ``%3B``/``%3D`` stays inside its value and never creates a cookie (AISEC-89).
    The **first** occurrence of a name wins. Names and values are trimmed of spaces and tabs
    only; a segment without ``=`` is skipped; quotes are kept as part of the value (no
    quoted-string unescaping); a value whose percent-escapes are not valid UTF-8 is kept raw.

    Werkzeug's ``parse_cookie`` is not used because it differs on all of these: it does not
    percent-decode, unescapes quoted strings, drops values containing spaces and turns a bare
    ``name`` into ``name=""``.
    """
    cookies: dict[str, str] = {}
    if len(cookie_header) < 2:
        return cookies
    for segment in cookie_header.split(";"):
        name, eq, value = segment.partition("=")
        if not eq:
            continue
        name = _trim_sp_tab(name)
        if name not in cookies:
            cookies[name] = decode_uri_component(_trim_sp_tab(value))
    return cookies


# -- numbers ---------------------------------------------------------------------------------

_PARSE_INT = re.compile(r"([+-]?)(?:0[xX]([0-9A-Fa-f]+)|([0-9]+))")
_NUMBER_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_NUMBER_RADIX = re.compile(r"0(?:([xX])([0-9A-Fa-f]+)|([oO])([0-7]+)|([bB])([01]+))")
#: Longer decimal runs exceed the largest finite double (about 1.8e308) whatever they hold.
_MAX_DOUBLE_DIGITS = 310


def parse_client_uat(value: str | None) -> int:
    """``Number.parseInt(value || "") || 0``: the ``__client_uat`` timestamp.

    Leading JavaScript whitespace is skipped, an optional sign is read, ``0x``/``0X`` selects
    hexadecimal, otherwise the longest leading run of ASCII digits is used and the rest is
    ignored (``"123abc"`` → 123). Nothing parsable (missing, empty, ``"abc"``) → 0. The result
    is rounded like a JavaScript number; beyond the double range it is ±:data:`JS_INFINITY_INT`.
    """
    if not value:
        return 0
    match = _PARSE_INT.match(value.lstrip(JS_WHITESPACE))
    if not match:
        return 0
    sign, hex_digits, digits = match.groups()
    if hex_digits is not None:
        number = int(hex_digits, 16)
    else:
        digits = digits.lstrip("0") or "0"
        number = JS_INFINITY_INT if len(digits) > _MAX_DOUBLE_DIGITS else int(digits)
    return as_double(-number if sign == "-" else number)


def parse_redirect_count(value: str | None) -> int | float:
    """``Number(value) || 0``: the ``__clerk_redirect_count`` cookie.

    The whole value must be a JavaScript numeric literal once surrounding whitespace is
    trimmed: a decimal (``"3"``, ``" 3 "``, ``"3.0"``, ``"3e0"``, ``".5"``, ``"Infinity"``)
    or an unsigned ``0x``/``0o``/``0b`` integer. Empty, missing or anything else (``"3a"``,
    ``"-0x1"``, ``"1_000"``) → 0. Integral values come back as ``int`` (``"3.0"`` → 3), others
    as ``float`` (``"3.5"``, ``inf``), so ``== 3`` and ``== 0`` test what Clerk tests.
    """
    if not value:
        return 0
    text = js_trim(value)
    if not text:
        return 0
    number: float
    if _NUMBER_DECIMAL.fullmatch(text):
        number = float(text.replace("Infinity", "inf"))
    elif radix := _NUMBER_RADIX.fullmatch(text):
        base = {"x": 16, "o": 8, "b": 2}[next(g for g in radix.groups()[::2] if g).lower()]
        integer = int(next(g for g in radix.groups()[1::2] if g), base)
        try:
            number = float(integer)
        except OverflowError:
            number = math.inf
    else:
        return 0
    if number == 0 or math.isnan(number):
        return 0
    if math.isfinite(number) and number.is_integer():
        return int(number)
    return number


# -- the suffixed-cookie decision ------------------------------------------------------------


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The claims of ``token`` without verifying it; None when it does not decode."""
    try:
        return parse(token).claims  # remembered: the decision tree decodes it again
    except TokenError:
        return None


def from_another_instance(
    session_claims: Mapping[str, Any] | None, original_frontend_api: str
) -> bool | None:
    """Rules 1 and 2 of :func:`uses_suffixed_cookies` for a ``__session`` cookie: None when
    its ``iss`` is falsy in JavaScript terms (or it does not decode), True when the ``iss``
    is not a string or names another frontend API, False when it names this one."""
    issuer = session_claims.get("iss") if session_claims is not None else None
    if not js_truthy(issuer):
        return None
    return not isinstance(issuer, str) or _issuer_host(issuer) != original_frontend_api


def _number(claims: Mapping[str, Any] | None, name: str) -> float | None:
    """A numeric claim as JavaScript reads it (an integer past the double range is ±Infinity);
    None for NaN and anything that is not a number."""
    value = claims.get(name) if claims is not None else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = js_number(value)
    return None if math.isnan(number) else number


_SCHEMES = re.compile(r"https?://", re.IGNORECASE)


def _issuer_host(issuer: str) -> str:
    """``iss`` with every ``http://``/``https://`` (any case) removed, as Clerk compares it."""
    return _SCHEMES.sub("", issuer)


def uses_suffixed_cookies(
    cookies: Mapping[str, str],
    *,
    suffix: str,
    original_frontend_api: str,
    production: bool,
    now: float,
) -> bool:
    """Clerk's ``usesSuffixedCookies()``: read ``__session_<suffix>`` & co., or the plain names?

    A cookie *exists* when it is in ``cookies`` with a non-empty value: Clerk tests the value's
    truthiness, so ``__session=`` counts as absent. A missing ``__client_uat`` is "not ``'0'``".
    Tokens are decoded without verification; an undecodable token has no claims, and a
    non-numeric ``iat``/``exp`` (booleans included) counts as absent. Rules, first match wins:

    1. ``__session`` exists and is undecodable or its ``iss`` is falsy in JavaScript terms
       (absent, ``null``, ``""``, ``0``, ``false``) → False;
    2. ``__session`` exists and its ``iss`` is not a string, or differs from
       ``original_frontend_api`` once every ``http://``/``https://`` (any case) is removed → True
       (the cookie belongs to another app on the same site);
    3. neither the suffixed ``__client_uat`` nor the suffixed ``__session`` exists → False;
    4. suffixed uat ≠ ``"0"``, plain uat ≠ ``"0"`` and the plain session's ``iat`` is greater
       than the suffixed session's (each 0 when absent) → False;
    5. suffixed uat = ``"0"`` and plain uat ≠ ``"0"`` → False;
    6. development only: suffixed uat ≠ ``"0"``, plain uat = ``"0"`` and the suffixed session's
       ``exp`` ≤ ``floor(now)`` → False;
    7. the suffixed session exists without a suffixed uat → False;
    8. otherwise → True.
    """
    suffixed_uat = cookies.get(f"{CLIENT_UAT}_{suffix}") or None
    plain_uat = cookies.get(CLIENT_UAT) or None
    suffixed_session = cookies.get(f"{SESSION}_{suffix}") or None
    session = cookies.get(SESSION) or None

    session_claims = unverified_claims(session) if session else None
    if session:
        other = from_another_instance(session_claims, original_frontend_api)
        if other is None:
            return False
        if other:
            return True
    if not suffixed_uat and not suffixed_session:
        return False

    suffixed_claims = unverified_claims(suffixed_session) if suffixed_session else None
    session_iat = _number(session_claims, "iat") or 0
    suffixed_iat = _number(suffixed_claims, "iat") or 0
    if suffixed_uat != "0" and plain_uat != "0" and session_iat > suffixed_iat:
        return False
    if suffixed_uat == "0" and plain_uat != "0":
        return False
    if not production and suffixed_uat != "0" and plain_uat == "0":
        exp = _number(suffixed_claims, "exp")
        if exp is not None and exp <= math.floor(now):
            return False
    return not (suffixed_session and not suffixed_uat)


def session_token_in(set_cookies: Iterable[str]) -> str:
    """The value of the last ``__session*`` cookie among ``Set-Cookie`` strings, or ``""``.

    Names and values are read as ``tokens/cookie.ts`` reads them: the part before the first
    ``;``, split on ``=`` (the value is the second piece). Used for handshake directives and
    for the cookies a refresh returns.
    """
    token = ""
    for directive in set_cookies:
        pieces = directive.split(";", 1)[0].split("=")
        if pieces[0].startswith("__session"):
            token = pieces[1] if len(pieces) > 1 else ""
    return token
