"""Clerk's Frontend API, the part an app's server sends browsers to: the handshake, the dev
browser, the JWKS (clerk.md §2, devidp.md §2–§3). Served under ``/clerk``
(``config.frontend_api_url``, the app's ``CLERK_PROXY_URL``)."""

from __future__ import annotations

from flask import Blueprint
from flask import jsonify
from flask import redirect
from flask import request
from werkzeug.wrappers import Response

from ..core.urls import with_params
from .tokens import handshake_directives
from .web import browser_client
from .web import clerk_error
from .web import current_idp
from .web import origin
from .web import safe_redirect
from .web import set_app_cookie

__all__ = ["fapi"]

fapi = Blueprint("fapi", __name__, url_prefix="/clerk")


@fapi.get("/v1/client/handshake")
def handshake() -> Response:
    """Refresh the browser's session for the app and send it back to ``redirect_url``.

    The answer is a 307 to ``redirect_url`` with ``__clerk_handshake=<token>`` (a JWT whose
    ``handshake`` claim lists the ``Set-Cookie`` directives) or ``__clerk_handshake_nonce``
    (the directives wait at the Backend API's ``/v1/clients/handshake_payload``): a token in
    the URL on a development instance, a nonce in a cookie on a production one, unless the
    provider is configured for one format.
    """
    idp = current_idp()
    config = idp.config
    redirect_url = safe_redirect(request.args.get("redirect_url"))
    if redirect_url is None:
        return clerk_error(
            400,
            "form_param_value_invalid",
            "redirect_url is invalid",
            "redirect_url must be an http(s) URL on a loopback host, this provider's origin or "
            "an allowed origin.",
        )
    client, dev_browser = browser_client(create=not config.production)
    session = idp.store.active_session(client)
    organization = request.args.get("organization_id")
    if session is not None and organization is not None:
        idp.store.set_active_organization(session, organization)
    directives = handshake_directives(
        idp,
        client,
        suffixed=request.args.get("suffixed_cookies") == "true",
        azp=origin(redirect_url),
        dev_browser=dev_browser,
    )
    fmt = config.handshake_format
    if fmt == "auto":
        fmt = "nonce" if config.production else "token"
    if fmt == "token":
        token = idp.clerk_key.sign({"handshake": directives})
        return redirect(with_params(redirect_url, [("__clerk_handshake", token)]), 307)
    nonce = idp.store.put_nonce(directives)
    if config.production:
        response = redirect(redirect_url, 307)
        response.set_cookie(
            "__clerk_handshake_nonce", nonce, max_age=60, path="/", samesite="Lax",
            secure=config.secure_cookies, httponly=True,
        )  # fmt: skip
        return response
    return redirect(with_params(redirect_url, [("__clerk_handshake_nonce", nonce)]), 307)


@fapi.post("/v1/dev_browser")
def dev_browser() -> Response:
    """A new dev browser (development instances): its ``id`` becomes ``__clerk_db_jwt``."""
    idp = current_idp()
    if idp.config.production:
        return clerk_error(400, "dev_browser_unsupported", "Dev browsers are for development.")
    token, client = idp.store.new_dev_browser()
    response = jsonify(
        object="dev_browser",
        id=token,
        token=token,
        client_id=client.id,
        instance_id=idp.clerk_key.kid,
        created_at=int(client.created_at * 1000),
        updated_at=int(client.updated_at * 1000),
        home_origin=None,
    )
    response.headers["Clerk-Db-Jwt"] = token
    set_app_cookie(response, "__clerk_db_jwt", token)
    return response


@fapi.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The instance's public key, as Clerk's Frontend API serves it."""
    idp = current_idp()
    response = jsonify(keys=[idp.clerk_key.public_jwk()])
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
