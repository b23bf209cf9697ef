"""What a provider accepts: :class:`Policy`, built once at ``init_app``."""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from .algorithms import check_algorithms
from .parse import MAX_TOKEN_BYTES

__all__ = ["Policy", "Validator"]

#: A custom claim check: a literal compared for equality, or a predicate.
Validator = Callable[[Any, Mapping[str, Any], Mapping[str, Any]], bool] | str | int | float | bool


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
    #: Derived once: ``typ``'s strings lowercased, ``required_claims`` in checking order.
    typ_lowered: frozenset[str] = field(init=False, repr=False, compare=False)
    required_in_order: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def window(self, claims: Mapping[str, Any]) -> tuple[float, float]:
        """The (from, until) wall-clock interval in which verified ``claims`` stay valid:
        from ``max(nbf, iat) - leeway`` (the later present) until ``exp + leeway``, or
        sooner with a maximum token age."""
        until = float(claims["exp"]) + self.leeway
        if self.max_token_age is not None:
            until = min(until, float(claims["iat"]) + self.max_token_age + self.leeway)
        nbf, iat = claims.get("nbf"), claims.get("iat")
        if nbf is None:
            if iat is None:
                return -math.inf, until
            start = float(iat)
        else:
            start = float(nbf) if iat is None else max(float(nbf), float(iat))
        return start - self.leeway, until

    def __post_init__(self) -> None:
        lowered = frozenset(t.lower() for t in self.typ or () if t is not None)
        object.__setattr__(self, "typ_lowered", lowered)
        object.__setattr__(self, "required_in_order", tuple(sorted(self.required_claims)))
        check_algorithms(self.algorithms)
        if not math.isfinite(self.leeway) or self.leeway < 0:
            raise ValueError("leeway must be a finite number of seconds >= 0")
