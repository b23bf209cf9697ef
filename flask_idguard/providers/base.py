"""What every provider shares: the request context, the provider interface, token providers.

A provider turns a request into an :class:`~flask_idguard.auth.AuthState`, or answers
None when the request is not its business (no token it owns). Token providers
(OIDC, Auth0) verify a bearer token; a cookie provider (Clerk) also reads cookies and
may answer with response headers or a handshake redirect, through the same interface.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from functools import cached_property
from types import MappingProxyType
from typing import Any
from typing import Generic
from typing import TypeVar

from flask import Request

from ..auth import AuthState
from ..auth import Failure
from ..auth import Scheme
from ..dpop import DPoPError
from ..dpop import DPoPPolicy
from ..dpop_replay import NonceIssuer
from ..jwks import IssuerMismatch
from ..jwt import Policy
from ..jwt import TokenError
from ..jwt import Unverified
from ..jwt import decode_unverified
from ..jwt import shown
from ..jwt import verify
from ..keys import KeySource
from ..keys import KeysUnavailable
from .issuers import IssuerContext
from .issuers import IssuerRouter

__all__ = ["Credentials", "Provider", "RequestContext", "TokenProvider", "extract_bearer"]

logger = logging.getLogger("flask_idguard")

V = TypeVar("V")


@dataclass(frozen=True)
class Credentials:
    """The bearer token of a request, or why there is none usable.

    ``failure`` is None when a token was found or when there simply is none.
    """

    token: str | None = None
    scheme: str | None = None
    failure: Failure | None = None
    reason: str | None = None
    message: str | None = None


_NONE = Credentials()


def _header_credentials(request: Request) -> Credentials:
    header = request.headers.get("Authorization")
    if header is None:
        return _NONE
    parts = header.split(" ")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return Credentials(
            failure="invalid_request",
            reason="authorization-header-malformed",
            message="Malformed Authorization header: expected 'Bearer <token>'.",
        )
    scheme, token = parts
    lowered = scheme.lower()
    if lowered not in ("bearer", "dpop"):
        return Credentials(
            failure="missing",
            reason="authorization-scheme-unsupported",
            message=f"The Authorization scheme {scheme[:20]!r} is not supported; use Bearer.",
        )
    return Credentials(token=token, scheme=lowered)


def extract_bearer(
    request: Request, *, allow_query: bool = False, allow_form: bool = False
) -> Credentials:
    """The request's bearer token (RFC 6750 §2), from the header and, when enabled, elsewhere.

    ``Authorization: Bearer <token>`` or ``DPoP <token>`` (scheme case-insensitive, RFC 7235;
    ``scheme`` is ``"bearer"`` or ``"dpop"``, the provider applies its DPoP mode). A header that is
    not exactly ``<scheme> SP <token>`` is a malformed request (400); another scheme counts
    as no credentials (401 with a bare challenge, RFC 6750 §3.1). With ``allow_query`` the
    ``access_token`` query parameter counts, with ``allow_form`` the ``access_token`` field
    of an ``application/x-www-form-urlencoded`` body (never on GET). More than one method
    in one request is a malformed request (400), as RFC 6750 §2 requires.
    """
    found = _header_credentials(request)
    if found.failure == "invalid_request":
        return found
    tokens = [found] if found.token is not None else []
    if allow_query and "access_token" in request.args:
        tokens.append(Credentials(token=request.args["access_token"], scheme="query"))
    if (
        allow_form
        and request.method not in ("GET", "HEAD")
        and request.mimetype == "application/x-www-form-urlencoded"
        and "access_token" in request.form
    ):
        tokens.append(Credentials(token=request.form["access_token"], scheme="form"))
    if len(tokens) > 1:
        return Credentials(
            failure="invalid_request",
            reason="multiple-token-methods",
            message="More than one method used for authentication",
        )
    return tokens[0] if tokens else found


class RequestContext:
    """One request as providers see it; the token is parsed at most once."""

    def __init__(
        self,
        request: Request,
        *,
        routing: bool,
        allow_query: bool = False,
        allow_form: bool = False,
    ) -> None:
        self.request = request
        #: True when several providers accept bearer tokens and route by ``iss``.
        self.routing = routing
        self.credentials = extract_bearer(request, allow_query=allow_query, allow_form=allow_form)

    @property
    def token(self) -> str | None:
        return self.credentials.token

    @cached_property
    def parsed(self) -> Unverified | TokenError:
        """The strictly parsed, unverified token, or the parse error."""
        assert self.token is not None
        try:
            return decode_unverified(self.token)
        except TokenError as exc:
            return exc

    @property
    def issuer(self) -> str | None:
        """The token's unverified ``iss``: for routing only, never for a decision."""
        parsed = self.parsed
        if isinstance(parsed, TokenError):
            return None
        iss = parsed.claims.get("iss")
        return iss if isinstance(iss, str) else None


