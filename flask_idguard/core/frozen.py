"""Read-only claims: verified claims are handed to every request that presents the same token,
so what a view receives must not change what the next request sees.

:func:`freeze_claims` copies parsed JSON once, when a token is verified: objects (the top
level included) become :class:`FrozenDict` and arrays :class:`FrozenList`. Both subclass
``dict``/``list``, so ``isinstance`` checks and JSON encoding work as before; every mutating
method raises ``TypeError``. ``copy.deepcopy`` gives plain, mutable copies. One object per
JSON container and nothing more: verified-token caches keep thousands of these, and every
object the cyclic garbage collector tracks makes its full collections come sooner and take
longer.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from typing import NoReturn

__all__ = [
    "EMPTY_SET",
    "FrozenDict",
    "FrozenList",
    "freeze",
    "freeze_claims",
    "shared_set",
    "strings_in",
    "thaw",
]

#: The one empty set every state without scopes, permissions or roles holds.
EMPTY_SET: frozenset[str] = frozenset()
#: Sets handed out by :func:`shared_set`, by their members; cleared when full.
_SHARED: dict[frozenset[str], frozenset[str]] = {}
_SHARED_MAX = 256
#: Larger sets are rare and not worth a table slot.
_SHARED_MEMBERS = 32
#: Sets by the claim value they were read from (a scope string, an array's items as a
#: tuple), and the longest value remembered; cleared when full.
_READ: dict[str | tuple[Any, ...], frozenset[str]] = {}
_READ_LONGEST = 512


def _refuse(obj: object, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(f"verified claims are read-only ({type(obj).__name__})")


class FrozenDict(dict[str, Any]):
    """A JSON object of verified claims: a ``dict`` that refuses changes."""

    __slots__ = ()

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenDict, (dict(self),)

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {key: thaw(value) for key, value in self.items()}


class FrozenList(list[Any]):
    """A JSON array of verified claims: a ``list`` that refuses changes."""

    __slots__ = ()

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenList, (list(self),)

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [thaw(value) for value in self]


def freeze(value: Any) -> Any:
    """``value`` (parsed JSON) with every object and array replaced by a read-only copy."""
    kind = type(value)
    if kind is dict or kind is FrozenDict:
        return FrozenDict({key: freeze(item) for key, item in value.items()})
    if kind is list or kind is FrozenList:
        return FrozenList([freeze(item) for item in value])
    return value


def thaw(value: Any) -> Any:
    """A plain, mutable deep copy of (frozen) JSON."""
    if isinstance(value, dict):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, list):
        return [thaw(item) for item in value]
    return value


_CONTAINERS = (dict, list)


def freeze_claims(claims: Mapping[str, Any]) -> Mapping[str, Any]:
    """Verified claims, read-only all the way down; built once per verified token."""
    frozen = FrozenDict(claims)
    for key, value in claims.items():
        if isinstance(value, _CONTAINERS):  # most claims are strings and numbers: no call
            dict.__setitem__(frozen, key, freeze(value))
    return frozen


def shared_set(items: Iterable[str]) -> frozenset[str]:
    """``frozenset(items)``, the same object for the same members: the thousands of cached
    states whose tokens carry the same scopes or permissions share one set (less memory,
    fewer objects for the cyclic garbage collector). Bounded: the table is cleared when full."""
    made = frozenset(items)
    if not made:
        return EMPTY_SET
    if len(made) > _SHARED_MEMBERS:
        return made
    shared = _SHARED.get(made)
    if shared is not None:
        return shared
    if len(_SHARED) >= _SHARED_MAX:
        _SHARED.clear()
    _SHARED[made] = made
    return made


def strings_in(value: str | list[Any]) -> frozenset[str]:
    """The words of a space-separated string, or the strings of an array (other items
    ignored), as a :func:`shared_set`; remembered by the value itself, so that the scope
    string every token of a client carries is split once."""
    key: str | tuple[Any, ...] = value if isinstance(value, str) else tuple(value)
    try:
        found = _READ.get(key)
        remember = len(key) <= _READ_LONGEST
    except TypeError:  # an array holding arrays or objects: unhashable, not remembered
        found, remember = None, False
    if found is None:
        if isinstance(value, str):
            found = shared_set(value.split())
        else:
            found = shared_set(v for v in value if isinstance(v, str))
        if remember:
            if len(_READ) >= _SHARED_MAX:
                _READ.clear()
            _READ[key] = found
    return found
