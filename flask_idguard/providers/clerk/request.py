"""One request as Clerk sees it: public URL, cookies, tokens, counters (clerk.md §1.3, §11.2–6)."""

from __future__ import annotations

from urllib.parse import quote
from urllib.parse import urlsplit

from flask import Request
from werkzeug.datastructures import MultiDict
from werkzeug.utils import cached_property

from ...core.urls import host_is_valid
from ...core.urls import origin_of
from .config import ClerkConfig
from .cookies import first_cookies
from .cookies import parse_client_uat
from .cookies import parse_redirect_count
from .cookies import uses_suffixed_cookies
from .instance import frontend_api_for
from .instance import original_frontend_api
from .instance import resolve_proxy_url

__all__ = ["ClerkRequest"]


def _first(value: str | None) -> str | None:
    if value is None:
        return None
    first = value.split(",")[0].strip()
    return first or None


# WHATWG URL percent-encode sets (path, special query) over the raw request target.
_PATH_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"#<>?`{}')
_QUERY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\"#<>'")


def _target(request: Request) -> str:
    """The request target (path and query) as the client sent it, encoded as a URL would be.

    The raw target keeps ``%2F`` and non-ASCII escapes as sent, as Clerk's URL does;
    without it (a server that sets neither ``RAW_URI`` nor ``REQUEST_URI``) the decoded
    path is re-encoded.
    """
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw.startswith("/") and not raw.startswith("//"):
        path = raw.partition("#")[0].partition("?")[0]
    else:
        path = (request.script_root + request.path).encode("utf-8").decode("latin-1")
    query = environ.get("QUERY_STRING", "")  # raw in WSGI, like the path above
    sep = "?" if query else ""
    path = quote(path.encode("latin-1", "replace"), safe=_PATH_SAFE)
    query = quote(query.encode("latin-1", "replace"), safe=_QUERY_SAFE)
    return f"{path}{sep}{query}"


class ClerkRequest:
    """The parts of a request that Clerk's decision tree reads, each parsed once."""

    def __init__(
        self,
        request: Request,
        config: ClerkConfig,
        suffix: str,
        now: float,
        *,
        authorization: str | None = None,
    ) -> None:
        self.request = request
        #: The ``Authorization`` header, as the request context read it.
        self.authorization = authorization
        self.config = config
        self.suffix = suffix
        self.now = now
        self.method = request.method
        environ = request.environ  # the headers as WSGI gives them (what .headers reads)
        self.sec_fetch_dest: str | None = environ.get("HTTP_SEC_FETCH_DEST") or None
        self.accept: str = environ.get("HTTP_ACCEPT", "")
        self.referer: str | None = environ.get("HTTP_REFERER")

    @cached_property
    def query(self) -> MultiDict[str, str]:
        """The query parameters (parsed when a step asks: a header token never does)."""
        return self.request.args

    # URLs --------------------------------------------------------------------------------------

    @cached_property
    def url(self) -> str:
        """The public URL: ``X-Forwarded-Host``/``-Proto`` (first values) over ``Host``."""
        request = self.request
        target = _target(request)
        own = f"{request.scheme}://{request.host}"
        own = origin_of(own) or own  # lower-cased host, default port dropped, as a URL has it
        host = _first(request.headers.get("X-Forwarded-Host")) or request.host
        proto = (_first(request.headers.get("X-Forwarded-Proto")) or request.scheme).lower()
        if proto in ("http", "https") and host_is_valid(host):
            public = origin_of(f"{proto}://{host}")
            if public is not None:
                return public + target
        return own + target

    @cached_property
    def origin(self) -> str:
        return origin_of(self.url) or ""

    @cached_property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @cached_property
    def proxy_url(self) -> str | None:
        proxy = self.config.proxy_url
        if proxy is None:
            return None
        return resolve_proxy_url(proxy, self.origin) if proxy.startswith("/") else proxy

    @cached_property
    def frontend_api(self) -> str:
        c = self.config
        return frontend_api_for(
            c.publishable_key,
            proxy_url=self.proxy_url,
            domain=c.domain,
            is_satellite=c.is_satellite,
        )

    @cached_property
    def original_frontend_api(self) -> str:
        c = self.config
        return original_frontend_api(
            c.publishable_key, domain=c.domain, is_satellite=c.is_satellite
        )

    # cookies -----------------------------------------------------------------------------------

    @cached_property
    def cookies(self) -> dict[str, str]:
        return first_cookies(self.request.environ.get("HTTP_COOKIE", ""))

    @cached_property
    def suffixed(self) -> bool:
        """``usesSuffixedCookies()``: which of the ``__session``/``__client_uat`` names apply."""
        return uses_suffixed_cookies(
            self.cookies,
            suffix=self.suffix,
            original_frontend_api=self.original_frontend_api,
            production=self.config.production,
            now=self.now,
        )

    def _trio(self, name: str) -> str | None:
        value = self.cookies.get(f"{name}_{self.suffix}" if self.suffixed else name)
        return value or None

    @cached_property
    def session_cookie(self) -> str | None:
        return self._trio("__session")

    @cached_property
    def client_uat(self) -> int:
        return parse_client_uat(self._trio("__client_uat"))

    @cached_property
    def dev_browser_token(self) -> str | None:
        return self.query.get("__clerk_db_jwt") or self._trio("__clerk_db_jwt")

    @cached_property
    def refresh_token(self) -> str | None:
        return self.cookies.get(f"__refresh_{self.suffix}") or None

    @cached_property
    def handshake_nonce(self) -> str | None:
        return (
            self.query.get("__clerk_handshake_nonce")
            or self.cookies.get("__clerk_handshake_nonce")
            or None
        )

    @cached_property
    def handshake_token(self) -> str | None:
        return self.query.get("__clerk_handshake") or self.cookies.get("__clerk_handshake") or None

    @cached_property
    def redirect_count(self) -> int | float:
        return parse_redirect_count(self.cookies.get("__clerk_redirect_count"))

    # header ------------------------------------------------------------------------------------

    @cached_property
    def header_token(self) -> str | None:
        """Clerk's ``Authorization`` reading (§11.2): no scheme, or exactly ``Bearer``."""
        value = self.authorization
        if not value:
            return None
        pieces = value.split(" ")
        if len(pieces) < 2 or not pieces[1]:
            return pieces[0] or None
        return pieces[1] if pieces[0] == "Bearer" else None

    @property
    def session_token(self) -> str | None:
        """The token the handshake URL carries: the session cookie, else the header token."""
        return self.session_cookie or self.header_token

    # navigation --------------------------------------------------------------------------------

    @property
    def is_document(self) -> bool:
        return self.sec_fetch_dest == "document"

    @property
    def eligible_for_handshake(self) -> bool:
        """GET and a document/iframe navigation, or an HTML ``Accept`` without
        ``Sec-Fetch-Dest`` (§11.15)."""
        if self.method != "GET":
            return False
        if self.sec_fetch_dest is not None:
            return self.sec_fetch_dest in ("document", "iframe")
        return self.accept.startswith("text/html")
