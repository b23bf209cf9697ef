"""The pages a person sees: sign in (a button per demo user, or email and password), sign up,
the account page with the organization switcher, sign out. Plain HTML forms: no JavaScript.

They play the part of Clerk's Account Portal: after each, the browser goes back to the app
with ``__client_uat`` updated, and the app's next request runs Clerk's handshake.
"""

from __future__ import annotations

from flask import Blueprint
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from .store import Client
from .web import CLIENT_COOKIE
from .web import browser_client
from .web import current_idp
from .web import request_origin
from .web import safe_redirect
from .web import set_app_cookie
from .web import set_client_uat

__all__ = ["pages"]

pages = Blueprint("pages", __name__)


@pages.before_request
def same_site_forms_only() -> Response | None:
    """Refuse a form posted from another site (login CSRF, a forced sign-out): a browser
    sends ``Origin`` with a POST; it must be this provider's, a loopback or an allowed one."""
    if request.method == "POST" and "Origin" in request.headers and request_origin() is None:
        return _page("account.html", 403, error="Forms are accepted from this site only.")
    return None


def _redirect_url() -> str | None:
    return safe_redirect(request.values.get("redirect_url") or None)


def _page(template: str, status: int = 200, **context: object) -> Response:
    idp = current_idp()
    users = sorted(idp.store.users.values(), key=lambda u: u.created_at)
    html = render_template(template, users=users, redirect_url=_redirect_url(), **context)
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _back(client: Client, dev_browser: str | None) -> Response:
    """Back to the app (or the account page) with the client's cookies set:
    ``__client_uat`` is the time of the last change, or ``0`` once signed out, as Clerk's."""
    target = _redirect_url() or url_for("pages.account")
    response = redirect(target, 303)
    set_client_uat(response, client)
    if dev_browser is not None:
        set_app_cookie(response, "__clerk_db_jwt", dev_browser)
    else:
        response.set_cookie(CLIENT_COOKIE, client.id, httponly=True, samesite="Lax", path="/")
    return response


@pages.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response:
    idp = current_idp()
    if request.method == "GET":
        return _page("sign_in.html")
    store = idp.store
    user_id = request.form.get("user_id")
    if user_id is not None:
        user = store.users.get(user_id)
        error = "Unknown user."
    else:
        user = store.authenticate(request.form.get("email", ""), request.form.get("password", ""))
        error = "Password is incorrect, or no account has this email address."
    if user is None:
        return _page("sign_in.html", 422, error=error)
    client, dev_browser = browser_client(create=True)
    assert client is not None
    store.sign_in(client, user)
    idp.save()
    return _back(client, dev_browser)


@pages.route("/sign-up", methods=["GET", "POST"])
def sign_up() -> Response:
    idp = current_idp()
    if request.method == "GET":
        return _page("sign_up.html")
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    if "@" not in email or len(password) < 8:
        error = "Enter an email address and a password of 8 characters or more."
        return _page("sign_up.html", 422, error=error)
    names = {k: request.form.get(k, "").strip() or None for k in ("first_name", "last_name")}
    try:
        user = idp.store.add_user(email, password, **names)
    except ValueError as exc:
        return _page("sign_up.html", 422, error=str(exc))
    client, dev_browser = browser_client(create=True)
    assert client is not None
    idp.store.sign_in(client, user)
    idp.save()
    return _back(client, dev_browser)


@pages.get("/")
@pages.get("/account")
def account() -> Response:
    idp = current_idp()
    client, _ = browser_client()
    session = idp.store.active_session(client)
    user = idp.store.users.get(session.user_id) if session is not None else None
    memberships = idp.store.memberships(user.id) if user is not None else []
    return _page("account.html", user=user, session=session, memberships=memberships)


@pages.post("/organizations")
def organizations() -> Response:
    """Switch the active organization (an id, or empty for the personal account)."""
    idp = current_idp()
    client, dev_browser = browser_client()
    session = idp.store.active_session(client)
    if client is None or session is None:
        return redirect(url_for("pages.sign_in", redirect_url=_redirect_url()), 303)
    key = request.form.get("organization_id") or None
    if not idp.store.set_active_organization(session, key):
        return _page("account.html", 403, error="You are not a member of that organization.")
    return _back(client, dev_browser)


@pages.post("/sign-out")
def sign_out() -> Response:
    idp = current_idp()
    client, dev_browser = browser_client()
    if client is not None:
        idp.store.end_sessions(client)
        return _back(client, dev_browser)
    return redirect(_redirect_url() or url_for("pages.account"), 303)
