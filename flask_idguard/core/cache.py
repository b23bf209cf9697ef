"""The bounded in-process caches: recently verified tokens, and a small LRU map."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic
from typing import TypeVar

__all__ = ["LRU", "VerifiedCache"]

V = TypeVar("V")
T = TypeVar("T")


class VerifiedCache(Generic[V]):
    """Bounded map of recently verified tokens to what verifying them gave (immutable:
    an auth state, Clerk's claims).

    Entries live until the token's ``exp`` (plus leeway) or ``max_age`` seconds,
    whichever comes first, so a key withdrawn upstream stops working within
    ``max_age`` even for tokens seen before.
    """

    def __init__(self, size: int = 4096, max_age: float = 60.0) -> None:
        self._size = size
        self.max_age = max_age
        self._entries: dict[str, tuple[float, float, V]] = {}
        self._lock = threading.Lock()

    def get(self, token: str, now: float) -> V | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        not_before, until, state = entry
        if now < until and now >= not_before:
            return state
        return None

    def put(self, token: str, not_before: float, until: float, state: V) -> None:
        with self._lock:
            if len(self._entries) >= self._size:
                for old in list(self._entries)[: self._size // 8 or 1]:
                    del self._entries[old]
            self._entries[token] = (not_before, until, state)

    def __len__(self) -> int:
        return len(self._entries)


class LRU(Generic[T]):
    """A thread-safe map of at most ``size`` entries, least recently used evicted first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, make: Callable[[], T]) -> T:
        """The entry for ``key``, made (and kept) by ``make()`` when there is none."""
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
                return item
            item = make()
            self._items[key] = item
            if len(self._items) > self.size:
                self._items.popitem(last=False)
            return item

    def __len__(self) -> int:
        return len(self._items)