class Provider(ABC):
    """Turns a request into an auth state, or None when the request is not its business."""

    #: The provider's name, exposed as ``current_auth.provider``.
    name: str
    #: Whether its states may carry response headers (an ``after_request`` hook is
    #: registered only when some provider says so).
    emits_headers: bool = True

    @abstractmethod
    def authenticate(self, ctx: RequestContext) -> AuthState | None:
        """The request's auth state, or None when this provider has nothing to say."""

    def owns_issuer(self, issuer: str | None) -> bool:
        """Whether a bearer token with this unverified ``iss`` is routed here."""
        return False


class _VerifiedCache(Generic[V]):
    """Bounded map of recently verified tokens to what verifying them gave (immutable:
    an auth state, Clerk's claims).

    Entries live until the token's ``exp`` (plus leeway) or ``max_age`` seconds,
    whichever comes first, so a key withdrawn upstream stops working within
    ``max_age`` even for tokens seen before.
    """

    def __init__(self, size: int = 4096, max_age: float = 60.0) -> None:
        self._size = size
        self.max_age = max_age
        self._entries: dict[str, tuple[float, float, V]] = {}
        self._lock = threading.Lock()

    def get(self, token: str, now: float) -> V | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        not_before, until, state = entry
        if now < until and now >= not_before:
            return state
        return None

    def put(self, token: str, not_before: float, until: float, state: V) -> None:
        with self._lock:
            if len(self._entries) >= self._size:
                for old in list(self._entries)[: self._size // 8 or 1]:
                    del self._entries[old]
            self._entries[token] = (not_before, until, state)

    def __len__(self) -> int:
        return len(self._entries)


def string_set(value: object, *, split: bool = False) -> frozenset[str]:
    """The strings of a list claim (others ignored); with ``split``, also a spaced string."""
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, str))
    if split and isinstance(value, str):
        return frozenset(value.split())
    return frozenset()


def _scope_set(claims: Mapping[str, Any]) -> frozenset[str]:
    """``scope`` (a spaced string or a list), else ``scp``."""
    scope = claims.get("scope")
    if not isinstance(scope, (str, list)):
        scope = claims.get("scp")
    return string_set(scope, split=True)


