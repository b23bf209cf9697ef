"""Typed errors of the users API clients.

These are plain exceptions, not :class:`~flask_idguard.errors.IdGuardError` responses: a
404 from the identity provider's API is not a 404 of your app, and a 401 from it means
*your server's* credentials are wrong, not the visitor's. Messages never contain a
secret key or a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIAuthenticationFailed",
    "APIConnectionError",
    "APINotFound",
    "APIPaginationLimit",
    "APIPermissionDenied",
    "APIRateLimited",
    "APIRequestInvalid",
    "APIServerError",
    "IdGuardAPIError",
    "error_class",
]


class IdGuardAPIError(Exception):
    """A users API call failed.

    ``status`` is the HTTP status (``None`` when no answer came), ``code`` the
    provider's machine code (Clerk ``errors[0].code``, Auth0 ``errorCode`` or
    ``error``), ``message``/``long_message`` its texts, ``trace_id`` the provider's
    request id (Clerk ``clerk_trace_id`` or ``cf-ray``), ``retry_after`` the seconds
    the provider asked to wait, and ``errors`` every error object of the body.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        long_message: str | None = None,
        trace_id: str | None = None,
        retry_after: float | None = None,
        errors: tuple[Mapping[str, Any], ...] = (),
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.long_message = long_message
        self.trace_id = trace_id
        self.retry_after = retry_after
        self.errors = errors
        self.method = method
        self.path = path
        super().__init__(message)

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        status = f"HTTP {self.status}" if self.status is not None else "no answer"
        code = f" {self.code}" if self.code else ""
        text = f"{where}{status}{code}: {self.message}"
        if self.long_message and self.long_message != self.message:
            text += f" ({self.long_message})"
        if self.trace_id:
            text += f" [trace {self.trace_id}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, trace_id={self.trace_id!r})"
        )


class APIRequestInvalid(IdGuardAPIError):
    """400, 409 or 422: the provider refused the parameters or the body."""


class APIAuthenticationFailed(IdGuardAPIError):
    """401: the secret key, client credentials or management token were refused."""


class APIPermissionDenied(IdGuardAPIError):
    """403: the credentials lack a permission (e.g. an Auth0 scope such as ``read:users``)."""


class APINotFound(IdGuardAPIError):
    """404: no such user (or resource)."""


class APIRateLimited(IdGuardAPIError):
    """429 after the retries: ``retry_after`` says how long the provider asked to wait."""


class APIServerError(IdGuardAPIError):
    """5xx after the retries (or at once for a call that is not retried once sent)."""


class APIConnectionError(IdGuardAPIError):
    """No answer: connection refused or reset, timeout, TLS failure (``status`` is None)."""


class APIPaginationLimit(IdGuardAPIError):
    """Auth0 pages through at most 1000 users; ``iter`` refuses a query matching more."""


_BY_STATUS: dict[int, type[IdGuardAPIError]] = {
    400: APIRequestInvalid,
    401: APIAuthenticationFailed,
    403: APIPermissionDenied,
    404: APINotFound,
    409: APIRequestInvalid,
    422: APIRequestInvalid,
    429: APIRateLimited,
}


def error_class(status: int) -> type[IdGuardAPIError]:
    """The exception class for an HTTP error status."""
    if status >= 500:
        return APIServerError
    return _BY_STATUS.get(status, IdGuardAPIError)
