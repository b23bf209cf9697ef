"""Clerk session claims (v1 and v2) as auth fields, and Clerk's ``has()`` authorization check.

:func:`session_fields` follows ``@clerk/shared``'s ``JWTPayloadToAuthObjectProperties`` and
:func:`check_authorization` its hardened ``createCheckAuthorization`` (GHSA-w24r-5266-9c3c):
each dimension asked (organization, billing, reverification) passes or fails, and access needs
at least one pass and no failure. Claims are type-checked: a value of the wrong JSON type counts
as absent and never raises a ``TypeError`` (research notes §4, §11.24).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from typing import Literal
from typing import NamedTuple
from typing import TypeGuard

from ...core.jwt import is_number
from .js import js_trim

__all__ = [
    "REVERIFICATION_PRESETS",
    "ClaimError",
    "SessionFields",
    "check_authorization",
    "session_fields",
    "split_by_scope",
]

Outcome = Literal["pass", "fail", "skip"]

#: Reverification presets: name → (minutes, level).
REVERIFICATION_PRESETS: Mapping[str, tuple[int, str]] = {
    "strict_mfa": (10, "multi_factor"),
    "strict": (10, "second_factor"),
    "moderate": (60, "second_factor"),
    "lax": (1440, "second_factor"),
}
_LEVELS = frozenset({"first_factor", "second_factor", "multi_factor"})
_ORG_SCOPES = frozenset({"o", "org", "organization"})
_USER_SCOPES = frozenset({"u", "user"})
_DIGITS = re.compile(r"[0-9]+")
#: Decimal digits converted per step when decoding a mask (below Python's int/str limit).
_CHUNK = 1000


class ClaimError(ValueError):
    """A v2 claim Clerk cannot parse: ``Invalid claim element (missing colon): <element>``."""


class SessionFields(NamedTuple):
    """The auth fields of a verified session token, typed (a named tuple: made per request).

    A claim of the wrong type is None. ``factor_verification_age`` is ``fva`` only when it is
    a pair of valid ages (numbers, finite, -1 or ≥ 0), else None: Clerk's ``has()`` treats
    any other ``fva`` as missing. ``org_role`` is always ``org:``-prefixed for v2 tokens;
    ``org_permissions`` keeps the string entries of the claim (v1) or the permissions decoded
    from ``o.per``/``o.fpm`` (v2).
    """

    user_id: str | None
    session_id: str | None
    session_status: str | None
    actor: Mapping[str, Any] | None
    factor_verification_age: tuple[float, float] | None
    org_id: str | None
    org_role: str | None
    org_slug: str | None
    org_permissions: tuple[str, ...] | None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _is_number(value: object) -> TypeGuard[float]:
    """A JSON number: int or float, not bool (``typeof x === "number"``)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _factor_age(value: object) -> bool:
    return is_number(value) and (value == -1 or value >= 0)  # finite, within float range


def _fva(value: object) -> tuple[float, float] | None:
    if isinstance(value, list) and len(value) == 2 and all(_factor_age(v) for v in value):
        return (value[0], value[1])
    return None


def split_by_scope(claim: str) -> tuple[list[str], list[str]]:
    """Split a ``fea``/``pla`` claim into (organization, user) entries.

    Elements are comma-separated and trimmed; each is ``scope:name`` split at the first colon.
    Scope ``o`` goes to the organization list, ``u`` to the user list, ``ou``/``uo`` to both,
    any other scope nowhere. An element without a colon (an empty one included) raises
    :class:`ClaimError`. An empty claim gives two empty lists.
    """
    org: list[str] = []
    user: list[str] = []
    if not claim:
        return org, user
    for raw in claim.split(","):
        element = js_trim(raw)
        scope, colon, name = element.partition(":")
        if not colon:
            raise ClaimError(f"Invalid claim element (missing colon): {element}")
        if scope in ("o", "ou", "uo"):
            org.append(name)
        if scope in ("u", "ou", "uo"):
            user.append(name)
    return org, user


