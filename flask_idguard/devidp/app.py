"""The identity provider's Flask app: the Frontend API, the pages, the Backend API and the
Auth0/OIDC endpoints on one origin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from .auth0 import auth0
from .auth0_users import auth0_users
from .bapi import bapi
from .bapi_machines import bapi_machines
from .bapi_users import bapi_users
from .clerk_js import clerk_js
from .fapi import fapi
from .fapi_browser import allow_app_origins
from .fapi_browser import fapi_browser
from .mint import mint
from .pages import pages
from .webhooks import SENDER
from .webhooks import WebhookSender
from .webhooks import webhooks

if TYPE_CHECKING:
    from .instance import Instance

__all__ = ["create_app"]


def create_app(idp: Instance) -> Flask:
    """A Flask app serving ``idp``."""
    app = Flask(__name__)
    app.extensions["devidp"] = idp
    app.register_blueprint(fapi)
    app.register_blueprint(fapi_browser)
    app.register_blueprint(clerk_js)
    app.after_request(allow_app_origins)
    app.register_blueprint(pages)
    app.register_blueprint(bapi)
    app.register_blueprint(bapi_users)
    app.register_blueprint(bapi_machines)  # Clerk's machine tokens, unversioned paths
    app.register_blueprint(auth0)
    app.register_blueprint(auth0_users)
    app.register_blueprint(webhooks)
    app.extensions[SENDER] = WebhookSender(idp)
    app.register_blueprint(mint)
    return app
