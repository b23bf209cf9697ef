"""JavaScript semantics that Clerk's values are read and written with.

``@clerk/backend`` runs in JavaScript: its whitespace, ``decodeURIComponent``, number rounding,
truthiness, number printing and ``JSON.stringify`` decide what a cookie or a message holds.
These reproduce them, so that garbage means here what it means there.
"""

from __future__ import annotations

import json
import math
import re
from urllib.parse import unquote

__all__ = [
    "JS_INFINITY_INT",
    "JS_WHITESPACE",
    "as_double",
    "decode_uri_component",
    "js_number",
    "js_number_text",
    "js_stringify",
    "js_trim",
    "js_truthy",
]

#: What JavaScript's ``String.prototype.trim``, ``parseInt`` and ``Number()`` skip: WhiteSpace
#: and LineTerminator (Python's ``str.strip`` differs: it strips U+001C-U+001F and U+0085 too).
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)

#: Stand-in for JavaScript's ``Infinity`` where an ``int`` is returned: larger than any finite
#: double, so it compares with every finite number exactly as ``Infinity`` does.
JS_INFINITY_INT = 2**1024


def js_trim(value: str) -> str:
    """``value.trim()`` in JavaScript."""
    return value.strip(JS_WHITESPACE)


_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def decode_uri_component(value: str) -> str:
    """``decodeURIComponent(value)``, or ``value`` unchanged where it would throw."""
    if "%" not in value or _BAD_PERCENT.search(value):
        return value
    try:
        return unquote(value, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return value


def as_double(value: int) -> int:
    """``value`` rounded to the nearest double, returned as an int (beyond: ±Infinity)."""
    try:
        return int(float(value))
    except OverflowError:
        return JS_INFINITY_INT if value > 0 else -JS_INFINITY_INT


def js_number(value: int | float) -> float:
    """A JSON number as JavaScript holds it: a double, ±Infinity past the double range."""
    try:
        return float(value)
    except OverflowError:  # an integer literal of hundreds of digits
        return math.inf if value > 0 else -math.inf


def js_truthy(value: object) -> bool:
    """JavaScript truthiness of a JSON value."""
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(js_number(value))
    if isinstance(value, str):
        return value != ""
    return True  # true, arrays and objects, even empty ones


def js_number_text(value: float) -> str:
    """A number as JavaScript prints it (``4``, not ``4.0``; ``Infinity``)."""
    if isinstance(value, float):
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if math.isnan(value):
            return "NaN"
        if value.is_integer():
            return str(int(value))
    return re.sub(r"\.0$", "", str(value))


def js_stringify(value: object) -> str:
    """``JSON.stringify`` as Clerk's messages print it (``undefined`` for a missing value)."""
    if value is None:
        return "undefined"
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 200 else text[:197] + "..."