def _mask_bits(mask: str, width: int) -> int | None:
    """A decimal mask, exactly, reduced to its low ``width`` bits; None if not all digits."""
    if not _DIGITS.fullmatch(mask):
        return None
    modulus = 1 << width
    value = 0
    for start in range(0, len(mask), _CHUNK):
        chunk = mask[start : start + _CHUNK]
        value = (value * 10 ** len(chunk) + int(chunk)) % modulus
    return value


def _org_permissions(claims: Mapping[str, Any], org: Mapping[str, Any]) -> tuple[str, ...]:
    """``org:<feature>:<permission>`` for every bit set in a feature's ``fpm`` mask.

    The masks align with the organization-scoped ``fea`` entries (``o``, ``ou``, ``uo``) in
    order, as in Clerk's JavaScript SDK; bit k (least significant first) is ``per[k]``.
    """
    fea = claims.get("fea")
    features = split_by_scope(fea)[0] if isinstance(fea, str) else []
    per, fpm = org.get("per"), org.get("fpm")
    if not isinstance(per, str) or not per or not isinstance(fpm, str) or not fpm:
        return ()
    permissions = [js_trim(p) for p in per.split(",")]
    masks = [js_trim(m) for m in fpm.split(",")]
    granted: list[str] = []
    for feature, mask in zip(features, masks, strict=False):
        bits = _mask_bits(mask, len(permissions))
        if not bits:
            continue
        granted.extend(
            f"org:{feature}:{permission}"
            for k, permission in enumerate(permissions)
            if bits >> k & 1
        )
    return tuple(granted)


def session_fields(claims: Mapping[str, Any]) -> SessionFields:
    """The auth fields of verified ``claims``, v1 or v2 (``v: 2`` with an ``o`` object).

    v1 reads ``org_id``, ``org_role``, ``org_slug`` and ``org_permissions``. v2 reads ``o.id``,
    ``o.slg``, ``"org:" + o.rol`` (a non-empty string) and decodes the permissions; without an
    ``o`` object every organization field is None. Raises :class:`ClaimError` for a v2 token
    with ``o`` whose ``fea`` has an element without a colon, as Clerk does.
    """
    v = claims.get("v")
    org_id = org_role = org_slug = None
    permissions: tuple[str, ...] | None = None
    if _is_number(v) and v == 2:
        org = claims.get("o")
        if isinstance(org, Mapping):
            org_id, org_slug = _str(org.get("id")), _str(org.get("slg"))
            role = org.get("rol")
            org_role = "org:" + role if isinstance(role, str) and role else None
            permissions = _org_permissions(claims, org)
    else:
        org_id, org_role = _str(claims.get("org_id")), _str(claims.get("org_role"))
        org_slug = _str(claims.get("org_slug"))
        listed = claims.get("org_permissions")
        if isinstance(listed, list):
            permissions = tuple(p for p in listed if isinstance(p, str))
    actor = claims.get("act")
    return SessionFields(
        user_id=_str(claims.get("sub")),
        session_id=_str(claims.get("sid")),
        session_status=_str(claims.get("sts")),
        actor=actor if isinstance(actor, Mapping) else None,
        factor_verification_age=_fva(claims.get("fva")),
        org_id=org_id,
        org_role=org_role,
        org_slug=org_slug,
        org_permissions=permissions,
    )


# -- has() -----------------------------------------------------------------------------------


def _prefix_with_org(value: str) -> str:
    """Any leading run of ``org:`` replaced by a single ``org:`` (``admin`` → ``org:admin``)."""
    return re.sub(r"^(?:org:)*", "org:", value, count=1)


def _check_org(fields: SessionFields, role: object, permission: object) -> Outcome:
    if role is None and permission is None:
        return "skip"
    if role is not None and not isinstance(role, str):
        return "fail"
    if permission is not None and not isinstance(permission, str):
        return "fail"
    if not fields.org_id:
        return "fail"
    if isinstance(role, str):
        if not fields.org_role or _prefix_with_org(fields.org_role) != _prefix_with_org(role):
            return "fail"
    if isinstance(permission, str):
        granted = fields.org_permissions
        if granted is None or _prefix_with_org(permission) not in granted:
            return "fail"
    return "pass"


