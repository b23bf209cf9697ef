"""What both users API clients share: the retry policy, the request helper, error mapping.

Retry rules (one :class:`APIRetry`, a urllib3 ``Retry``, mounted on the client's pooled
session):

* a connection that could not be opened is retried for every method: nothing was sent;
* ``429`` is retried for every method, waiting what ``Retry-After`` (or Auth0's
  ``X-RateLimit-Reset``) asks: both providers refuse a rate-limited request before
  processing it, so re-sending a ``POST``/``PATCH`` cannot apply it twice;
* ``5xx`` answers and connections broken after the request was sent are retried for
  reads (``GET``) only: a ``POST``, ``PATCH`` or ``DELETE`` may have been applied,
  so the caller gets :class:`~.errors.APIServerError` / :class:`~.errors.APIConnectionError`
  and decides;
* waits are exponential (capped) between attempts without a server hint; a server hint
  longer than ``max_retry_wait`` is not waited for: the call fails at once with
  :class:`~.errors.APIRateLimited` and its ``retry_after``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Collection
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from importlib import metadata
from typing import Any
from typing import ClassVar
from urllib.parse import quote

import requests
from urllib3.exceptions import MaxRetryError
from urllib3.exceptions import ResponseError
from urllib3.util.retry import Retry

from ..core.fetch import call_retry
from ..core.fetch import retrying_session
from .errors import APIConnectionError
from .errors import IdGuardAPIError
from .errors import error_class
from .user import User

__all__ = [
    "USER_AGENT",
    "APIClient",
    "APIRetry",
    "ErrorFields",
    "Query",
    "UserDict",
    "UserList",
    "cause",
    "scalar",
    "string_or_none",
    "server_delay",
    "user_path",
]

logger = logging.getLogger("flask_idguard")


def _version() -> str:
    try:
        return metadata.version("flask-idguard")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


#: ``User-Agent`` of every users API request.
USER_AGENT = f"flask-idguard/{_version()}"

_SECONDS = re.compile(r"\d{1,10}")
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def server_delay(status: int, headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asked to wait: ``Retry-After`` (seconds or HTTP date), else for
    a 429 Auth0's ``X-RateLimit-Reset`` (UNIX time when the bucket refills)."""
    value = (headers.get("Retry-After") or "").strip()
    if value:
        if _SECONDS.fullmatch(value):
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError, IndexError):
            pass
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    if status == 429 and _SECONDS.fullmatch(reset):
        return max(0.0, int(reset) - now)
    return None


class APIRetry(Retry):
    """urllib3 ``Retry`` with the users API rules (see the module docstring).

    ``allowed_methods`` are the methods re-sent after they reached the server.
    """

    def __init__(self, *args: Any, max_wait: float = 10.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_wait = max_wait

    def new(self, **kw: Any) -> APIRetry:
        new = super().new(**kw)
        assert isinstance(new, APIRetry)
        new.max_wait = self.max_wait
        return new

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:
            return True  # refused before processing: safe to re-send any method
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, *args: Any, **kwargs: Any) -> APIRetry:
        response = kwargs.get("response")
        if response is not None:
            delay = server_delay(response.status, response.headers, time.time())
            if delay is not None and delay > self.max_wait:
                # Give up now; the caller gets the answer and its retry_after.
                raise MaxRetryError(
                    kwargs.get("_pool"),  # type: ignore[arg-type]
                    str(args[1] if len(args) > 1 else kwargs.get("url")),
                    ResponseError(f"the server asked to wait {delay:.0f} s"),
                )
        new = super().increment(*args, **kwargs)
        assert isinstance(new, APIRetry)
        return new

    def sleep(self, response: Any = None) -> None:
        delay = None
        if response is not None:
            delay = server_delay(response.status, response.headers, time.time())
        if delay is None:
            delay = self.get_backoff_time()
            if response is not None and response.status == 429:
                delay = max(delay, self.backoff_factor)  # never at once into a rate limit
        delay = min(delay, self.max_wait)
        if delay > 0:
            time.sleep(delay)

    @classmethod
    def policy(
        cls, retries: int, *, max_wait: float, replay: Collection[str] = ("GET",)
    ) -> APIRetry:
        """The policy: ``retries`` more attempts, capped exponential backoff."""
        return cls(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            backoff_factor=0.5,
            backoff_max=max_wait,
            backoff_jitter=0.25,
            status_forcelist=_RETRY_STATUSES,
            allowed_methods=frozenset(m.upper() for m in replay),
            raise_on_status=False,
            respect_retry_after_header=True,
            max_wait=max_wait,
        )


def user_path(prefix: str, user_id: str, suffix: str = "") -> str:
    """``prefix/<percent-encoded user_id>suffix``; ``auth0|123`` becomes ``auth0%7C123``."""
    if not isinstance(user_id, str) or not user_id or user_id in (".", ".."):
        raise ValueError(f"user_id must be a non-empty string, got {user_id!r}")
    return f"{prefix}/{quote(user_id, safe='')}{suffix}"


#: What a provider reads from an error body: code, message, long_message, trace_id, errors.
ErrorFields = tuple[str | None, str | None, str | None, str | None, tuple[Mapping[str, Any], ...]]

Query = list[tuple[str, str]]
#: A user object as the provider sends it.
UserDict = dict[str, Any]
UserList = list[UserDict]


