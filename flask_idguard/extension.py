"""The Flask extension: configuration, the request hooks, per-app state."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import has_request_context
from flask import request

from .auth import _G_KEY
from .auth import AuthState
from .clients.config import UsersClient
from .clients.config import UsersClients
from .clients.config import users_clients
from .config import ConfigReader
from .errors import ConfigurationError
from .host import INVALID_HOST
from .host import environ_host_ok
from .jwt import TokenError
from .jwt import shown
from .providers.auth0 import Auth0Provider
from .providers.base import Provider
from .providers.base import RequestContext
from .providers.base import TokenProvider
from .providers.clerk import ClerkProvider
from .providers.oidc import OIDCProvider
from .providers.settings import Settings
from .resource_metadata import ResourceMetadata
from .signals import authentication_failed
from .signals import request_authenticated

__all__ = ["IdGuard", "IdGuardState", "compute_auth_state"]

_NO_TOKEN = AuthState.signed_out("token-missing", "No token in the request.", failure="missing")
_BAD_HOST = AuthState.signed_out("host-invalid", INVALID_HOST, failure="invalid_request")


@dataclass(frozen=True)
class IdGuardState:
    """Per-app state, stored as ``app.extensions["idguard"]``."""

    idguard: IdGuard
    app: Flask
    providers: tuple[Provider, ...]
    settings: Settings
    realm: str | None
    sign_in_url: str | None
    users_clients: UsersClients
    #: RFC 9728 metadata (``IDGUARD_RESOURCE_METADATA``), None when off.
    resource_metadata: ResourceMetadata | None = None

    @cached_property
    def _good_hosts(self) -> set[str]:
        """Host headers already found valid (a few): most requests skip the grammar check."""
        return set()

    @property
    def routing(self) -> bool:
        """Bearer tokens are routed by ``iss`` when more than one provider is configured."""
        return len(self.providers) > 1

    @cached_property
    def token_providers(self) -> tuple[TokenProvider, ...]:
        return tuple(p for p in self.providers if isinstance(p, TokenProvider))

    @cached_property
    def header_only(self) -> bool:
        """Only bearer-token providers and header tokens: the fast path applies."""
        s = self.settings
        return (
            len(self.token_providers) == len(self.providers)
            and not s.allow_query_token
            and not s.allow_form_token
        )

    @cached_property
    def _offers(self) -> dict[str | None, tuple[bool, tuple[str, ...]]]:
        """Per provider name (None: the app's union): Bearer offered? DPoP algorithms."""
        offers: dict[str | None, tuple[bool, tuple[str, ...]]] = {}
        bearer, algs = False, []
        for p in self.providers:
            if isinstance(p, TokenProvider):
                offer = (p.dpop.offers_bearer, p.dpop.algorithms if p.dpop.offers_dpop else ())
            else:
                offer = (True, ())
            offers[p.name] = offer
            bearer = bearer or offer[0]
            algs += [a for a in offer[1] if a not in algs]
        offers[None] = (bearer, tuple(algs))
        return offers

    def challenge_offer(self) -> tuple[bool, tuple[str, ...], str | None]:
        """For ``WWW-Authenticate``: Bearer offered?, DPoP ``algs``, the request's scheme."""
        auth: AuthState | None = g.get(_G_KEY) if has_request_context() else None
        provider = auth.provider if auth is not None else None
        bearer, algs = self._offers.get(provider) or self._offers[None]
        return bearer, algs, auth.scheme if auth is not None else None

    def auth_state(self) -> AuthState:
        """The current request's auth state, announced through the signals."""
        state = self._ask_providers()
        if state.status == "signed-in":
            if request_authenticated.receivers:
                request_authenticated.send(self.app, state=state)
        elif state.failure not in (None, "missing") and authentication_failed.receivers:
            authentication_failed.send(self.app, state=state)
        return state

    def before_request(self) -> Response | None:
        """The ``before_request`` hook: compute the state once, keep it on ``g``."""
        state = self.auth_state()
        setattr(g, _G_KEY, state)
        if state.redirect is not None:
            return Response(status=307, headers={"Location": state.redirect})
        return None

    def _ask_providers(self) -> AuthState:
        """Ask the providers, in order, for the current request's auth state."""
        environ = request.environ
        host = environ.get("HTTP_HOST")
        if host is not None and host not in self._good_hosts:
            if not environ_host_ok(environ):
                return _BAD_HOST  # nothing is authenticated on a request with a forged Host
            if len(self._good_hosts) < 64:
                self._good_hosts.add(host)
        if self.header_only:
            # Fast path: no Authorization header, or a token verified moments ago.
            header = environ.get("HTTP_AUTHORIZATION")
            if header is None:
                return _NO_TOKEN
            if header[:7] in ("Bearer ", "bearer ") and "HTTP_DPOP" not in request.environ:
                now = time.time()
                for token_provider in self.token_providers:
                    hit = token_provider.cached_state(header[7:], now)
                    if hit is not None:
                        return hit
        settings = self.settings
        ctx = RequestContext(
            request,
            routing=self.routing,
            allow_query=settings.allow_query_token,
            allow_form=settings.allow_form_token,
        )
        if ctx.credentials.scheme == "query":
            g._idguard_query_token = True  # RFC 6750 §2.3: 2xx answers get Cache-Control: private
        for provider in self.providers:
            state = provider.authenticate(ctx)
            if state is not None:
                return state
        creds = ctx.credentials
        if creds.failure is not None:
            assert creds.reason is not None and creds.message is not None
            return AuthState.signed_out(creds.reason, creds.message, failure=creds.failure)
        if creds.token is None:
            return _NO_TOKEN
        parsed = ctx.parsed
        if isinstance(parsed, TokenError):
            return AuthState.signed_out(parsed.reason, parsed.message, failure="invalid_token")
        return AuthState.signed_out(
            "token-invalid-issuer",
            f"No configured provider accepts tokens issued by {shown(ctx.issuer)}.",
            failure="invalid_token",
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

        Keys read (``app.config``, else the environment variable of the same name):
        ``AUTH0_DOMAIN``, ``AUTH0_AUDIENCE``, ``IDGUARD_ISSUER``, ``IDGUARD_AUDIENCE``,
        ``IDGUARD_JWKS_URL``, ``IDGUARD_PUBLIC_KEYS``, ``IDGUARD_AUTHORIZED_PARTIES``,
        ``IDGUARD_ALGORITHMS``, ``IDGUARD_CLOCK_SKEW``, ``IDGUARD_HTTP_TIMEOUT``,
        ``IDGUARD_JWKS_CACHE_TTL``, ``IDGUARD_JWKS_COOLDOWN``, ``IDGUARD_CACHE``,
        ``IDGUARD_ALLOW_INSECURE_HTTP``, ``IDGUARD_ALLOW_QUERY_TOKEN``,
        ``IDGUARD_ALLOW_FORM_TOKEN``, ``IDGUARD_MAX_TOKEN_AGE``, ``IDGUARD_STRICT``,
        ``IDGUARD_REQUIRED_CLAIMS``, ``IDGUARD_VALIDATORS``, ``IDGUARD_REALM``,
        ``IDGUARD_SIGN_IN_URL``; ``CLERK_PUBLISHABLE_KEY``, ``CLERK_SECRET_KEY``,
        ``CLERK_JWT_KEY``, ``CLERK_API_URL``, ``CLERK_API_VERSION``,
        ``CLERK_AUTHORIZED_PARTIES``, ``CLERK_AUDIENCE``, ``CLERK_SIGN_IN_URL``,
        ``CLERK_SIGN_UP_URL``, ``CLERK_DOMAIN``, ``CLERK_IS_SATELLITE``, ``CLERK_PROXY_URL``,
        ``CLERK_SATELLITE_AUTO_SYNC``, ``CLERK_ORGANIZATION_SYNC_OPTIONS``,
        ``CLERK_DEBUG_HEADERS``, ``CLERK_TREAT_PENDING_AS_SIGNED_OUT``;
        for :attr:`users`: ``AUTH0_CLIENT_ID``, ``AUTH0_CLIENT_SECRET``,
        ``AUTH0_MANAGEMENT_TOKEN``, ``AUTH0_MANAGEMENT_API_URL``;
        ``IDGUARD_DPOP``, ``AUTH0_DPOP``, ``AUTH0_DPOP_MODE``,
        ``IDGUARD_DPOP_ALGORITHMS``, ``IDGUARD_DPOP_IAT_OFFSET``, ``IDGUARD_DPOP_IAT_LEEWAY``,
        ``AUTH0_DPOP_IAT_OFFSET``, ``AUTH0_DPOP_IAT_LEEWAY``,
        ``IDGUARD_DPOP_NONCE``, ``IDGUARD_DPOP_NONCE_LIFETIME``,
        ``IDGUARD_DPOP_REJECT_BOUND_BEARER``;
        ``IDGUARD_ISSUERS``, ``IDGUARD_RESOURCE_METADATA``;
        ``AUTH0_ISSUER``, ``AUTH0_JWKS_URI``, ``AUTH0_PUBLIC_KEY``, ``AUTH0_DOMAINS``,
        ``AUTH0_ALGORITHMS``, ``AUTH0_CLOCK_TOLERANCE``, ``AUTH0_MAX_TOKEN_AGE``,
        ``AUTH0_STRICT``, ``AUTH0_CLAIMS_NAMESPACE``, and the aliases ``ISSUER_BASE_URL``
        (for ``AUTH0_DOMAIN``) and ``AUDIENCE`` (for ``AUTH0_AUDIENCE``).
        Changes to the configuration after this call are not seen.

        Raises :class:`~flask_idguard.errors.ConfigurationError` naming the key to fix.
        """
        if "idguard" in app.extensions:
            raise RuntimeError(
                "IdGuard is already registered on this app; import and use that instance "
                "instead of creating a second one."
            )
        reader = ConfigReader(app)
        settings = Settings.from_config(reader)
        configured = [
            ClerkProvider.from_config(reader, settings),
            Auth0Provider.from_config(reader, settings),
            OIDCProvider.from_config(reader, settings),
        ]
        providers = self._extra_providers + tuple(p for p in configured if p is not None)
        if not providers:
            raise ConfigurationError(
                "No identity provider is configured: set CLERK_PUBLISHABLE_KEY and "
                "CLERK_SECRET_KEY, AUTH0_DOMAIN and AUTH0_AUDIENCE, or IDGUARD_ISSUER and "
                "IDGUARD_AUDIENCE (app.config or environment). CLERK_SECRET_KEY alone "
                "configures only the users API client."
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
        sign_in_url = reader.string("IDGUARD_SIGN_IN_URL") or reader.string("CLERK_SIGN_IN_URL")
        if sign_in_url is not None:
            parts = urlsplit(sign_in_url)
            relative = not parts.scheme and not parts.netloc and sign_in_url.startswith("/")
            if not relative and (parts.scheme not in ("http", "https") or not parts.netloc):
                raise ConfigurationError(
                    "IDGUARD_SIGN_IN_URL must be an absolute http(s) URL or a path starting "
                    f"with '/', got {sign_in_url!r}."
                )
        realm = reader.string("IDGUARD_REALM")
        if realm is not None and ('"' in realm or "\\" in realm):
            raise ConfigurationError('IDGUARD_REALM must not contain " or \\.')
        users = users_clients(reader, settings)
        metadata = ResourceMetadata.from_config(reader, _metadata_defaults(providers, settings))
        state = IdGuardState(self, app, providers, settings, realm, sign_in_url, users, metadata)
        app.extensions["idguard"] = state
        if metadata is not None:
            app.add_url_rule(metadata.route, "idguard_resource_metadata", metadata.view)
        app.before_request(state.before_request)
        if settings.allow_query_token or any(p.emits_headers for p in providers):
            app.after_request(_after_request)

    @property
    def users(self) -> UsersClient:
        """The current app's users API client (Clerk or Auth0), one per app.

        Raises :class:`~flask_idguard.errors.ConfigurationError` naming the keys to set
        when none (or both) is configured.
        """
        return _app_state().users_clients.only()


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


def _app_state() -> IdGuardState:
    state = current_app.extensions.get("idguard")
    if state is None:
        raise RuntimeError(
            "IdGuard is not registered on this app. Did you forget to call "
            "IdGuard(app) or idguard.init_app(app)?"
        )
    assert isinstance(state, IdGuardState)
    return state


def compute_auth_state() -> AuthState:
    """The current request's auth state (what ``current_auth`` computes when needed)."""
    return _app_state().auth_state()


def _after_request(response: Response) -> Response:
    state: AuthState | None = g.get(_G_KEY)
    if state is not None and state.headers:
        for name, value in state.headers:
            response.headers.add(name, value)
    if (
        g.get("_idguard_query_token")
        and 200 <= response.status_code < 300
        and "Cache-Control" not in response.headers
    ):
        response.headers["Cache-Control"] = "private"
    return response
