"""The per-app state (``app.extensions["idguard"]``), its one accessor, and the request path.

:meth:`IdGuardState.before_request` (the general path of the hook :mod:`.hooks` makes) asks
the providers, in order, for the request's :class:`AuthState`; :meth:`IdGuardState.settle`
keeps it on ``g``, and answers a handshake at once with a ``307``. ``after_request``,
arranged for a request whose state needs it, appends the state's response headers
(``Set-Cookie``, ``x-clerk-auth-*``, ``DPoP-Nonce``...).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING
from typing import Any
from typing import cast

from flask import Flask
from flask import Response
from flask import after_this_request
from flask import current_app
from flask import g
from flask import has_request_context
from flask import request
from flask.wrappers import Request
from werkzeug.local import LocalProxy

from .core.jwt import TokenError
from .core.jwt import shown
from .core.urls import INVALID_HOST
from .core.urls import environ_host_ok
from .errors import Challenge
from .errors import IdGuardError
from .errors import InvalidRequest
from .errors import header_value_ok
from .providers.base import Provider
from .providers.request import RequestContext
from .providers.settings import Settings
from .providers.token import TokenProvider
from .recall import NO_TOKEN
from .recall import Recall
from .recall import bearer_recall
from .recall import cookie_recall
from .resource_metadata import ResourceMetadata
from .signals import authentication_failed
from .signals import request_authenticated
from .state import AuthState
from .users import UsersClients

if TYPE_CHECKING:
    from flask.ctx import _AppCtxGlobals

__all__ = [
    "G_KEY",
    "RETYPES_ATTR",
    "IdGuardState",
    "after_request",
    "app_state",
    "current_g",
    "current_request",
    "keep",
    "send_signals",
]

logger = logging.getLogger("flask_idguard")

#: Where the request's :class:`AuthState` is kept on ``g``.
G_KEY = "_idguard_auth"
#: Set on ``g`` when the token came in the query string (RFC 6750 §2.3).
_G_QUERY_TOKEN = "_idguard_query_token"
#: Set on ``g`` once :func:`after_request` is due to run for the request.
_G_ANSWER = "_idguard_answer"

#: Longer Host values are checked each time, never remembered (a name is at most 253).
_MAX_REMEMBERED_HOST = 300

_BAD_HOST = AuthState.signed_out("host-invalid", INVALID_HOST, failure="invalid_request")


@dataclass(frozen=True)
class IdGuardState:
    """Per-app state, stored as ``app.extensions["idguard"]``; read it with :func:`app_state`."""

    app: Flask
    providers: tuple[Provider, ...]
    settings: Settings
    realm: str | None
    sign_in_url: str | None
    users_clients: UsersClients
    #: RFC 9728 metadata (``IDGUARD_RESOURCE_METADATA``), None when off.
    resource_metadata: ResourceMetadata | None = None

    @cached_property
    def good_hosts(self) -> set[str]:
        """Host headers already found valid (a few): most requests skip the grammar check."""
        return set()

    @cached_property
    def routing(self) -> bool:
        """Bearer tokens are routed by ``iss`` when more than one provider is configured."""
        return len(self.providers) > 1

    @cached_property
    def token_providers(self) -> tuple[TokenProvider, ...]:
        return tuple(p for p in self.providers if isinstance(p, TokenProvider))

    @cached_property
    def cookie_provider(self) -> Provider | None:
        """The provider that decides a request without an ``Authorization`` header (Clerk),
        asked first for a decision it remembers; None when a token provider could answer such
        a request (query or form tokens allowed)."""
        s = self.settings
        if s.allow_query_token or s.allow_form_token:
            return None
        return next((p for p in self.providers if not isinstance(p, TokenProvider)), None)

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
    def recall(self) -> Recall | None:
        """How a decision already made for a request is found (:mod:`.recall`), once its
        ``Host`` header is found valid; None when no provider here remembers any."""
        if self.header_only:
            return bearer_recall(self.token_providers)
        if self.cookie_provider is not None:
            return cookie_recall(self.cookie_provider)
        return None

    @cached_property
    def _offers(self) -> dict[str | None, tuple[bool, tuple[str, ...]]]:
        """Per provider name (None: the app's union): Bearer offered? DPoP algorithms."""
        offers: dict[str | None, tuple[bool, tuple[str, ...]]] = {}
        bearer, algs = False, []
        for p in self.providers:
            offer = p.challenge_offer()
            offers[p.name] = offer
            bearer = bearer or offer[0]
            algs += [a for a in offer[1] if a not in algs]
        offers[None] = (bearer, tuple(algs))
        return offers

    def challenge(self) -> Challenge:
        """What this app's ``WWW-Authenticate`` offers for the current request."""
        auth: AuthState | None = g.get(G_KEY) if has_request_context() else None
        provider = auth.provider if auth is not None else None
        bearer, algs = self._offers.get(provider) or self._offers[None]
        metadata = self.resource_metadata
        return Challenge(
            realm=self.realm,
            bearer=bearer,
            dpop_algs=algs,
            used=auth.scheme if auth is not None else None,
            resource_metadata=metadata.url() if metadata is not None else None,
        )

    def resource_metadata_view(self) -> Response:
        """The RFC 9728 document (the route ``init_app`` adds when it is served)."""
        assert self.resource_metadata is not None
        try:
            return self.resource_metadata.view()
        except IdGuardError as exc:
            exc.challenge = self.challenge()
            raise

    def auth_state(self) -> AuthState:
        """The current request's auth state, announced through the signals."""
        return self.announce(self._ask_providers())

    def announce(self, state: AuthState) -> AuthState:
        """:func:`send_signals` for ``state``, except a failure that a route accepting other
        token types decides again: its decorator announces that decision."""
        if (
            state.retype is not None
            and state.failure not in (None, "missing")
            and authentication_failed.receivers
            and _route_retypes()
        ):
            return state
        send_signals(self.app, state)
        return state

    def before_request(self) -> Response | None:
        """The general ``before_request`` path: decide the request, then :meth:`settle` it.
        (The hook registered is :func:`.hooks.before_request_hook`'s, which comes here when
        no decision it remembers applies.)"""
        return self.settle(self._ask_providers())

    def settle(self, state: AuthState) -> Response | None:
        """Announce ``state`` (the signals) and keep it on ``g``; answer a redirect (Clerk's
        handshake) at once with a ``307``; raise a refusal."""
        if state.status != "signed-in" or request_authenticated.receivers:
            self.announce(state)
        keep(current_g().__dict__, state)
        if state.redirect is not None:
            return Response(status=307, headers={"Location": state.redirect})
        if state.refuse:
            raise InvalidRequest(state.message, reason=state.reason, challenge=self.challenge())
        return None

    def _new_host_ok(self, environ: dict[str, Any]) -> bool:
        """Whether a ``Host`` header not seen before is valid (valid ones are remembered)."""
        if not environ_host_ok(environ):
            return False
        if len(self.good_hosts) < 64 and len(environ["HTTP_HOST"]) <= _MAX_REMEMBERED_HOST:
            self.good_hosts.add(environ["HTTP_HOST"])
        return True

    def _ask_providers(self) -> AuthState:
        """Ask the providers, in order, for the current request's auth state."""
        req = current_request()
        environ = req.environ
        host = environ.get("HTTP_HOST")
        if host is not None and host not in self.good_hosts and not self._new_host_ok(environ):
            return _BAD_HOST  # nothing is authenticated on a request with a forged Host
        recall = self.recall
        if recall is not None:
            hit = recall(environ)
            if hit is not None:
                return hit
        return self.decide(req)

    def decide(self, req: Request) -> AuthState:
        """The providers' answer for ``req``, whose ``Host`` header was found valid, when no
        remembered decision applies."""
        settings = self.settings
        ctx = RequestContext(
            req,
            routing=self.routing,
            allow_query=settings.allow_query_token,
            allow_form=settings.allow_form_token,
        )
        if settings.allow_query_token and ctx.credentials.scheme == "query":
            current_g().__dict__[_G_QUERY_TOKEN] = True  # RFC 6750 §2.3: Cache-Control
        for provider in self._in_order(ctx):
            state = provider.authenticate(ctx)
            if state is not None:
                return state
        return _unanswered(ctx)

    def _in_order(self, ctx: RequestContext) -> tuple[Provider, ...]:
        """The providers to ask: with several, the one owning the token's issuer first, so a
        token of any scheme (``DPoP``, ``bearer``, query, form) reaches its provider even
        when another (Clerk's cookie path) would answer every request."""
        providers = self.providers
        if not self.routing or ctx.token is None:
            return providers
        issuer = ctx.issuer
        owner = next((p for p in providers if p.owns_issuer(issuer)), None)
        if owner is None or owner is providers[0]:
            return providers
        return (owner, *(p for p in providers if p is not owner))


#: Set on a view by ``@requires_auth(accepts_token=...)``: the route decides the request again
#: (machine tokens), and its decorator sends the signals of that decision.
RETYPES_ATTR = "_idguard_retypes"


def send_signals(app: Flask, state: AuthState) -> None:
    """Send the signal ``state`` calls for, if it has receivers: ``request_authenticated``
    when signed in, ``authentication_failed`` for a failure other than no credentials."""
    if state.status == "signed-in":
        if request_authenticated.receivers:
            request_authenticated.send(app, state=state)
    elif state.failure not in (None, "missing") and authentication_failed.receivers:
        authentication_failed.send(app, state=state)


def _route_retypes() -> bool:
    """Whether the current request's view accepts other token types than sessions."""
    endpoint = request.endpoint
    view = current_app.view_functions.get(endpoint) if endpoint is not None else None
    return bool(getattr(view, RETYPES_ATTR, False))


def _unanswered(ctx: RequestContext) -> AuthState:
    """The state of a request no provider answered: why its credentials were not used."""
    creds = ctx.credentials
    if creds.failure is not None:
        assert creds.reason is not None and creds.message is not None
        return AuthState.signed_out(creds.reason, creds.message, failure=creds.failure)
    if creds.token is None:
        return NO_TOKEN
    parsed = ctx.parsed
    if isinstance(parsed, TokenError):
        return AuthState.signed_out(parsed.reason, parsed.message, failure="invalid_token")
    return AuthState.signed_out(
        "token-invalid-issuer",
        f"No configured provider accepts tokens issued by {shown(ctx.issuer)}.",
        failure="invalid_token",
    )


#: The request object behind Flask's ``request`` proxy: the proxy's own look-up function,
#: taken once, so the hooks (which run on every request) pay one call per look-up and no
#: attribute access through the proxy.
current_request: Callable[[], Request] = cast("LocalProxy[Request]", request)._get_current_object
#: The ``g`` object of the current app context, the same way.
current_g: Callable[[], _AppCtxGlobals] = cast("LocalProxy[_AppCtxGlobals]", g)._get_current_object


def app_state() -> IdGuardState:
    """The current app's :class:`IdGuardState`: the one accessor of ``app.extensions``."""
    state = current_app.extensions.get("idguard")
    if state is None:
        raise RuntimeError(
            "IdGuard is not registered on this app. Did you forget to call "
            "IdGuard(app) or idguard.init_app(app)?"
        )
    assert isinstance(state, IdGuardState)
    return state


def keep(stored: dict[str, Any], state: AuthState) -> None:
    """Keep ``state`` as the request's (``stored`` is ``g.__dict__``: g's own ``__setattr__``
    is a Python call); when the answer needs headers of it (``Set-Cookie``, ``DPoP-Nonce``...)
    or ``Cache-Control`` for a query token, have :func:`after_request` run for this request.

    Per request and only when needed, not as an app-wide ``after_request`` hook: most
    requests need nothing, and Flask inspects every hook it calls, every time.
    """
    stored[G_KEY] = state
    if (state.headers or _G_QUERY_TOKEN in stored) and _G_ANSWER not in stored:
        stored[_G_ANSWER] = True
        after_this_request(after_request)


def after_request(response: Response) -> Response:
    """Run after the view (:func:`keep` arranges it): the state's headers; ``Cache-Control:
    private`` for a 2xx answer to a request whose token came in the query string.

    The state is read when the answer is made: a route that accepts machine tokens may have
    decided the request again."""
    stored = current_g().__dict__
    state: AuthState | None = stored.get(G_KEY)
    if state is not None and state.headers:
        for name, value in state.headers:
            if header_value_ok(value):
                response.headers.add(name, value)
            else:
                logger.warning("IdGuard: dropping a %s header that is not a header value", name)
    if (
        stored.get(_G_QUERY_TOKEN)
        and 200 <= response.status_code < 300
        and "Cache-Control" not in response.headers
    ):
        response.headers["Cache-Control"] = "private"
    return response
