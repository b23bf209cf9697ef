"""The Backend API calls request authentication needs: handshake payload, refresh, session
tokens (clerk.md §1.10, §2.2, §5), on the users API client's session, retries and errors."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import quote

from ...clients.errors import APIConnectionError
from ...clients.errors import IdGuardAPIError
from ...core.fetch import HttpClient

if TYPE_CHECKING:  # the client brings requests: imported when the provider is built
    from ...clients.base import APIRetry

__all__ = ["SUPPORTED_BAPI_VERSION", "BackendAPIError", "ClerkBackend"]

logger = logging.getLogger("flask_idguard")

#: Sent as ``Clerk-API-Version`` and as the handshake's ``__clerk_api_version``.
SUPPORTED_BAPI_VERSION = "2026-05-12"
_HEADERS = {"Clerk-API-Version": SUPPORTED_BAPI_VERSION}


@cache
def request_path_retry() -> APIRetry:
    """The request path's retry policy: one more attempt at most, never a long wait."""
    from ...clients.base import APIRetry

    return APIRetry.policy(1, max_wait=1.0)


@cache
def no_retry() -> APIRetry:
    """Handshake nonces: one attempt (a request anyone can send must not cost two calls)."""
    from ...clients.base import APIRetry

    return APIRetry.policy(0, max_wait=0.0)


def _segment(value: str) -> str:
    """A path segment percent-encoded as a URL would (a lone surrogate becomes U+FFFD first,
    as JavaScript's URL does), so a verified claim never makes ``quote()`` raise."""
    usv = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return quote(usv, safe="")


class BackendAPIError(Exception):
    """A Backend API call failed. ``code`` is Clerk's first error code (``unexpected_error``
    without one), or ``fetch-error`` when the API could not be reached."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class ClerkBackend:
    """One instance's Backend API, as the request path uses it, on the instance's one
    :class:`~flask_idguard.ClerkClient` (``idguard.users`` shares it).

    Calls made while a request waits are retried once at most and never wait long for a
    rate limit (:func:`request_path_retry`, passed per call); the secret key is sent only in
    the ``Authorization`` header.
    """

    def __init__(
        self, *, api_url: str, api_version: str, secret_key: str, timeout: float = 5.0
    ) -> None:
        from ...clients.clerk import ClerkClient

        self.client = ClerkClient(
            secret_key,
            api_url=api_url,
            api_version=api_version,
            timeout=timeout,
            allow_insecure_http=True,  # the URL was checked when the configuration was read
        )
        #: JWKS fetches: GET with retries, through the shared key-set machinery.
        self.jwks_http = HttpClient(
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {secret_key}",
                "Clerk-API-Version": SUPPORTED_BAPI_VERSION,
            },
        )

    def __repr__(self) -> str:
        return f"ClerkBackend({self.client.base_url!r})"

    @property
    def jwks_url(self) -> str:
        return f"{self.client.base_url}/jwks"

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        retry: APIRetry | None = None,
    ) -> Any:
        retry = request_path_retry() if retry is None else retry
        try:
            query = list(params.items()) if params is not None else None
            return self.client.call(
                method, path, params=query, body=body, retry=retry, headers=_HEADERS
            )
        except APIConnectionError as exc:
            raise BackendAPIError("fetch-error", str(exc)) from None
        except IdGuardAPIError as exc:
            raise BackendAPIError(
                exc.code or "unexpected_error", str(exc), status=exc.status
            ) from None

    def handshake_payload(self, nonce: str) -> list[str]:
        """The ``Set-Cookie`` directives stored under a handshake nonce (one attempt)."""
        data = self._call(
            "GET", "/clients/handshake_payload", params={"nonce": nonce}, retry=no_retry()
        )
        directives = data.get("directives") if isinstance(data, dict) else None
        if not isinstance(directives, list):
            return []
        return [d for d in directives if isinstance(d, str)]

    def refresh_session(
        self,
        session_id: str,
        *,
        expired_token: str,
        refresh_token: str,
        request_origin: str,
        request_headers: Mapping[str, list[str]],
        suffixed_cookies: bool,
    ) -> list[str]:
        """``POST /sessions/{sid}/refresh``: the new ``Set-Cookie`` strings."""
        data = self._call(
            "POST",
            f"/sessions/{_segment(session_id)}/refresh",
            params={"suffixed_cookies": "true"} if suffixed_cookies else None,
            body={
                "format": "cookie",
                "expired_token": expired_token,
                "refresh_token": refresh_token,
                "request_origin": request_origin,
                "request_headers": dict(request_headers),
            },
        )
        cookies = data.get("cookies") if isinstance(data, dict) else None
        if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
            raise BackendAPIError("unexpected-bapi-error", "The refresh answer has no cookies.")
        return list(cookies)

    def session_token(
        self, session_id: str, *, template: str | None = None, expires_in_seconds: int | None = None
    ) -> str:
        """A new token for the session: ``POST /sessions/{sid}/tokens[/{template}]``."""
        path = f"/sessions/{_segment(session_id)}/tokens"
        if template is not None:
            path += f"/{_segment(template)}"
        body = {"expires_in_seconds": expires_in_seconds} if expires_in_seconds is not None else {}
        data = self._call("POST", path, body=body)
        jwt = data.get("jwt") if isinstance(data, dict) else None
        if not isinstance(jwt, str):
            raise BackendAPIError("unexpected-bapi-error", "The token answer has no jwt.")
        return jwt
