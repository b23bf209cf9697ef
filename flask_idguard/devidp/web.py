"""What the identity provider's views share: the browser's client, safe redirects, cookies,
and Clerk's error format."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from flask import current_app
from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from ..core.urls import is_loopback
from ..core.urls import parse_url
from ..providers.clerk.instance import cookie_suffix
from .store import Client

if TYPE_CHECKING:
    from .instance import Instance

__all__ = [
    "CLIENT_COOKIE",
    "FapiError",
    "browser_client",
    "clerk_error",
    "current_idp",
    "origin",
    "request_origin",
    "safe_redirect",
    "set_app_cookie",
    "set_client_uat",
]

#: The frontend API's own cookie naming the browser's client (production instances).
CLIENT_COOKIE = "__client"
_YEAR = 365 * 24 * 3600


def current_idp() -> Instance:
    idp = current_app.extensions["devidp"]
    return idp  # type: ignore[no-any-return]


def clerk_error(
    status: int, code: str, message: str, long_message: str = "", *, param: str | None = None
) -> Response:
    """An error in Clerk's format: ``{"errors": [{code, message, long_message, meta}]}``;
    ``meta.param_name`` names the form field at fault, as Clerk's form errors do."""
    meta = {"param_name": param} if param is not None else {}
    body = {
        "errors": [
            {
                "code": code,
                "message": message,
                "long_message": long_message or message,
                "meta": meta,
            }
        ],
        "clerk_trace_id": "devidp",
    }
    response = jsonify(body)
    response.status_code = status
    return response


class FapiError(Exception):
    """A Frontend API error, answered in Clerk's format by :func:`clerk_error`."""

    def __init__(
        self, status: int, code: str, message: str, long_message: str = "", param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.long_message, self.param = long_message, param

    def response(self) -> Response:
        return clerk_error(
            self.status, self.code, self.message, self.long_message, param=self.param
        )


def origin(url: str | None) -> str | None:
    """The http(s) origin of ``url``, or None."""
    parsed = parse_url(url) if url else None
    if parsed is None or parsed.scheme not in ("http", "https"):
        return None
    return parsed.origin


def safe_redirect(url: str | None) -> str | None:
    """``url`` when it may be redirected to: an http(s) URL on a loopback host, on this
    provider's origin, or on a configured allowed origin. Anything else is refused (None), so
    the provider is never an open redirect."""
    idp = current_idp()
    parsed = parse_url(url) if url else None
    if url is None or parsed is None or parsed.scheme not in ("http", "https"):
        return None
    host = parsed.hostname.strip("[]")
    allowed = {origin(idp.config.base_url), *idp.config.allowed_origins}
    return url if is_loopback(host) or parsed.origin in allowed else None


def request_origin() -> str | None:
    """The request's ``Origin`` when this provider serves it (a loopback origin, its own or an
    allowed one), else None: browsers send it with every cross-origin call and form post."""
    sent = request.headers.get("Origin")
    return sent if sent is not None and safe_redirect(sent + "/") is not None else None


def browser_client(*, create: bool = False) -> tuple[Client | None, str | None]:
    """The browser's client and, on a development instance, its dev browser token.

    Development: the ``__clerk_db_jwt`` query parameter or cookie. Production: the frontend
    API's ``__client`` cookie. With ``create``, a missing one is made (the caller sets the
    cookie with :func:`set_app_cookie`)."""
    idp = current_idp()
    store = idp.store
    if not idp.config.production:
        suffix = cookie_suffix(idp.config.publishable_key)
        token = (
            request.args.get("__clerk_db_jwt")
            or request.cookies.get(f"__clerk_db_jwt_{suffix}")
            or request.cookies.get("__clerk_db_jwt")
        )
        client = store.dev_browser_client(token)
        if client is None and create:
            token, client = store.new_dev_browser()
        return client, token if client is not None else None
    client = store.clients.get(request.cookies.get(CLIENT_COOKIE, ""))
    if client is None and create:
        client = store.new_client()
    return client, None


def set_app_cookie(response: Response, name: str, value: str, *, suffixed: bool = True) -> None:
    """Set a cookie the app reads (``__client_uat``, ``__clerk_db_jwt``): on this host, so an app
    on another port of it sees it too, as Clerk's frontend API sets them on the app's domain."""
    idp = current_idp()
    names = [name]
    if suffixed:
        names.append(f"{name}_{cookie_suffix(idp.config.publishable_key)}")
    for cookie in names:
        response.set_cookie(
            cookie, value, max_age=_YEAR, path="/", samesite="Lax", secure=idp.config.secure_cookies
        )


def set_client_uat(response: Response, client: Client) -> None:
    """``__client_uat`` for the app: the client's last change while a session is active, ``0``
    once signed out, as Clerk's Frontend API sets it."""
    signed_in = current_idp().store.active_session(client) is not None
    set_app_cookie(response, "__client_uat", str(int(client.updated_at)) if signed_in else "0")


def json_body() -> dict[str, Any]:
    """The request's JSON object body, or form fields (Clerk's SDKs send either)."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested too deeply for the JSON decoder
        return {}
    if isinstance(data, dict):
        return data
    return {k: v for k, v in request.form.items()}
