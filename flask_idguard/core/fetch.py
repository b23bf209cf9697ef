"""Outbound HTTP (the library as a client): a pooled session with retries and timeouts."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .call_retry import call_retry
from .urls import safe_url

if TYPE_CHECKING:  # requests and urllib3 are imported when a session is made, not before
    import requests
    from urllib3.util.retry import Retry

__all__ = [
    "MAX_BODY_BYTES",
    "FetchError",
    "HttpClient",
    "call_retry",
    "retrying_session",
]

#: Largest response body :meth:`HttpClient.get_json` accepts.
MAX_BODY_BYTES = 1024 * 1024

_CHUNK = 64 * 1024


class FetchError(Exception):
    """A GET failed: network error, timeout, non-2xx status, oversized or non-JSON body."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        #: The HTTP status when the server answered with a non-2xx status, else ``None``.
        self.status = status


def retrying_session(retry: Retry, session: requests.Session | None = None) -> requests.Session:
    """``session`` (a new one by default) with a pooled adapter retrying by ``retry``.

    The one place where outbound sessions get their retry policy and redirect cap.
    """
    import requests

    from .adapter import RetryAdapter

    if session is None:
        session = requests.Session()
    adapter = RetryAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.max_redirects = 5
    return session


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid JSON constant {name}")


class HttpClient:
    """GETs JSON documents over a pooled session with urllib3 retries and a timeout on every call.

    A given ``session`` is used as is (no adapter is mounted on it).
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        session: requests.Session | None = None,
        user_agent: str = "flask-idguard",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.timeout = timeout
        self.user_agent = user_agent
        #: Sent with every request (e.g. a Backend API's ``Authorization``); never logged.
        self.headers = dict(headers or {})
        if session is None:
            from urllib3.util.retry import Retry

            retry = Retry(
                total=2,
                connect=2,
                read=2,
                status=2,
                backoff_factor=0.1,
                status_forcelist=(502, 503, 504),
                allowed_methods={"GET"},
                respect_retry_after_header=False,
                raise_on_status=False,
            )
            session = retrying_session(retry)
        self.session = session

    def get_json(self, url: str) -> tuple[object, Mapping[str, str]]:
        """GET ``url`` and return its parsed JSON body and the response headers.

        :raises FetchError: on any failure; the message never includes the query string.
        """
        import requests  # already imported: the session was made with it
        import urllib3

        shown = safe_url(url)
        headers = {"Accept": "application/json", "User-Agent": self.user_agent, **self.headers}
        try:
            with self.session.get(url, headers=headers, timeout=self.timeout, stream=True) as resp:
                if not 200 <= resp.status_code < 300:
                    raise FetchError(
                        f"GET {shown} answered HTTP {resp.status_code}", status=resp.status_code
                    )
                if url.lower().startswith("https:") and not resp.url.lower().startswith("https:"):
                    raise FetchError(f"GET {shown} was redirected to a non-HTTPS URL")
                body = self._read_body(resp, shown)
                resp_headers: Mapping[str, str] = resp.headers
        except FetchError:
            raise
        except requests.Timeout:
            raise FetchError(f"GET {shown} timed out") from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise FetchError(f"GET {shown} failed: {type(exc).__name__}") from None
        try:
            data = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise FetchError(f"GET {shown} did not return valid JSON") from None
        return data, resp_headers

    def _read_body(self, resp: requests.Response, shown: str) -> bytes:
        length = resp.headers.get("Content-Length", "")
        if length.strip().isdigit() and int(length) > MAX_BODY_BYTES:
            raise FetchError(f"GET {shown} returned a body larger than {MAX_BODY_BYTES} bytes")
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(_CHUNK):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise FetchError(f"GET {shown} returned a body larger than {MAX_BODY_BYTES} bytes")
            if time.monotonic() > deadline:
                raise FetchError(f"GET {shown} timed out reading the body")
            chunks.append(chunk)
        return b"".join(chunks)
