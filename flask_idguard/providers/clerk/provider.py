"""The Clerk provider: ``CLERK_*`` configuration in, one :class:`AuthState` per request out."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

from joserfc.jwk import RSAKey

from ...config import ConfigReader
from ...core.frozen import shared_set
from ...core.jwt import TokenError
from ...core.keys import KeySource
from ...core.keys import StaticKeySet
from ...errors import ConfigurationError
from ...state import AuthState
from ...state import Retyper
from ..base import Provider
from ..request import RequestContext
from ..settings import Settings
from .authenticate import ClerkAuthenticator
from .backend import ClerkBackend
from .claims import ClaimError
from .claims import SessionFields
from .claims import check_authorization
from .claims import session_fields
from .config import ClerkConfig
from .hints import HINTED
from .hints import hint
from .instance import cookie_suffix
from .machine import MachineConfig
from .machine import MachineTokens
from .machine_api import MachineAPI
from .machine_verify import OPAQUE_PREFIXES
from .machine_verify import MachineVerifier
from .outcome import Outcome
from .remembered import RememberedDecisions
from .request import ClerkRequest
from .verify import ClerkVerifier
from .verify import parse

__all__ = ["ClerkProvider"]

logger = logging.getLogger("flask_idguard")

_SCHEME = re.compile(r"^(?:https?://)+", re.IGNORECASE)


class ClerkProvider(Provider):
    """Clerk session tokens from the ``Authorization`` header or Clerk's cookies, with the
    handshake flow of ``@clerk/backend``."""

    name = "clerk"

    def __init__(
        self, config: ClerkConfig, settings: Settings, machine: MachineConfig | None = None
    ) -> None:
        self.config = config
        self.suffix = cookie_suffix(config.publishable_key.key)
        self.backend = ClerkBackend(
            api_url=config.api_url,
            api_version=config.api_version,
            secret_key=config.secret_key,
            timeout=settings.http_timeout,
        )
        self.keys = self._key_source(config, settings)
        self.verifier = ClerkVerifier(
            self.keys,
            authorized_parties=config.authorized_parties,
            audience=config.audience,
            skew=settings.clock_skew,
        )
        self.authenticator = ClerkAuthenticator(config, self.verifier, self.backend)
        self.decisions = RememberedDecisions()
        machine = machine or MachineConfig()
        api = MachineAPI(
            self.backend,
            secret_key=config.secret_key,
            api_url=config.api_url,
            machine_secret_key=machine.machine_secret_key,
        )
        self.machine_tokens = MachineTokens(
            MachineVerifier(self.verifier, api, ttl=machine.cache_ttl),
            debug_headers=config.debug_headers,
        )

    def __repr__(self) -> str:
        return f"ClerkProvider({self.config.publishable_key.frontend_api!r})"

    @classmethod
    def from_config(cls, reader: ConfigReader, settings: Settings) -> ClerkProvider | None:
        """The provider when ``CLERK_PUBLISHABLE_KEY``/``CLERK_SECRET_KEY`` are set, else None."""
        config = ClerkConfig.from_config(reader)
        return None if config is None else cls(config, settings, MachineConfig.from_config(reader))

    def _key_source(self, config: ClerkConfig, settings: Settings) -> KeySource:
        if config.jwt_key is not None:
            try:
                # Clerk turns the PEM into an RS256 JWK: tokens with another alg fail.
                pem = config.jwt_key.replace("\\n", "\n")
                if "PRIVATE KEY" in pem:
                    raise ValueError("a private key PEM was given; give the public key")
                return StaticKeySet([RSAKey.import_key(pem, {"alg": "RS256"})])
            except Exception as exc:
                raise ConfigurationError(
                    f"CLERK_JWT_KEY is not a usable PEM public key ({exc}); copy the "
                    "'PEM Public Key' from the API keys page of the Clerk dashboard."
                ) from None
        # One cache entry per instance (api URL, version and secret), never shared between
        # instances: Clerk does not check `iss` (clerk.md §8, #9394).
        url = self.backend.jwks_url
        scope = hashlib.sha256(f"{url}|{config.secret_key}".encode()).hexdigest()
        return settings.key_sets.remote(
            url, http=self.backend.jwks_http, cache_key="idguard:clerk-jwks:" + scope
        )

    def owns_issuer(self, issuer: str | None) -> bool:
        if issuer is None:
            return False
        host = _SCHEME.sub("", issuer).rstrip("/")
        fapi = self.config.publishable_key.frontend_api
        return host == fapi or host == _SCHEME.sub("", self.config.proxy_url or "").rstrip("/")

    def authenticate(self, ctx: RequestContext) -> AuthState | None:
        rq = ClerkRequest(
            ctx.request, self.config, self.suffix, time.time(), authorization=ctx.authorization
        )
        token = rq.header_token
        if ctx.routing and token is not None and not token.startswith(OPAQUE_PREFIXES):
            try:
                iss = parse(token).claims.get("iss")
            except TokenError:
                iss = None
            if not self.owns_issuer(iss if isinstance(iss, str) else None):
                return None
        outcome = self.authenticator.authenticate(rq)
        message = None
        if not outcome.message and outcome.reason in HINTED:
            message = hint(rq, outcome.reason)  # where Clerk says nothing (docs/clerk.rst)
            logger.debug("Clerk: %s: %s", outcome.reason, message)
        state = self.state(outcome, self.machine_tokens.retyper(token), message=message)
        if state.status == "signed-in" and not outcome.headers and outcome.location is None:
            self._remember(ctx, rq, outcome.token, outcome.claims, state)
        return state

    def remembered(self, environ: Mapping[str, Any], now: float) -> AuthState | None:
        """The signed-in decision made for a request with the same inputs (:mod:`.remembered`)."""
        return self.decisions.get(environ, now)

    def _remember(
        self,
        ctx: RequestContext,
        rq: ClerkRequest,
        token: str | None,
        claims: Mapping[str, Any] | None,
        state: AuthState,
    ) -> None:
        """Remember a signed-in cookie decision that depends on :data:`.remembered.INPUTS`
        only: no header token, no handshake token or nonce, no redirect count (whose
        handling logs), no ``__clerk_*`` query parameter."""
        if token is None or claims is None or ctx.authorization is not None:
            return
        if rq.handshake_token is not None or rq.handshake_nonce is not None:
            return
        if rq.redirect_count != 0 or any(name.startswith("__clerk") for name in rq.query):
            return
        window = self.verifier.verified_window(parse(token))
        exp = claims.get("exp")
        if window is None or isinstance(exp, bool) or not isinstance(exp, int | float):
            return
        self.decisions.put(ctx.request.environ, window[0], min(window[1], float(exp)), state)

    def state(
        self, outcome: Outcome, retype: Retyper | None = None, *, message: str | None = None
    ) -> AuthState:
        """The :class:`AuthState` of a decided request; ``retype`` decides it again for a
        route that accepts machine tokens (:mod:`.machine`); ``message`` replaces the
        outcome's in the state, not in the ``x-clerk-auth-message`` header."""
        headers = outcome.headers
        if self.config.debug_headers:
            headers += outcome.debug_headers()
        if outcome.status != "signed-in":
            return AuthState(
                outcome.status,
                provider=self.name,
                reason=outcome.reason,
                message=outcome.message if message is None else message,
                failure=outcome.failure or "missing",
                token_type="session_token",
                headers=headers,
                redirect=outcome.location,
                refuse=outcome.refuse,
                retype=retype,
            )
        assert outcome.token is not None and outcome.claims is not None
        try:
            fields = outcome.fields or session_fields(outcome.claims)
        except ClaimError as exc:
            # Clerk's request state is signed-in and its toAuth() raises (§11.24).
            return AuthState.signed_out(
                "unexpected-error", str(exc), failure="invalid_token", provider=self.name,
                headers=headers,
            )  # fmt: skip
        if fields.session_status == "pending" and self.config.treat_pending_as_signed_out:
            return AuthState(
                "signed-out",
                provider=self.name,
                reason="session-pending",
                message="The session is pending; the user has a step to complete.",
                failure="missing",
                token_type="session_token",
                session_status="pending",
                headers=headers,
                redirect=outcome.location,
                retype=retype,
            )
        return self._signed_in(outcome, fields, headers, retype)

    def _signed_in(
        self,
        outcome: Outcome,
        fields: SessionFields,
        headers: tuple[tuple[str, str], ...],
        retype: Retyper | None,
    ) -> AuthState:
        assert outcome.token is not None and outcome.claims is not None
        claims = outcome.claims
        return AuthState._build(
            "signed-in",
            provider=self.name,
            claims=claims,  # the verifier's read-only view, built once per token
            token=outcome.token,
            token_type="session_token",
            org_id=fields.org_id,
            org_role=fields.org_role,
            org_slug=fields.org_slug,
            org_permissions=shared_set(fields.org_permissions or ()),
            session_status=fields.session_status,
            actor=fields.actor,
            factor_verification_age=fields.factor_verification_age,
            headers=headers,
            redirect=outcome.location,
            authorizer=partial(check_authorization, claims, fields),
            token_minter=partial(self._mint, fields.session_id),
            retype=retype,
        )

    def _mint(
        self, session_id: str | None, template: str | None, expires_in_seconds: int | None
    ) -> str:
        """Clerk's ``getToken`` with options, for one session (a state's ``token_minter``)."""
        if session_id is None:
            raise RuntimeError("This session token has no sid; Clerk cannot mint tokens.")
        return self.backend.session_token(
            session_id, template=template, expires_in_seconds=expires_in_seconds
        )