class APIClient:
    """A pooled session, a timeout on every call, the retry policy and error mapping.

    Subclasses set :attr:`provider`, give the ``Authorization`` header and read their
    provider's error body.
    """

    #: ``"clerk"`` or ``"auth0"``, as ``current_auth.provider`` names them.
    provider: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        retries: int,
        max_retry_wait: float,
        session: requests.Session | None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        if retries < 0 or max_retry_wait < 0:
            raise ValueError("retries and max_retry_wait must not be negative")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        #: The pooled session; a given one is used as is (no adapter is mounted on it).
        self.session = session or retrying_session(
            APIRetry.policy(retries, max_wait=max_retry_wait)
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def _authorization(self) -> str:
        raise NotImplementedError

    def _error_fields(self, body: Any, resp: requests.Response) -> ErrorFields:
        raise NotImplementedError

    def _to_user(self, data: Mapping[str, Any]) -> User:
        raise NotImplementedError

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        body: Mapping[str, Any] | None = None,
        token: str | None = None,
        retry: Retry | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """One call, retried by ``retry`` or else the session's policy; ``token`` overrides
        the credential, ``headers`` are sent as well."""
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": f"Bearer {token}" if token else self._authorization(),
            **(headers or {}),
        }
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, separators=(",", ":"))
        try:
            with call_retry(retry):
                return self.session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
        except (requests.RequestException, OSError) as exc:
            raise self._no_answer(exc, method, path) from None

    def _no_answer(self, exc: Exception, method: str, path: str) -> APIConnectionError:
        """The error for a call that got no answer (after the retries), logged."""
        if isinstance(exc, requests.Timeout):
            message = f"no answer within {self.timeout:g} s"
        else:
            message = f"connection failed ({cause(exc)})"
        logger.warning("%s: %s %s: %s", self.provider, method, path, message)
        return APIConnectionError(message, method=method, path=path)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        body: Mapping[str, Any] | None = None,
        retry: Retry | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one call; the parsed JSON body (``None`` for an empty one) or a typed error."""
        sent = self._send(method, path, params=params, body=body, retry=retry, headers=headers)
        return self._result(sent, method, path)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        body: Mapping[str, Any] | None = None,
        retry: Retry | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Any other endpoint of the provider's API, with this client's credentials, retries
        and errors: ``client.call("POST", "/users/user_1/ban")``. ``path`` is relative to the
        API's base URL (``…/v1`` for Clerk, ``…/api/v2`` for Auth0). The parsed JSON answer
        (``None`` for an empty one), or :class:`~flask_idguard.IdGuardAPIError`.

        ``retry`` (an :class:`APIRetry`) replaces the client's retry policy for this call
        (e.g. ``APIRetry.policy(1, max_wait=1.0)`` while a request waits); ``headers`` are
        sent with it."""
        return self._request(method, path, params=params, body=body, retry=retry, headers=headers)

    def _object(self, method: str, path: str, **kwargs: Any) -> UserDict:
        """A call whose answer must be a JSON object."""
        data = self._request(method, path, **kwargs)
        if not isinstance(data, dict):
            raise IdGuardAPIError("the answer is not a JSON object", method=method, path=path)
        return data

    def create(self, **fields: Any) -> UserDict:
        """``POST /users`` with ``fields``, in the provider's names, as the JSON body; the
        new user. Not sent again once it may have reached the provider."""
        return self._object("POST", "/users", body=fields)

    def update(self, user_id: str, **fields: Any) -> UserDict:
        """``PATCH /users/{user_id}`` with ``fields`` as the JSON body; the updated user.
        Clerk replaces the fields given (metadata too); Auth0 merges top-level metadata
        keys."""
        return self._object("PATCH", user_path("/users", user_id), body=fields)

    def delete(self, user_id: str) -> None:
        """``DELETE /users/{user_id}``."""
        self._request("DELETE", user_path("/users", user_id))

    def user(self, user_id: str) -> User:
        """``get(user_id)`` as a :class:`~flask_idguard.User`."""
        return self._to_user(self._object("GET", user_path("/users", user_id)))

    def _result(self, resp: requests.Response, method: str, path: str) -> Any:
        status = resp.status_code
        if 200 <= status < 300:
            if status == 204 or not resp.content:
                return None
            try:
                return json.loads(resp.content)
            except (ValueError, RecursionError):
                raise IdGuardAPIError(
                    "the answer is not valid JSON", status=status, method=method, path=path
                ) from None
        raise self._error(resp, method, path)

    def _error(self, resp: requests.Response, method: str, path: str) -> IdGuardAPIError:
        try:
            body = json.loads(resp.content) if resp.content else None
        except (ValueError, RecursionError):
            body = None
        code, message, long_message, trace_id, errors = self._error_fields(body, resp)
        status = resp.status_code
        error = error_class(status)(
            message or resp.reason or f"HTTP {status}",
            status=status,
            code=code,
            long_message=long_message,
            trace_id=trace_id,
            retry_after=server_delay(status, resp.headers, time.time()),
            errors=errors,
            method=method,
            path=path,
        )
        level = logging.WARNING if status == 429 or status >= 500 else logging.INFO
        logger.log(level, "%s: %s", self.provider, error)
        return error


def cause(exc: BaseException) -> str:
    """The innermost cause's class name (``ConnectionResetError``...), never a URL."""
    seen: BaseException | None = exc
    name = type(exc).__name__
    for _ in range(8):
        if seen is None:
            break
        name = type(seen).__name__
        nxt: Any = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
        if nxt is None and seen.args and isinstance(seen.args[-1], BaseException):
            nxt = seen.args[-1]
        seen = nxt if isinstance(nxt, BaseException) and nxt is not seen else None
    return name


def string_or_none(value: object) -> str | None:
    """``value`` if it is a string."""
    return value if isinstance(value, str) else None


def scalar(value: object) -> str:
    """A query value: booleans as ``true``/``false``, numbers and strings as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