class TokenProvider(Provider):
    """A provider of bearer access tokens verified against one issuer's keys."""

    token_type = "access_token"
    emits_headers = False

    def __init__(
        self,
        name: str,
        policy: Policy,
        keys: KeySource,
        *,
        dpop: DPoPPolicy | None = None,
        nonces: NonceIssuer | None = None,
        router: IssuerRouter | None = None,
    ) -> None:
        self.name = name
        #: The policy (with one issuer's keys); with a ``router``, the template of each issuer's.
        self.policy = policy
        self.keys = keys
        #: The DPoP mode and proof rules (RFC 9449) for this provider's tokens.
        self.dpop = dpop if dpop is not None else DPoPPolicy()
        #: Server nonces: handed out in ``DPoP-Nonce`` response headers.
        self.nonces = nonces if self.dpop.offers_dpop else None
        self.emits_headers = self.nonces is not None
        #: Several issuers (an allow-list or a resolver) instead of ``policy.issuer``.
        self.router = router
        self._cache: _VerifiedCache[AuthState] = _VerifiedCache()

    @property
    def static_issuers(self) -> frozenset[str]:
        """The issuers configured for this provider (a resolver's are not known in advance)."""
        if self.router is not None:
            return self.router.issuers.static
        return frozenset({self.policy.issuer}) if self.policy.issuer else frozenset()

    def owns_issuer(self, issuer: str | None) -> bool:
        if self.router is not None:
            return self.router.issuers.owns(issuer)
        return issuer is not None and issuer == self.policy.issuer

    def cached_state(self, token: str, now: float) -> AuthState | None:
        """The state of a token this provider verified recently, sent as Bearer without proof.

        None when the token is unknown or expired, when Bearer would not do in this DPoP
        mode (``required``, or a DPoP-bound token that must come with its proof), or with an
        issuer resolver, whose answer may differ from one request to the next.
        """
        if self.router is not None and self.router.issuers.resolver is not None:
            return None
        state = self._cache.get(token, now)
        if state is None:
            return None
        dpop = self.dpop
        if dpop.mode == "required" or (
            "cnf" in state.claims and (dpop.mode == "allowed" or dpop.reject_bound_bearer)
        ):
            return None
        return state

    def authenticate(self, ctx: RequestContext) -> AuthState | None:
        token = ctx.token
        if token is None or (ctx.routing and not self.owns_issuer(ctx.issuer)):
            return None
        policy, keys = self.policy, self.keys
        if self.router is not None:
            request = ctx.request
            target = self.router.select(
                ctx.parsed, IssuerContext(request.url, request.headers, ctx.issuer)
            )
            if isinstance(target, AuthState):
                return target
            policy, keys = target
        scheme: Scheme = "dpop" if ctx.credentials.scheme == "dpop" else "bearer"
        dpop = self.dpop
        now = time.time()
        try:
            dpop.check_scheme(scheme)
            state = self._cache.get(token, now) or self._verify(
                ctx, token, scheme, now, policy, keys
            )
            if not state.is_signed_in or (dpop.mode == "disabled" and not dpop.reject_bound_bearer):
                return state
            request = ctx.request
            if (
                scheme == "bearer"
                and "HTTP_DPOP" not in request.environ
                and "cnf" not in state.claims
            ):
                return state
            proofs = request.headers.getlist("DPoP")
            # The proof is per request: checked every time, even for a cached token.
            jkt = dpop.check_request(
                scheme=scheme,
                token=token,
                claims=state.claims,
                proofs=proofs,
                method=request.method,
                url=request.base_url,
                now=now,
            )
        except DPoPError as exc:
            logger.info("%s: DPoP request refused: %s (%s)", self.name, exc.reason, exc.message)
            return self._dpop_failure(exc, scheme, now)
        if jkt is None:
            return state
        headers = (("DPoP-Nonce", self.nonces.current(now)),) if self.nonces else ()
        return replace(state, scheme="dpop", headers=state.headers + headers)

    def _dpop_failure(self, exc: DPoPError, scheme: Scheme, now: float) -> AuthState:
        failure: Failure = "invalid_scheme" if exc.bare else exc.error
        headers: tuple[tuple[str, str], ...] = ()
        if exc.error == "use_dpop_nonce" and self.nonces is not None:
            headers = (("DPoP-Nonce", self.nonces.current(now)),)
        return AuthState.signed_out(
            exc.reason,
            exc.message,
            failure=failure,
            provider=self.name,
            headers=headers,
            scheme=scheme if exc.bare else exc.scheme,
        )

    def _verify(
        self,
        ctx: RequestContext,
        token: str,
        scheme: Scheme,
        now: float,
        policy: Policy,
        keys: KeySource,
    ) -> AuthState:
        """Verify the token (signature, claims) with one issuer's policy and keys and
        remember the signed-in state."""
        parsed = ctx.parsed
        try:
            if isinstance(parsed, TokenError):
                raise parsed
            verified = verify(token, keys, policy, now=now, parsed=parsed)
        except TokenError as exc:
            logger.info("%s: token rejected: %s (%s)", self.name, exc.reason, exc.message)
            return AuthState.signed_out(
                exc.reason, exc.message, failure="invalid_token", provider=self.name, scheme=scheme
            )
        except IssuerMismatch as exc:
            logger.warning("%s: %s", self.name, exc)
            return AuthState.signed_out(
                "token-invalid-issuer",
                f"The discovery document of {shown(ctx.issuer)} names another issuer.",
                failure="invalid_token",
                provider=self.name,
                scheme=scheme,
            )
        except KeysUnavailable as exc:
            logger.warning("%s: signing keys unavailable: %s", self.name, exc)
            return AuthState.signed_out(
                "jwk-remote-failed-to-load",
                "The identity provider's signing keys cannot be loaded; try again shortly.",
                failure="unavailable",
                provider=self.name,
                scheme=scheme,
            )
        state = self.signed_in_state(token, verified.claims)
        start, until = policy.window(verified.claims)
        self._cache.put(token, start, min(until, now + self._cache.max_age), state)
        return state

    def signed_in_state(self, token: str, claims: Mapping[str, Any]) -> AuthState:
        """Build the signed-in state from verified claims."""
        org_id = claims.get("org_id")
        return AuthState(
            "signed-in",
            provider=self.name,
            claims=MappingProxyType(dict(claims)),
            token=token,
            token_type=self.token_type,
            scopes=self.scopes(claims),
            permissions=string_set(claims.get("permissions")),
            roles=string_set(claims.get("roles")),
            org_id=org_id if isinstance(org_id, str) else None,
            scheme="bearer",
        )

    def scopes(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The token's scopes (``scope`` string or list, else ``scp``)."""
        return _scope_set(claims)
