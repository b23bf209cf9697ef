"""``cached_property`` without a lock: a value computed on first access, kept on the instance.

``functools.cached_property`` takes a lock on every first access before Python 3.12 (and only
stopped in 3.12 because the lock was a bottleneck). Per-request objects such as
``ClerkRequest`` read a dozen such values once each, so on 3.11 the lock was a fair share of
a request's cost. Two threads computing the same value at once both compute it; the values
here are pure functions of the instance, so either result is right.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any
from typing import Generic
from typing import TypeVar
from typing import overload

__all__ = ["cached_property"]

T = TypeVar("T")

if sys.version_info >= (3, 12):  # pragma: no cover - lock-free there
    from functools import cached_property
else:

    class cached_property(Generic[T]):  # noqa: N801 - the functools name, on purpose
        """A non-data descriptor: the first ``__get__`` stores the value in the instance's
        ``__dict__``, which later look-ups find before the descriptor."""

        def __init__(self, func: Callable[[Any], T]) -> None:
            self.func = func
            self.attrname: str | None = None
            self.__doc__ = func.__doc__

        def __set_name__(self, owner: type, name: str) -> None:
            self.attrname = name

        @overload
        def __get__(self, instance: None, owner: type | None = None) -> cached_property[T]: ...
        @overload
        def __get__(self, instance: object, owner: type | None = None) -> T: ...
        def __get__(self, instance: object | None, owner: type | None = None) -> Any:
            if instance is None:
                return self
            assert self.attrname is not None, "cached_property used outside a class body"
            value = self.func(instance)
            instance.__dict__[self.attrname] = value
            return value
