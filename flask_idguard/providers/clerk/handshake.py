"""The handshake: eligibility, the loop guard, the FAPI redirect and resolving what comes back
(clerk.md §1.8, §2, §11.8–§11.10, §11.16, §11.20)."""

from __future__ import annotations

import logging

from ...core.cache import SeenOnce
from ...core.jwt import TokenError
from ...core.keys import KeysUnavailable
from ...core.urls import form_query
from ...core.urls import without_params
from .backend import SUPPORTED_BAPI_VERSION
from .backend import BackendAPIError
from .backend import ClerkBackend
from .cookies import session_token_in
from .instance import handshake_base
from .js import js_number_text
from .outcome import Outcome
from .outcome import sendable_cookies
from .request import ClerkRequest
from .verify import ClerkVerifier
from .verify import full_message
from .verify import parse

__all__ = ["HandshakeFailed", "Handshakes"]

logger = logging.getLogger("flask_idguard")

_TIME_REASONS = ("token-expired", "token-not-active-yet", "token-iat-in-the-future")
_RESOLVED_PARAMS = (
    "__clerk_handshake",
    "__clerk_help",
    "__clerk_db_jwt",
    "__clerk_handshake_nonce",
)
_LOOP_SATELLITE = (
    "Clerk: Satellite-domain authentication resulted in an infinite redirect loop. Check that "
    "this request is using a configured primary or satellite domain for the production "
    "instance. For preview deployments, use a development/staging Clerk instance or a "
    "supported configured preview-domain setup."
)
_LOOP_KEYS = (
    "Clerk: Refreshing the session token resulted in an infinite redirect loop. This usually "
    "means that your Clerk instance keys do not match - make sure to copy the correct "
    "publishable and secret keys from the Clerk dashboard."
)


class HandshakeFailed(Exception):
    """Resolution failed. ``token_invalid`` is True when the handshake JWT itself did not
    verify (development raises then); otherwise the session inside it failed."""

    def __init__(self, message: str, *, token_invalid: bool) -> None:
        super().__init__(message)
        self.token_invalid = token_invalid


