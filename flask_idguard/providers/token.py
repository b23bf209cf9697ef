"""Token providers: bearer access tokens of one issuer (or several), with DPoP (RFC 9449)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..core.cache import VerifiedCache
from ..core.discovery import IssuerMismatch
from ..core.dpop import DPoPError
from ..core.dpop import DPoPPolicy
from ..core.dpop import NonceIssuer
from ..core.frozen import EMPTY_SET
from ..core.frozen import freeze_claims
from ..core.frozen import strings_in
from ..core.jwt import Policy
from ..core.jwt import TokenError
from ..core.jwt import shown
from ..core.jwt import verify
from ..core.keys import KeySource
from ..core.keys import KeysUnavailable
from ..state import AuthState
from ..state import Failure
from ..state import Scheme
from .base import Provider
from .issuers import IssuerContext
from .issuers import IssuerRouter
from .request import RequestContext

__all__ = ["TokenProvider", "string_set"]

logger = logging.getLogger("flask_idguard")


def string_set(value: object, *, split: bool = False) -> frozenset[str]:
    """The strings of a list claim (others ignored); with ``split``, also a spaced string."""
    if isinstance(value, list) or (split and isinstance(value, str)):
        return strings_in(value)
    return EMPTY_SET


def _scope_set(claims: Mapping[str, Any]) -> frozenset[str]:
    """``scope`` (a spaced string or a list), else ``scp``."""
    scope = claims.get("scope")
    if not isinstance(scope, (str, list)):
        scope = claims.get("scp")
    return string_set(scope, split=True)


class TokenProvider(Provider):
    """A provider of bearer access tokens verified against one issuer's keys."""

    token_type = "access_token"

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
        #: Several issuers (an allow-list or a resolver) instead of ``policy.issuer``.
        self.router = router
        self._cache: VerifiedCache[AuthState] = VerifiedCache()
        #: Whether a cached state may answer a Bearer token without a proof at all (not in
        #: the ``required`` DPoP mode, nor with an issuer resolver), and whether a
        #: DPoP-bound one must come with its proof.
        self._bearer_cacheable = self.dpop.mode != "required" and (
            router is None or router.issuers.resolver is None
        )
        self._bound_needs_proof = self.dpop.mode == "allowed" or self.dpop.reject_bound_bearer

    @property
    def static_issuers(self) -> frozenset[str]:
        """The issuers configured for this provider (a resolver's are not known in advance)."""
        if self.router is not None:
            return self.router.issuers.static
        return frozenset({self.policy.issuer}) if self.policy.issuer else frozenset()

    def challenge_offer(self) -> tuple[bool, tuple[str, ...]]:
        dpop = self.dpop
        return dpop.offers_bearer, dpop.algorithms if dpop.offers_dpop else ()

    def owns_issuer(self, issuer: str | None) -> bool:
        if self.router is not None:
            return self.router.issuers.owns(issuer)
        return issuer is not None and issuer == self.policy.issuer

    def cached_state(self, token: str, now: float) -> AuthState | None:
        """The state of a token this provider verified recently, sent as Bearer without proof:
        signed in, with no response header (the request hook relies on it).

        None when the token is unknown or expired, when Bearer would not do in this DPoP
        mode (``required``, or a DPoP-bound token that must come with its proof), or with an
        issuer resolver, whose answer may differ from one request to the next.
        """
        state = self._cache.get(token, now) if self._bearer_cacheable else None
        if state is None or ("cnf" in state.claims and self._bound_needs_proof):
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
        """Build the signed-in state from verified claims (read-only, deeply: the state is
        shared by every request with this token)."""
        claims = freeze_claims(claims)
        org_id = claims.get("org_id")
        return AuthState._build(
            "signed-in",
            provider=self.name,
            claims=claims,
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