def _has_entitlement(claim: str, wanted: str) -> bool:
    """Whether ``wanted`` (``name`` or ``scope:name``) is in a ``fea``/``pla`` claim.

    Raises :class:`ClaimError` for a malformed claim and :class:`ValueError` for an unknown
    scope; the caller turns both into a failure.
    """
    org, user = split_by_scope(claim)
    pieces = wanted.split(":")
    scope = pieces[0]
    name = pieces[1] if len(pieces) > 1 and pieces[1] else scope
    if len(pieces) == 1:
        return name in org or name in user
    if scope in _ORG_SCOPES:
        return name in org
    if scope in _USER_SCOPES:
        return name in user
    raise ValueError(f"Invalid scope: {scope}")


def _check_billing(claims: Mapping[str, Any], feature: object, plan: object) -> Outcome:
    if feature is None and plan is None:
        return "skip"
    for wanted, claim in ((feature, claims.get("fea")), (plan, claims.get("pla"))):
        if wanted is None:
            continue
        if not isinstance(wanted, str) or not isinstance(claim, str) or not claim:
            return "fail"
        try:
            if not _has_entitlement(claim, wanted):
                return "fail"
        except ValueError:  # ClaimError included
            return "fail"
    return "pass"


def _reverification_config(value: object) -> tuple[float, str] | None:
    """(minutes, level) of a preset name or a ``{"level", "after_minutes"}`` mapping."""
    if isinstance(value, str):
        return REVERIFICATION_PRESETS.get(value)
    if not isinstance(value, Mapping):
        return None
    level = value.get("level")
    snake, camel = value.get("after_minutes"), value.get("afterMinutes")
    if snake is not None and camel is not None and snake != camel:
        return None
    minutes = snake if snake is not None else camel
    if not isinstance(level, str) or level not in _LEVELS:
        return None
    if not _is_number(minutes) or not minutes > 0:
        return None
    return minutes, level


def _check_reverification(fields: SessionFields, reverification: object) -> Outcome:
    if reverification is None:
        return "skip"
    fva = fields.factor_verification_age
    config = _reverification_config(reverification)
    if fva is None or config is None:
        return "fail"
    minutes, level = config
    age1, age2 = fva
    if age1 == -1 and age2 == -1:
        return "fail"
    fresh1 = age1 != -1 and minutes > age1
    fresh2 = age2 != -1 and minutes > age2
    if level == "first_factor":
        ok = fresh1
    elif age2 == -1:
        ok = fresh1
    elif level == "second_factor":
        ok = fresh2
    else:  # multi_factor
        ok = age1 != -1 and fresh1 and fresh2
    return "pass" if ok else "fail"


def check_authorization(
    claims: Mapping[str, Any],
    fields: SessionFields,
    *,
    role: object = None,
    permission: object = None,
    feature: object = None,
    plan: object = None,
    reverification: object = None,
) -> bool:
    """Clerk's ``has()``: True iff at least one dimension asked passes and none fails.

    ``None`` means "not asked"; a value of the wrong type fails its dimension. Without a user
    id, or with nothing asked, the answer is False.

    * organization (``role``, ``permission``): an active ``org_id`` is required; the role must
      equal the session's and the permission be in ``org_permissions``, both compared after
      normalising any leading ``org:`` run to one ``org:`` (``admin`` ≡ ``org:admin``);
    * billing (``feature`` against ``fea``, ``plan`` against ``pla``; each claim a non-empty
      string): ``name`` is looked up in the organization and user entries, ``o:``/``org:``/
      ``organization:`` or ``u:``/``user:`` restricts the lookup, any other scope or a
      malformed claim fails;
    * reverification: a preset name (``strict_mfa``, ``strict``, ``moderate``, ``lax``) or a
      mapping ``{"level": "first_factor"|"second_factor"|"multi_factor", "after_minutes": n}``
      (``afterMinutes`` also accepted) checked against ``fva`` (minutes since the first and
      second factor, -1 when not enrolled).
    """
    if not fields.user_id:
        return False
    results = (
        _check_org(fields, role, permission),
        _check_billing(claims, feature, plan),
        _check_reverification(fields, reverification),
    )
    return "pass" in results and "fail" not in results
