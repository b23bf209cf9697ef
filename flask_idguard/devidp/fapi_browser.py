"""The Frontend API calls ``@clerk/clerk-js`` makes from the app's pages: the environment, the
client, sign-in attempts, and a session's touch, tokens and end (devidp.md §4).

The SDK's conventions (packages/clerk-js/src/core/fapiClient.ts): every call is a GET or a
POST whose real method rides in ``?_method=`` (PATCH, PUT, DELETE), bodies are form-encoded,
the browser's client is named by the dev browser in ``?__clerk_db_jwt=`` on a development
instance and by the ``__client`` cookie on a production one. Mutations answer
``{"response": <object>, "client": <client>}``; errors are Clerk's ``{"errors": [...]}``.

Calls come cross-origin (the app's origin to this provider's), with credentials: an app's
origin on a loopback host or among ``allowed_origins`` gets CORS headers, any other origin gets
none, and its state-changing calls are refused.
"""

from __future__ import annotations

import time
from typing import Any
from typing import Literal

from flask import Blueprint
from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from .fapi_json import client_json
from .fapi_json import environment_json
from .fapi_json import session_json
from .fapi_json import sign_in_json
from .sign_ins import attempt_first_factor
from .sign_ins import create
from .sign_ins import prepare_first_factor
from .store import Client
from .store import Session
from .store import SignInAttempt
from .tokens import session_token
from .web import CLIENT_COOKIE
from .web import FapiError
from .web import browser_client
from .web import current_idp
from .web import request_origin
from .web import set_client_uat

__all__ = ["allow_app_origins", "fapi_browser"]

fapi_browser = Blueprint("fapi_browser", __name__, url_prefix="/clerk/v1")

#: Headers the SDK reads from answers (the dev browser it should use from now on).
_EXPOSED = "Clerk-Db-Jwt"


def allow_app_origins(response: Response) -> Response:
    """CORS for the Frontend API and the SDK's files: credentials from the app's origin."""
    if not request.path.startswith("/clerk/"):
        return response
    allowed = request_origin()
    response.vary.add("Origin")
    if allowed is not None:
        response.headers["Access-Control-Allow-Origin"] = allowed
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = _EXPOSED
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
    return response


@fapi_browser.errorhandler(FapiError)
def _fapi_error(error: FapiError) -> Response:
    return error.response()


@fapi_browser.before_request
def _check_caller() -> None:
    """Refuse a state-changing call from a foreign origin (login CSRF, forced sign-out)."""
    if request.method == "POST" and "Origin" in request.headers and request_origin() is None:
        raise FapiError(403, "origin_invalid", "Requests are accepted from the app's origin only.")


def _method() -> str:
    """The method the SDK meant: ``?_method=`` on a POST, else the request's own."""
    if request.method == "POST":
        return request.args.get("_method", "POST").upper()
    return request.method


def _client(*, create: bool = False) -> Client:
    """The browser's client; a missing or unknown dev browser is Clerk's 401
    ``dev_browser_unauthenticated``, on which the SDK makes a new dev browser and retries."""
    idp = current_idp()
    client, _ = browser_client(create=create and idp.config.production)
    if client is not None:
        return client
    if not idp.config.production:
        raise FapiError(
            401,
            "dev_browser_unauthenticated",
            "Unauthenticated dev browser",
            "The dev browser (__clerk_db_jwt) is missing or unknown: make a new one.",
        )
    raise FapiError(401, "client_not_found", "No client for this browser.")


def _answer(response: Any, client: Client, status: int = 200) -> Response:
    """``{"response": ..., "client": ...}``. A production instance keeps the client in its
    ``__client`` cookie and sets ``__client_uat`` for the app itself (on a development
    instance the SDK writes ``__client_uat``: packages/clerk-js/src/core/auth/cookies/
    clientUat.ts)."""
    idp = current_idp()
    answer = jsonify(response=response, client=client_json(idp, client))
    answer.status_code = status
    if idp.config.production:
        answer.set_cookie(
            CLIENT_COOKIE, client.id, max_age=365 * 24 * 3600, path="/", samesite="Lax",
            secure=idp.config.secure_cookies, httponly=True,
        )  # fmt: skip
        set_client_uat(answer, client)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def _session(client: Client, session_id: str) -> Session:
    """The client's session ``session_id``; another client's is as unknown as a made-up id."""
    session = current_idp().store.sessions.get(session_id)
    if session is None or session.client_id != client.id:
        raise FapiError(404, "resource_not_found", "Session not found", param="session_id")
    return session


def _active_session(client: Client, session_id: str) -> Session:
    session = _session(client, session_id)
    if not session.active:
        raise FapiError(401, "authentication_invalid", "The session has ended.")
    return session


def _organization(session: Session, param: str) -> str | None:
    """The id of the organization the form field ``param`` names (an id or a slug; empty: the
    personal account); 404 unless the session's user is a member."""
    wanted = request.form[param]
    if not wanted:
        return None
    org = current_idp().store.find_organization(wanted)
    if org is None or session.user_id not in org.members:
        raise FapiError(
            404,
            "resource_not_found",
            "Organization not found",
            "The user is not a member of that organization.",
            param=param,
        )
    return org.id