class Handshakes:
    """Builds handshake answers and resolves handshake results for one Clerk instance."""

    def __init__(self, *, verifier: ClerkVerifier, backend: ClerkBackend, production: bool) -> None:
        self.verifier = verifier
        self.backend = backend
        self.production = production
        #: Nonces already sent to the Backend API: each is resolved once at most.
        self.nonces_tried = SeenOnce(4096)

    # the redirect ------------------------------------------------------------------------------

    def url(self, rq: ClerkRequest, reason: str, organization_id: str | None) -> str:
        """The FAPI handshake URL with its parameters in Clerk's order (§11.20)."""
        params = [
            ("redirect_url", without_params(rq.url, ("__clerk_db_jwt", "__dev_session"))),
            ("__clerk_api_version", SUPPORTED_BAPI_VERSION),
            ("suffixed_cookies", "true" if rq.suffixed else "false"),
            ("__clerk_hs_reason", reason),
            ("format", "nonce"),
        ]
        if rq.session_token:
            params.append(("__session", rq.session_token))
        if not self.production and rq.dev_browser_token:
            params.append(("__clerk_db_jwt", rq.dev_browser_token))
        if organization_id is not None:
            params.append(("organization_id", organization_id))
        return f"{handshake_base(rq.frontend_api)}?{form_query(params)}"

    def maybe(
        self,
        rq: ClerkRequest,
        reason: str,
        message: str = "",
        *,
        location: str | None = None,
        organization_id: str | None = None,
    ) -> Outcome:
        """``handleMaybeHandshakeStatus``: a handshake when eligible and not looping, else
        signed-out with the same reason and message and no handshake headers (§11.16)."""
        if not rq.eligible_for_handshake:
            return Outcome.signed_out(reason, message)
        count = rq.redirect_count
        if count == 3:
            logger.info(_LOOP_SATELLITE if reason == "satellite-needs-syncing" else _LOOP_KEYS)
            return Outcome.signed_out(reason, message)
        target = location or self.url(rq, reason, organization_id)
        counter = (
            f"__clerk_redirect_count={js_number_text(count + 1)}; SameSite=Lax; HttpOnly; Max-Age=2"
        )
        return Outcome(
            "handshake",
            reason,
            message,
            headers=(("Cache-Control", "no-store"), ("Set-Cookie", counter)),
            location=target,
        )

    # resolution --------------------------------------------------------------------------------

    def nonce(self, rq: ClerkRequest) -> str | None:
        """The request's handshake nonce, if it is to be resolved: only on a request a
        handshake's redirect can be (a GET document navigation), and once per nonce, so that
        no other request costs a Backend API call (a deliberate difference, docs/clerk.rst)."""
        nonce = rq.handshake_nonce
        if nonce is None or not rq.eligible_for_handshake:
            return None
        if not self.nonces_tried.first(nonce):
            logger.info("Clerk: ignoring a handshake nonce already resolved")
            return None
        return nonce

    def resolve(self, rq: ClerkRequest, nonce: str | None) -> Outcome:
        """Apply a handshake result (``nonce``, else the token, §2.2–§2.4, §11.8–§11.10).

        :raises HandshakeFailed: when it cannot be applied; the caller decides whether to
            refuse the request (development, handshake JWT invalid) or to continue with the
            cookies.
        """
        directives = sendable_cookies(self._directives(rq, nonce), "handshake")
        headers = [
            ("Access-Control-Allow-Origin", "null"),
            ("Access-Control-Allow-Credentials", "true"),
        ]
        for directive in directives:
            headers.append(("Set-Cookie", directive.strip(" \t\r\n")))
        session = session_token_in(directives)
        location = None
        if not self.production:
            location = without_params(rq.url, _RESOLVED_PARAMS)
            headers.append(("Cache-Control", "no-store"))
        if not session:
            return Outcome.signed_out("session-token-missing", headers=headers, location=location)
        try:
            parsed = parse(session)
            try:
                claims = self.verifier.verify_session(parsed, now=rq.now)
            except TokenError as exc:
                if self.production or exc.reason not in _TIME_REASONS:
                    raise
                logger.error(
                    "Clerk: the session token from the handshake is outside its validity window "
                    "(%s); your system clock is probably off. Retrying with a 24 h skew.",
                    exc.message,
                )
                claims = self.verifier.verify_session(parsed, now=rq.now, skew=86_400)
        except TokenError as exc:
            raise HandshakeFailed(full_message(exc, "cookie"), token_invalid=False) from None
        except KeysUnavailable as exc:
            raise HandshakeFailed(str(exc), token_invalid=False) from None
        return Outcome.signed_in(session, claims, headers=headers, location=location)

    def _directives(self, rq: ClerkRequest, nonce: str | None) -> list[str]:
        if nonce is not None:
            try:
                return self.backend.handshake_payload(nonce)
            except BackendAPIError as exc:
                logger.error("Clerk: HandshakeService: error getting handshake payload: %s", exc)
                return []
        token = rq.handshake_token
        assert token is not None
        try:
            claims = self.verifier.verify_handshake(parse(token))
        except TokenError as exc:
            if exc.reason == "token-invalid-signature":
                message = (
                    "Clerk: Handshake token verification failed due to an invalid signature. If "
                    "you have switched Clerk keys locally, clear your cookies and try again."
                )
            else:
                message = (
                    f"Clerk: Handshake token verification failed: {full_message(exc, 'undefined')}."
                )
            raise HandshakeFailed(message, token_invalid=True) from None
        except KeysUnavailable as exc:
            raise HandshakeFailed(
                f"Clerk: Handshake token verification failed: {exc}", token_invalid=True
            ) from None
        directives = claims.get("handshake")
        if not isinstance(directives, list):
            return []
        return [d for d in directives if isinstance(d, str)]
