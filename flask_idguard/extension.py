"""The Flask extension: :class:`IdGuard` reads the configuration once and registers the hooks."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Flask

from .app_state import IdGuardState
from .app_state import app_state
from .auth import current_auth
from .cli import idguard_cli
from .config import SOURCES_KEY
from .config import ConfigReader
from .errors import ConfigurationError
from .hooks import before_request_hook
from .protect import Protection
from .protect import warn_misplaced_once
from .providers.auth0 import Auth0Provider
from .providers.base import Provider
from .providers.clerk import ClerkProvider
from .providers.clerk.instance import accounts_base_url
from .providers.clerk.instance import check_secret_key
from .providers.oidc import OIDCProvider
from .providers.settings import Settings
from .providers.token import TokenProvider
from .resource_metadata import ResourceMetadata
from .users import UsersClient
from .users import users_clients

__all__ = ["IdGuard"]

logger = logging.getLogger("flask_idguard")


#: The end of "No identity provider is configured": where a ``.env`` file is (not) read.
DOTENV_NOTE = (
    " A .env file is read only by the 'flask' command (flask run, flask shell...) and only "
    "when python-dotenv is installed; 'python app.py', gunicorn and pytest do not read it: "
    "call dotenv.load_dotenv() (or flask.cli.load_dotenv()) before creating the app, or "
    "export the variables."
)


class IdGuard:
    """Verified sign-in state on every request of a Flask app.

    ``IdGuard(app)`` or, with an app factory, ``idguard = IdGuard()`` then
    ``idguard.init_app(app)``. ``providers`` adds provider objects of your own
    before the configured ones.
    """

    def __init__(self, app: Flask | None = None, *, providers: Sequence[Provider] = ()) -> None:
        self._extra_providers = tuple(providers)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read and validate the configuration, register the hooks.

        Keys read (``app.config``, else the environment variable of the same name), by provider:

        - Clerk: ``CLERK_PUBLISHABLE_KEY``, ``CLERK_SECRET_KEY``, ``CLERK_JWT_KEY``,
          ``CLERK_API_URL``, ``CLERK_API_VERSION``, ``CLERK_AUTHORIZED_PARTIES``,
          ``CLERK_AUDIENCE``, ``CLERK_SIGN_IN_URL``, ``CLERK_SIGN_UP_URL``, ``CLERK_DOMAIN``,
          ``CLERK_IS_SATELLITE``, ``CLERK_PROXY_URL``, ``CLERK_SATELLITE_AUTO_SYNC``,
          ``CLERK_ORGANIZATION_SYNC_OPTIONS``, ``CLERK_DEBUG_HEADERS``,
          ``CLERK_TREAT_PENDING_AS_SIGNED_OUT``, ``CLERK_MACHINE_SECRET_KEY``,
          ``CLERK_MACHINE_TOKEN_CACHE_TTL``.
        - Auth0: ``AUTH0_DOMAIN`` (alias ``ISSUER_BASE_URL``), ``AUTH0_AUDIENCE`` (alias
          ``AUDIENCE``), ``AUTH0_ISSUER``, ``AUTH0_JWKS_URI``, ``AUTH0_PUBLIC_KEY``,
          ``AUTH0_DOMAINS``, ``AUTH0_ALGORITHMS``, ``AUTH0_CLOCK_TOLERANCE``,
          ``AUTH0_MAX_TOKEN_AGE``, ``AUTH0_STRICT``, ``AUTH0_CLAIMS_NAMESPACE``, ``AUTH0_DPOP``,
          ``AUTH0_DPOP_MODE``, ``AUTH0_DPOP_IAT_OFFSET``, ``AUTH0_DPOP_IAT_LEEWAY``; for
          :attr:`users`, ``AUTH0_CLIENT_ID``, ``AUTH0_CLIENT_SECRET``,
          ``AUTH0_MANAGEMENT_TOKEN``, ``AUTH0_MANAGEMENT_API_URL``.
        - OIDC and every provider: ``IDGUARD_ISSUER``, ``IDGUARD_ISSUERS``, ``IDGUARD_AUDIENCE``,
          ``IDGUARD_JWKS_URL``, ``IDGUARD_PUBLIC_KEYS``, ``IDGUARD_AUTHORIZED_PARTIES``,
          ``IDGUARD_ALGORITHMS``, ``IDGUARD_CLOCK_SKEW``, ``IDGUARD_HTTP_TIMEOUT``,
          ``IDGUARD_JWKS_CACHE_TTL``, ``IDGUARD_JWKS_COOLDOWN``, ``IDGUARD_CACHE``,
          ``IDGUARD_ALLOW_INSECURE_HTTP``, ``IDGUARD_ALLOW_QUERY_TOKEN``,
          ``IDGUARD_ALLOW_FORM_TOKEN``, ``IDGUARD_MAX_TOKEN_AGE``, ``IDGUARD_STRICT``,
          ``IDGUARD_REQUIRED_CLAIMS``, ``IDGUARD_VALIDATORS``, ``IDGUARD_REALM``,
          ``IDGUARD_SIGN_IN_URL``, ``IDGUARD_RESOURCE_METADATA``, ``IDGUARD_DPOP``,
          ``IDGUARD_DPOP_ALGORITHMS``, ``IDGUARD_DPOP_IAT_OFFSET``, ``IDGUARD_DPOP_IAT_LEEWAY``,
          ``IDGUARD_DPOP_NONCE``, ``IDGUARD_DPOP_NONCE_LIFETIME``,
          ``IDGUARD_DPOP_REJECT_BOUND_BEARER``.

        Changes to the configuration after this call are not seen. Also registered: the
        ``flask idguard`` commands (``app.cli``), ``current_auth`` in templates, and (in
        debug mode) a one-time look for decorators placed above ``@app.route``.
        Configurations that work but surprise (Clerk without a sign-in URL) are logged once.

        Raises :class:`~flask_idguard.errors.ConfigurationError` naming the key to fix.
        """
        if "idguard" in app.extensions:
            raise RuntimeError(
                "IdGuard is already registered on this app; import and use that instance "
                "instead of creating a second one."
            )
        reader = ConfigReader(app)
        state = self._state(app, reader)
        app.extensions["idguard"] = state
        app.extensions[SOURCES_KEY] = MappingProxyType(dict(reader.sources))
        if state.resource_metadata is not None:
            route = state.resource_metadata.route
            app.add_url_rule(route, "idguard_resource_metadata", state.resource_metadata_view)
        app.before_request(before_request_hook(state))
        app.context_processor(_template_context)
        app.cli.add_command(idguard_cli)
        if app.debug:  # development: one look at the routes on the first request
            app.before_request(warn_misplaced_once(app))
        _warn_surprises(state)

    def protect(
        self, target: Flask | Blueprint, *, exempt: Iterable[str] = ("static",), **options: Any
    ) -> None:
        """Require sign-in on every view of ``target`` (a blueprint, or the whole app).

        ``options`` are those of :func:`~flask_idguard.requires_auth` (``scopes``,
        ``redirect``, ``optional``, ``pass_invalid``); views decorated with
        :func:`~flask_idguard.public`, the ``exempt`` endpoints (``static`` by default) and
        ``OPTIONS`` requests are let through; a URL matching no route is protected too. Clerk's
        ``app.use(requireAuth())`` in Express. A whole app must be registered first
        (``init_app``) so that its hook runs after IdGuard's.
        """
        if isinstance(target, Flask) and "idguard" not in target.extensions:
            raise RuntimeError(
                "idguard.protect(app) needs IdGuard registered on the app first: call "
                "idguard.init_app(app) before idguard.protect(app)."
            )
        target.before_request(Protection(exempt=exempt, **options))

    def _state(self, app: Flask, reader: ConfigReader) -> IdGuardState:
        """Everything ``init_app`` reads, validated, in the order its errors are reported."""
        settings = Settings.from_config(reader)
        providers = self._extra_providers + _configured_providers(reader, settings)
        _check_secret_only(reader)
        _check_routing(providers)
        sign_in_url = _sign_in_url(reader)
        realm = reader.string("IDGUARD_REALM")
        if realm is not None and ('"' in realm or "\\" in realm):
            raise ConfigurationError('IDGUARD_REALM must not contain " or \\.')
        clerk = next((p for p in providers if isinstance(p, ClerkProvider)), None)
        users = users_clients(
            reader,
            timeout=settings.http_timeout,
            allow_insecure_http=settings.allow_insecure_http,
            clerk=clerk.backend.client if clerk is not None else None,
        )
        metadata = ResourceMetadata.from_config(reader, _metadata_defaults(providers, settings))
        return IdGuardState(app, providers, settings, realm, sign_in_url, users, metadata)

    @property
    def users(self) -> UsersClient:
        """The current app's users API client (Clerk or Auth0), one per app.

        Raises :class:`~flask_idguard.errors.ConfigurationError` naming the keys to set
        when none (or both) is configured.
        """
        return app_state().users_clients.only()