@fapi_browser.route("/environment", methods=["GET", "POST"])
def environment() -> Response:
    """The instance's settings (the SDK PATCHes it on a development instance: same answer)."""
    if _method() not in ("GET", "PATCH"):
        raise FapiError(405, "method_not_allowed", "Use GET or PATCH.")
    answer = jsonify(environment_json(current_idp()))
    answer.headers["Cache-Control"] = "no-store"
    return answer


@fapi_browser.route("/client", methods=["GET", "POST"])
def client() -> Response:
    """The browser's client (GET, PUT to create it); DELETE ends its sessions."""
    method = _method()
    if method not in ("GET", "PUT", "DELETE"):
        raise FapiError(405, "method_not_allowed", "Use GET, PUT or DELETE.")
    idp = current_idp()
    if method == "GET" and idp.config.production and browser_client()[0] is None:
        # A browser without a client yet: Clerk answers an empty client, not an error.
        return jsonify(response=None, client=None)
    found = _client(create=method == "PUT")
    if method == "DELETE":
        current_idp().store.end_sessions(found)
        found.sign_in_id = None
    return _answer(client_json(current_idp(), found), found)


@fapi_browser.route("/client/sessions", methods=["POST"])
def sessions() -> Response:
    """``DELETE``: sign out of every session (what ``Clerk.signOut()`` calls)."""
    if _method() != "DELETE":
        raise FapiError(405, "method_not_allowed", "Use DELETE.")
    found = _client()
    current_idp().store.end_sessions(found)
    return _answer(client_json(current_idp(), found), found)


@fapi_browser.post("/client/sign_ins")
def create_sign_in() -> Response:
    idp = current_idp()
    found = _client(create=True)
    attempt = create(idp, found, request.form)
    return _answer(sign_in_json(idp, attempt), found)


def _attempt(client: Client, sign_in_id: str) -> SignInAttempt:
    attempt = current_idp().store.sign_ins.get(sign_in_id)
    if attempt is None or attempt.client_id != client.id:
        raise FapiError(404, "resource_not_found", "Sign in not found", param="sign_in_id")
    return attempt


@fapi_browser.get("/client/sign_ins/<sign_in_id>")
def get_sign_in(sign_in_id: str) -> Response:
    found = _client()
    return _answer(sign_in_json(current_idp(), _attempt(found, sign_in_id)), found)


@fapi_browser.post("/client/sign_ins/<sign_in_id>/<action>")
def sign_in_step(sign_in_id: str, action: str) -> Response:
    """``prepare_first_factor`` and ``attempt_first_factor``."""
    idp = current_idp()
    found = _client()
    attempt = _attempt(found, sign_in_id)
    with idp.store.lock:
        if action == "prepare_first_factor":
            prepare_first_factor(idp, attempt, request.form)
        elif action == "attempt_first_factor":
            attempt_first_factor(idp, found, attempt, request.form)
        else:
            raise FapiError(404, "resource_not_found", f"Unknown sign-in action {action!r}.")
    return _answer(sign_in_json(idp, attempt), found)


@fapi_browser.post("/client/sessions/<session_id>/touch")
def touch(session_id: str) -> Response:
    """Mark the session active, switching its organization to ``active_organization_id``
    (empty: the personal account) when that is sent and differs."""
    idp = current_idp()
    found = _client()
    session = _active_session(found, session_id)
    with idp.store.lock:
        session.last_active_at = time.time()
        found.last_active_session_id = session.id
        if "active_organization_id" in request.form:
            org_id = _organization(session, "active_organization_id")
            if org_id != session.org_id:  # else __client_uat stays: the app's token is current
                idp.store.set_active_organization(session, org_id)
    return _answer(session_json(idp, session), found)


@fapi_browser.post("/client/sessions/<session_id>/tokens")
def tokens(session_id: str) -> Response:
    """A fresh session token: ``{"object": "token", "jwt": ...}``, for ``organization_id``
    when sent (empty: the personal account), else the session's active organization."""
    idp = current_idp()
    session = _active_session(_client(), session_id)
    org_id: str | None | Literal[False] = False
    if "organization_id" in request.form:
        org_id = _organization(session, "organization_id")
    token = session_token(idp, session, azp=request_origin(), org_id=org_id)
    answer = jsonify(object="token", jwt=token)
    answer.headers["Cache-Control"] = "no-store"
    return answer


@fapi_browser.post("/client/sessions/<session_id>/<action>")
def end_session(session_id: str, action: str) -> Response:
    """``end`` and ``remove``: sign out of this session."""
    if action not in ("end", "remove"):
        raise FapiError(404, "resource_not_found", f"Unknown session action {action!r}.")
    idp = current_idp()
    found = _client()
    session = _session(found, session_id)
    with idp.store.lock:
        session.status = "ended" if action == "end" else "removed"
        if found.last_active_session_id == session.id:
            found.last_active_session_id = None
        found.touch()
    return _answer(session_json(idp, session), found)
