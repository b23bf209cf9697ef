"""Clerk Backend API users client (``https://api.clerk.com/v1/users``)."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests

from ..core.urls import check_url
from .base import APIClient
from .base import ErrorFields
from .base import Query
from .base import UserDict
from .base import UserList
from .base import scalar
from .base import string_or_none
from .base import user_path
from .errors import IdGuardAPIError
from .user import User

__all__ = ["ClerkClient", "clerk_query"]

#: Page size of :meth:`ClerkClient.iter` when no ``limit`` is given.
ITER_PAGE_SIZE = 100


def _value(value: object) -> str:
    if isinstance(value, datetime):
        return str(int(value.timestamp() * 1000))  # Clerk's *_before/*_after are in ms
    if isinstance(value, (Mapping, set, frozenset)):
        raise TypeError(f"a query value must be a string, number, boolean or list: {value!r}")
    return scalar(value)


def clerk_query(filters: Mapping[str, Any]) -> Query:
    """Query pairs as Clerk's SDKs send them: a list repeats its key
    (``email_address=a&email_address=b``), booleans are ``true``/``false``, datetimes
    are milliseconds since the epoch, ``None`` is left out."""
    pairs: Query = []
    for key, value in filters.items():
        items = value if isinstance(value, (list, tuple)) else [value]
        pairs.extend((key, _value(item)) for item in items if item is not None)
    return pairs


class ClerkClient(APIClient):
    """Users of one Clerk instance, through the Backend API.

    ``ClerkClient("sk_live_...")``; ``api_url``/``api_version`` point it elsewhere (a
    development identity provider, a proxy). Every method raises
    :class:`~flask_idguard.IdGuardAPIError` (a subclass by status) on failure.
    """

    provider = "clerk"

    def __init__(
        self,
        secret_key: str,
        *,
        api_url: str = "https://api.clerk.com",
        api_version: str = "v1",
        timeout: float = 10.0,
        retries: int = 3,
        max_retry_wait: float = 10.0,
        allow_insecure_http: bool = False,
        session: requests.Session | None = None,
    ) -> None:
        if not isinstance(secret_key, str) or not secret_key.strip():
            raise ValueError("a Clerk secret key (CLERK_SECRET_KEY, 'sk_...') is required")
        check_url(api_url, allow_insecure_http=allow_insecure_http, what="the Clerk API URL")
        version = api_version.strip("/")
        if not version or "/" in version:
            raise ValueError(f"api_version must be a bare version such as 'v1': {api_version!r}")
        super().__init__(
            f"{api_url.rstrip('/')}/{version}",
            timeout=timeout,
            retries=retries,
            max_retry_wait=max_retry_wait,
            session=session,
        )
        self._secret_key = secret_key.strip()

    def _authorization(self) -> str:
        return f"Bearer {self._secret_key}"

    def _to_user(self, data: Mapping[str, Any]) -> User:
        return User.from_clerk(data)

    def _error_fields(self, body: Any, resp: requests.Response) -> ErrorFields:
        errors: tuple[Mapping[str, Any], ...] = ()
        trace_id = None
        if isinstance(body, Mapping):
            raw = body.get("errors")
            if isinstance(raw, list):
                errors = tuple(e for e in raw if isinstance(e, Mapping))
            trace_id = string_or_none(body.get("clerk_trace_id"))
        first: Mapping[str, Any] = errors[0] if errors else {}
        return (
            string_or_none(first.get("code")),
            string_or_none(first.get("message")),
            string_or_none(first.get("long_message")),
            trace_id or resp.headers.get("cf-ray"),
            errors,
        )

    def get(self, user_id: str) -> UserDict:
        """``GET /users/{user_id}``: the user object."""
        return self._object("GET", user_path("/users", user_id))

    def list(self, **filters: Any) -> UserList:
        """``GET /users``: one page (Clerk answers a bare array; ``limit`` defaults to 10).

        Filters are Clerk's own: ``email_address=[...]``, ``user_id=[...]``, ``query``,
        ``order_by``, ``limit``, ``offset``...
        """
        data = self._request("GET", "/users", params=clerk_query(filters))
        if not isinstance(data, list) or not all(isinstance(u, dict) for u in data):
            raise IdGuardAPIError("the answer is not a JSON array", method="GET", path="/users")
        return data

    def iter(self, **filters: Any) -> Iterator[UserDict]:
        """Every matching user, fetching pages of ``limit`` (default 100) lazily by offset.

        Stops at the first page shorter than ``limit``.
        """
        limit = int(filters.pop("limit", None) or ITER_PAGE_SIZE)
        offset = int(filters.pop("offset", None) or 0)
        while True:
            page = self.list(**filters, limit=limit, offset=offset)
            yield from page
            if len(page) < limit:
                return
            offset += len(page)

    def count(self, **filters: Any) -> int:
        """``GET /users/count``: how many users match ``filters``."""
        data = self._object("GET", "/users/count", params=clerk_query(filters))
        total = data.get("total_count")
        if not isinstance(total, int) or isinstance(total, bool):
            raise IdGuardAPIError("no total_count in the answer", method="GET", path="/users/count")
        return total

    def update_metadata(
        self,
        user_id: str,
        *,
        public: Mapping[str, Any] | None = None,
        private: Mapping[str, Any] | None = None,
        unsafe: Mapping[str, Any] | None = None,
    ) -> UserDict:
        """``PATCH /users/{user_id}/metadata``: Clerk deep-merges each given object into
        ``public_metadata``/``private_metadata``/``unsafe_metadata``; a key set to ``None``
        is removed."""
        body = {
            f"{name}_metadata": value
            for name, value in (("public", public), ("private", private), ("unsafe", unsafe))
            if value is not None
        }
        if not body:
            raise ValueError("give at least one of public=, private=, unsafe=")
        return self._object("PATCH", user_path("/users", user_id, "/metadata"), body=body)
