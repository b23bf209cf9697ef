"""The Backend API endpoints that verify opaque machine tokens (``@clerk/backend``'s
``APIKeysApi.verify``, ``M2MTokenApi.verify``, ``IdPOAuthAccessTokenApi.verify``).

Clerk calls them without the API version in the path (``skipApiVersionInUrl``):
``POST {CLERK_API_URL}/api_keys/verify`` ``{"secret"}``, ``/m2m_tokens/verify`` ``{"token"}``
(with ``CLERK_MACHINE_SECRET_KEY`` as the bearer when it is set) and
``/oauth_applications/access_tokens/verify`` ``{"access_token"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...clients.errors import APIConnectionError
from ...clients.errors import IdGuardAPIError
from .backend import SUPPORTED_BAPI_VERSION
from .backend import BackendAPIError
from .backend import ClerkBackend
from .backend import request_path_retry

__all__ = ["ENDPOINTS", "MachineAPI"]

#: Token type → (path, body field).
ENDPOINTS: Mapping[str, tuple[str, str]] = {
    "api_key": ("/api_keys/verify", "secret"),
    "m2m_token": ("/m2m_tokens/verify", "token"),
    "oauth_token": ("/oauth_applications/access_tokens/verify", "access_token"),
}


class MachineAPI:
    """Verifies opaque machine tokens through one instance's Backend API, on the pooled
    session of its :class:`~flask_idguard.ClerkClient` (retried once at most)."""

    def __init__(
        self,
        backend: ClerkBackend,
        *,
        secret_key: str,
        api_url: str,
        machine_secret_key: str | None = None,
    ) -> None:
        shared = backend.client
        from ...clients.clerk import ClerkClient  # brings requests: imported when built

        self.client = ClerkClient(
            secret_key,
            api_url=api_url,
            timeout=shared.timeout,
            allow_insecure_http=True,  # checked when the configuration was read
            session=shared.session,
        )
        self.client.base_url = api_url.rstrip("/")  # these endpoints carry no version
        self._m2m_auth = f"Bearer {machine_secret_key}" if machine_secret_key else None

    def __repr__(self) -> str:
        return f"MachineAPI({self.client.base_url!r})"

    def verify(self, token_type: str, token: str) -> Mapping[str, Any]:
        """The verified token's resource (a JSON object), or :class:`BackendAPIError`
        (``status`` 404 for an unknown, revoked or expired token; ``None`` when the API
        could not be reached)."""
        path, field = ENDPOINTS[token_type]
        headers = {"Clerk-API-Version": SUPPORTED_BAPI_VERSION}
        if token_type == "m2m_token" and self._m2m_auth is not None:
            headers["Authorization"] = self._m2m_auth
        try:
            data = self.client.call(
                "POST", path, body={field: token}, retry=request_path_retry(), headers=headers
            )
        except APIConnectionError as exc:
            raise BackendAPIError("fetch-error", str(exc)) from None
        except IdGuardAPIError as exc:
            raise BackendAPIError(
                exc.code or "unexpected_error", exc.message, status=exc.status
            ) from None
        if not isinstance(data, dict):
            raise BackendAPIError("unexpected_error", "The answer is not a JSON object.")
        return data
