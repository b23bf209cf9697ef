"""The bounded in-process caches: recently verified tokens, a small LRU map, and an LRU
bounded in bytes for what unauthenticated input can put in memory."""

from __future__ import annotations

import hashlib
import sys
import threading
from collections import OrderedDict
from collections import deque
from collections.abc import Callable
from collections.abc import Hashable
from typing import Generic
from typing import TypeVar

__all__ = ["LRU", "SeenOnce", "SizedLRU", "VerifiedCache", "deep_size"]

V = TypeVar("V")
T = TypeVar("T")


class VerifiedCache(Generic[V]):
    """Bounded map of recently verified tokens to what verifying them gave (immutable:
    an auth state, Clerk's claims).

    Entries live until the token's ``exp`` (plus leeway) or ``max_age`` seconds,
    whichever comes first, so a key withdrawn upstream stops working within
    ``max_age`` even for tokens seen before. Keys are tokens, or any hashable value
    that stands for everything a decision read (Clerk's remembered cookie decisions).
    """

    def __init__(self, size: int = 4096, max_age: float = 60.0) -> None:
        self._size = size
        self.max_age = max_age
        #: The windows apart from the values: a tuple of two floats is untracked by the
        #: cyclic garbage collector at its first collection, a tuple holding a state never
        #: is, and every tracked object a full cache keeps makes full collections come
        #: sooner and take longer (docs/performance.rst).
        self._windows: dict[Hashable, tuple[float, float]] = {}
        self._values: dict[Hashable, V] = {}
        #: The keys, oldest first: a full cache lets one entry go for each one it takes.
        #: The collector counts tracked objects made net of those freed (never below zero),
        #: so freeing an entry's objects as the next one's are made keeps collections as
        #: rare as without the cache, where freeing a batch at once was lost to the count.
        self._order: deque[Hashable] = deque()
        self._lock = threading.Lock()

    def get(self, token: Hashable, now: float) -> V | None:
        window = self._windows.get(token)
        if window is None or not window[0] <= now < window[1]:
            return None
        return self._values.get(token)  # None if evicted since: the window goes first

    def window(self, token: Hashable) -> tuple[float, float] | None:
        """When the entry for ``token`` is usable (``not_before``, ``until``), if there is one."""
        return self._windows.get(token)

    def put(self, token: Hashable, not_before: float, until: float, state: V) -> None:
        with self._lock:
            windows, values = self._windows, self._values
            if token not in windows:
                if len(windows) >= self._size:
                    old = self._order.popleft()
                    del windows[old]  # before its value: a reader finding the window finds it
                    del values[old]
                self._order.append(token)
            values[token] = state  # before its window: a reader finding the window finds it
            windows[token] = (not_before, until)

    def __len__(self) -> int:
        return len(self._windows)


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


def deep_size(value: object, limit: float = float("inf")) -> int:
    """Bytes held by ``value`` and what it contains (parsed JSON, str, bytes), counted until
    ``limit`` is passed: a cost that shared objects only overstate."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return total


class SizedLRU(Generic[T]):
    """A thread-safe map bounded by the bytes its entries hold (``cost`` given on ``put``),
    least recently used evicted first; an entry costing more than ``max_entry`` is not kept."""

    def __init__(self, max_bytes: int, max_entry: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_entry = max_bytes // 8 if max_entry is None else max_entry
        self.bytes = 0
        self._items: OrderedDict[str, tuple[T, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            self._items.move_to_end(key)
            return entry[0]

    def put(self, key: str, value: T, cost: int) -> None:
        """Keep ``value`` (``cost`` bytes, its key included) unless it alone is too large."""
        if cost > self.max_entry:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._items[key] = (value, cost)
            self.bytes += cost
            while self.bytes > self.max_bytes:
                _, (_, freed) = self._items.popitem(last=False)
                self.bytes -= freed

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)


class SeenOnce:
    """A bounded memory of keys already tried (their digests, oldest forgotten first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._seen: dict[bytes, None] = {}
        self._lock = threading.Lock()

    def first(self, key: str) -> bool:
        """True the first time ``key`` is offered (within the last ``size`` keys)."""
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            if digest in self._seen:
                return False
            if len(self._seen) >= self.size:
                del self._seen[next(iter(self._seen))]
            self._seen[digest] = None
            return True

    def __len__(self) -> int:
        return len(self._seen)
