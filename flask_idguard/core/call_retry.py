"""The retry policy of the outbound call under way: one pooled session serves callers with
different patience (:class:`~.adapter.RetryAdapter` reads it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from urllib3.util.retry import Retry

__all__ = ["call_policy", "call_retry"]

_CALL_RETRY: ContextVar[Retry | None] = ContextVar("flask_idguard_call_retry", default=None)


def call_policy() -> Retry | None:
    """The retry policy of the call under way (:func:`call_retry`), if any."""
    return _CALL_RETRY.get()


@contextmanager
def call_retry(retry: Retry | None) -> Iterator[None]:
    """Within the block, calls through a :class:`~.adapter.RetryAdapter` retry by ``retry``
    (None: the adapter's own policy)."""
    token = _CALL_RETRY.set(retry)
    try:
        yield
    finally:
        _CALL_RETRY.reset(token)
