"""The pooled ``requests`` adapter whose retry policy a call may replace (:mod:`.fetch`).

Apart from :mod:`.fetch` so that ``requests`` is imported when the first session is made,
not with the package.
"""

from __future__ import annotations

from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .call_retry import call_policy

__all__ = ["RetryAdapter"]


class RetryAdapter(HTTPAdapter):
    """A pooled adapter that retries by its policy, or by the policy of the call under way
    (:func:`~.fetch.call_retry`): one session serves callers with different patience."""

    @property
    def max_retries(self) -> Retry:
        return call_policy() or self._policy

    @max_retries.setter
    def max_retries(self, value: Retry) -> None:
        self._policy = value
