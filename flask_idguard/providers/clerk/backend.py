"""The few Backend API calls request authentication needs: JWKS, handshake payload, refresh,
session tokens (clerk.md §1.10, §2.2, §3, §5)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ...http import HttpClient

__all__ = ["BackendAPIError", "ClerkBackend", "SUPPORTED_BAPI_VERSION"]

logger = logging.getLogger("flask_idguard")

#: Sent as ``Clerk-API-Version`` and as the handshake's ``__clerk_api_version``.
SUPPORTED_BAPI_VERSION = "2026-05-12"


class BackendAPIError(Exception):
    """A Backend API call failed. ``code`` is Clerk's first error code, or ``fetch-error``
    when the API could not be reached."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class ClerkBackend:
    """One instance's Backend API: ``{api_url}/{api_version}/…`` with the secret key.

    The secret is sent only in the ``Authorization`` header and never appears in messages.
    """

    def __init__(
        self, *, api_url: str, api_version: str, secret_key: str, timeout: float = 5.0
    ) -> None:
        self.base = f"{api_url.rstrip('/')}/{api_version.strip('/')}"
        self.timeout = timeout
        self._secret_key = secret_key
        headers = {
            "Authorization": f"Bearer {secret_key}",
            "Clerk-API-Version": SUPPORTED_BAPI_VERSION,
            "User-Agent": "flask-idguard",
        }
        #: JWKS fetches: GET with retries, through the shared key-set machinery.
        self.jwks_http = HttpClient(timeout=timeout, headers=headers)
        session = requests.Session()
        # Only idempotent calls are retried: a refresh or token mint is a POST.
        retry = Retry(total=2, backoff_factor=0.1, status_forcelist=(502, 503, 504),
                      allowed_methods={"GET"}, raise_on_status=False)  # fmt: skip
        adapter = HTTPAdapter(max_retries=retry)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers.update(headers)
        self._session = session

    def __repr__(self) -> str:
        return f"ClerkBackend({self.base!r})"

    @property
    def jwks_url(self) -> str:
        return f"{self.base}/jwks"

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        url = f"{self.base}{path}"
        try:
            resp = self._session.request(
                method, url, params=params, json=body, timeout=self.timeout
            )
        except (requests.RequestException, OSError) as exc:
            raise BackendAPIError(
                "fetch-error",
                f"{method} {self.base}{path.split('?')[0]} failed: {type(exc).__name__}",
            ) from None
        try:
            data = resp.json()
        except ValueError:
            data = None
        if not 200 <= resp.status_code < 300:
            code = "unexpected_error"
            errors = data.get("errors") if isinstance(data, dict) else None
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                first = errors[0].get("code")
                if isinstance(first, str) and first:
                    code = first
            raise BackendAPIError(
                code,
                f"{method} {path} answered HTTP {resp.status_code} ({code})",
                status=resp.status_code,
            )
        return data

    def handshake_payload(self, nonce: str) -> list[str]:
        """The ``Set-Cookie`` directives stored under a handshake nonce."""
        data = self._call("GET", "/clients/handshake_payload", params={"nonce": nonce})
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
        path = f"/sessions/{quote(session_id, safe='')}/refresh"
        data = self._call(
            "POST",
            path,
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
        path = f"/sessions/{quote(session_id, safe='')}/tokens"
        if template is not None:
            path += f"/{quote(template, safe='')}"
        body = {"expires_in_seconds": expires_in_seconds} if expires_in_seconds is not None else {}
        data = self._call("POST", path, body=body)
        jwt = data.get("jwt") if isinstance(data, dict) else None
        if not isinstance(jwt, str):
            raise BackendAPIError("unexpected-bapi-error", "The token answer has no jwt.")
        return jwt