def _metadata_defaults(providers: Sequence[Provider], settings: Settings) -> dict[str, object]:
    """RFC 9728 fields known from the configuration: issuers and the token methods."""
    servers = sorted(
        {i for p in providers if isinstance(p, TokenProvider) for i in p.static_issuers}
    )
    methods = ["header"]
    methods += ["body"] if settings.allow_form_token else []
    methods += ["query"] if settings.allow_query_token else []
    defaults: dict[str, object] = {"bearer_methods_supported": methods}
    if servers:
        defaults["authorization_servers"] = servers
    return defaults


def _configured_providers(reader: ConfigReader, settings: Settings) -> tuple[Provider, ...]:
    """The providers the configuration enables, in order: Clerk, Auth0, OIDC."""
    configured = [
        ClerkProvider.from_config(reader, settings),
        Auth0Provider.from_config(reader, settings),
        OIDCProvider.from_config(reader, settings),
    ]
    return tuple(p for p in configured if p is not None)


def _check_routing(providers: Sequence[Provider]) -> None:
    """At least one provider, and bearer tokens routable to exactly one of them by ``iss``."""
    if not providers:
        raise ConfigurationError(
            "No identity provider is configured: set CLERK_PUBLISHABLE_KEY and "
            "CLERK_SECRET_KEY, AUTH0_DOMAIN and AUTH0_AUDIENCE, or IDGUARD_ISSUER and "
            "IDGUARD_AUDIENCE (app.config or environment). CLERK_SECRET_KEY alone "
            "configures only the users API client." + DOTENV_NOTE
        )
    token_providers = [p for p in providers if isinstance(p, TokenProvider)]
    issuers = [i for p in token_providers for i in p.static_issuers]
    if len(set(issuers)) != len(issuers):
        raise ConfigurationError(
            "Two providers are configured for the same issuer; bearer tokens could not "
            "be routed. Keep AUTH0_DOMAIN or IDGUARD_ISSUER, not both for one issuer."
        )
    resolving = [p.name for p in token_providers if p.router and p.router.issuers.resolver]
    if resolving and len(token_providers) > 1:
        raise ConfigurationError(
            f"The {resolving[0]} provider has an issuer resolver, which may accept any "
            "issuer, so bearer tokens could not be routed to other providers: give it a "
            "list of issuers, or configure no other provider."
        )


def _template_context() -> dict[str, Any]:
    """``current_auth`` in every template, as Flask-Login gives ``current_user``."""
    return {"current_auth": current_auth}


def _warn_surprises(state: IdGuardState) -> None:
    """Log, once per ``init_app``, configurations that work but surprise."""
    clerk = next((p for p in state.providers if isinstance(p, ClerkProvider)), None)
    if clerk is None:
        return
    pk = clerk.config.publishable_key
    if state.sign_in_url is None:
        portal = accounts_base_url(pk.frontend_api)
        logger.warning(
            "IdGuard: CLERK_SIGN_IN_URL (or IDGUARD_SIGN_IN_URL) is not set, so a signed-out "
            "browser opening a protected page gets an empty 401 page instead of the sign-in "
            "page. Set it to your sign-in page, e.g. %s/sign-in (your Account Portal).",
            portal,
        )
    if not pk.is_production:
        logger.info(
            "IdGuard: CLERK_PUBLISHABLE_KEY is a development key (pk_test_): as in Clerk's "
            "SDKs, a browser's session cookies count only with the dev browser token "
            "(__clerk_db_jwt, set by Clerk's JavaScript or the handshake); without it pages "
            "go through the handshake and other requests are signed out (dev-browser-missing)."
        )


def _check_secret_only(reader: ConfigReader) -> None:
    """``CLERK_SECRET_KEY`` without a publishable key (users API only) is still a secret key."""
    secret_key = reader.string("CLERK_SECRET_KEY")
    if secret_key is not None:
        check_secret_key(secret_key, None)


def _sign_in_url(reader: ConfigReader) -> str | None:
    """``IDGUARD_SIGN_IN_URL`` (else ``CLERK_SIGN_IN_URL``): absolute http(s), or a path."""
    sign_in_url = reader.string("IDGUARD_SIGN_IN_URL") or reader.string("CLERK_SIGN_IN_URL")
    if sign_in_url is not None:
        parts = urlsplit(sign_in_url)
        relative = not parts.scheme and not parts.netloc and sign_in_url.startswith("/")
        if not relative and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ConfigurationError(
                "IDGUARD_SIGN_IN_URL must be an absolute http(s) URL or a path starting "
                f"with '/', got {sign_in_url!r}."
            )
    return sign_in_url
