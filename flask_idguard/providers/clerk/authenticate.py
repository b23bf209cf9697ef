"""Clerk's ``authenticateRequest`` (``@clerk/backend``), step by step (clerk.md §1.4–§1.10, §11).

Each step's comment names the spec step it implements; the order is the reference's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ...core.jwt import TokenError
from ...core.jwt import Unverified
from ...core.keys import KeysUnavailable
from ...core.urls import host_is_valid
from ...core.urls import origin_of
from ...core.urls import with_params
from .backend import BackendAPIError
from .backend import ClerkBackend
from .claims import ClaimError
from .claims import session_fields
from .config import ClerkConfig
from .cookies import session_token_in
from .handshake import HandshakeFailed
from .handshake import Handshakes
from .instance import is_known_clerk_referrer
from .js import js_number
from .organizations import mismatched
from .organizations import organization_target
from .outcome import Outcome
from .outcome import sendable_cookies
from .request import ClerkRequest
from .verify import ClerkVerifier
from .verify import full_message
from .verify import is_non_session_token
from .verify import parse

__all__ = ["ClerkAuthenticator", "sync_origins"]

logger = logging.getLogger("flask_idguard")

_HANDSHAKE_REASONS = {
    "token-not-active-yet": "session-token-nbf",
    "token-iat-in-the-future": "session-token-iat-in-the-future",
}
_AZP_WARNING = (
    "Clerk: Session token from cookie is missing the azp claim. In a future version of Clerk, "
    "this token will be considered invalid. Please contact Clerk support if you see this "
    "warning."
)


def sync_origins(config: ClerkConfig) -> frozenset[str]:
    """Where a development primary may send its dev browser token besides the request's own
    origin: ``CLERK_DOMAIN`` (http or https) and the ``CLERK_AUTHORIZED_PARTIES`` origins."""
    urls = [f"{scheme}://{config.domain}" for scheme in ("https", "http") if config.domain]
    origins = (origin_of(url) for url in [*urls, *config.authorized_parties])
    return frozenset(o for o in origins if o is not None)


class _RefreshFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ClerkAuthenticator:
    """Clerk's ``authenticateRequest``: decides one request for one Clerk instance."""

    def __init__(self, config: ClerkConfig, verifier: ClerkVerifier, backend: ClerkBackend) -> None:
        self.config = config
        self.verifier = verifier
        self.backend = backend
        self.production = config.production
        self.handshakes = Handshakes(verifier=verifier, backend=backend, production=self.production)
        self.sync_origins = sync_origins(config)
        self._warned_azp = False

    def authenticate(self, rq: ClerkRequest) -> Outcome:
        """§1.4: a header token decides alone; otherwise the cookie tree runs."""
        if rq.header_token is not None:
            return self._header(rq, rq.header_token)
        return self._cookie(rq)

    def _maybe(self, rq: ClerkRequest, reason: str, message: str = "", **kw: Any) -> Outcome:
        return self.handshakes.maybe(
            rq, reason, message, organization_id=self._organization_id(rq), **kw
        )

    # §1.5 -------------------------------------------------------------------------------------

    def _header(self, rq: ClerkRequest, token: str) -> Outcome:
        try:
            parsed = parse(token)
        except TokenError as exc:
            return self._token_error(rq, exc, "header", token, None)
        if is_non_session_token(parsed):
            return Outcome.signed_out("token-type-mismatch")
        verified = self._verify(rq, token, parsed, "header")
        return verified if isinstance(verified, Outcome) else Outcome.signed_in(token, verified)

    def _verify(
        self, rq: ClerkRequest, token: str, parsed: Unverified, carrier: str
    ) -> Mapping[str, Any] | Outcome:
        """The verified claims, or the outcome of a token that does not verify."""
        try:
            return self.verifier.verify_session(parsed, now=rq.now)
        except TokenError as exc:
            return self._token_error(rq, exc, carrier, token, parsed)
        except KeysUnavailable as exc:
            return self._keys_unavailable(exc, carrier)

    def _keys_unavailable(self, exc: KeysUnavailable, carrier: str) -> Outcome:
        """Clerk's words for a key set it cannot load (§3, §11.21); the decorators answer 503."""
        logger.warning("Clerk: signing keys unavailable: %s", exc)
        text = str(exc)
        answered = re.search(r"answered HTTP (\d+)", text)
        if answered is not None:
            message = (
                f"Error loading Clerk JWKS from {self.backend.jwks_url} "
                f"with code={answered.group(1)}"
            )
        elif "no usable public signature key" in text:
            message = (
                "The JWKS endpoint did not contain any signing keys. Contact support@clerk.com."
            )
        else:
            return Outcome.signed_out("unexpected-error", failure="unavailable")
        error = TokenError("jwk-remote-failed-to-load", message, action="Contact support@clerk.com")
        return Outcome.signed_out(error.reason, full_message(error, carrier), failure="unavailable")

    # §1.7 -------------------------------------------------------------------------------------

    def _token_error(
        self,
        rq: ClerkRequest,
        exc: TokenError,
        carrier: str,
        token: str,
        parsed: Unverified | None,
    ) -> Outcome:
        refresh_error = None
        if exc.reason == "token-expired":
            if rq.refresh_token is not None and rq.method == "GET":
                try:
                    return self._refresh(rq, token, parsed)
                except _RefreshFailed as failed:
                    refresh_error = failed.reason
            elif rq.method != "GET":
                refresh_error = "non-eligible-non-get"
            else:
                refresh_error = "non-eligible-no-refresh-cookie"
        message = full_message(exc, carrier)
        if exc.reason == "token-expired":
            return self._maybe(rq, f"session-token-expired-refresh-{refresh_error}", message)
        if exc.reason in _HANDSHAKE_REASONS:
            return self._maybe(rq, _HANDSHAKE_REASONS[exc.reason], message)
        return Outcome.signed_out(exc.reason, message)

    # §1.10 ------------------------------------------------------------------------------------

    def _refresh(self, rq: ClerkRequest, token: str, parsed: Unverified | None) -> Outcome:
        if parsed is None:
            raise _RefreshFailed("expired-session-token-decode-failed")
        sid = parsed.claims.get("sid")
        if not isinstance(sid, str) or not sid:
            raise _RefreshFailed("expired-session-token-missing-sid-claim")
        assert rq.refresh_token is not None
        try:
            cookies = self.backend.refresh_session(
                sid,
                expired_token=token,
                refresh_token=rq.refresh_token,
                request_origin=rq.origin,
                request_headers={k.lower(): [v] for k, v in rq.request.headers.items()},
                suffixed_cookies=rq.suffixed,
            )
        except BackendAPIError as exc:
            logger.warning("Clerk: refreshing the session failed: %s", exc)
            code = "fetch-error" if exc.code in ("fetch-error", "unexpected_error") else exc.code
            raise _RefreshFailed(code) from None
        cookies = sendable_cookies(cookies, "refresh")
        new_token = session_token_in(cookies)
        if not new_token:
            # @clerk/backend fails inside its own code here (no reason of its own).
            raise _RefreshFailed("unexpected-sdk-error")
        try:
            claims = self.verifier.verify_session(parse(new_token), now=rq.now)
        except (TokenError, KeysUnavailable):
            raise _RefreshFailed("invalid-session-token") from None
        return Outcome.signed_in(new_token, claims, headers=[("Set-Cookie", c) for c in cookies])

    # §1.6 -------------------------------------------------------------------------------------

    def _cookie(self, rq: ClerkRequest) -> Outcome:
        # 1. Handshake resolution (a nonce only where a handshake's redirect lands, once).
        nonce = self.handshakes.nonce(rq)
        if nonce is not None or rq.handshake_token is not None:
            try:
                return self.handshakes.resolve(rq, nonce)
            except HandshakeFailed as exc:
                if not self.production and exc.token_invalid:
                    # Clerk throws (a 500); refused with a 400 instead (docs/clerk.rst).
                    logger.error("Clerk: refusing the request: %s", exc)
                    return Outcome.signed_out(
                        "handshake-token-invalid", str(exc), failure="invalid_request", refuse=True
                    )
                logger.error("Clerk: unable to resolve handshake: %s", exc)
        # 2. Satellite sync (§11.11).
        synced = self._satellite_sync(rq)
        if synced is not None:
            return synced
        # 3-5. A development instance: the primary's sync answer, the dev browser.
        if not self.production:
            dev = self._development(rq)
            if dev is not None:
                return dev
        # 6-15. Session cookie and __client_uat.
        return self._session(rq)

    def _satellite_sync(self, rq: ClerkRequest) -> Outcome | None:
        """A satellite's first document request syncs with the primary domain (§11.11)."""
        config = self.config
        synced = rq.query.get("__clerk_synced")
        if not config.is_satellite or not rq.is_document or rq.method != "GET":
            return None
        if synced == "true":
            return None
        has_cookies = rq.session_cookie is not None or rq.client_uat != 0
        if synced != "false" and has_cookies:
            return None
        if synced != "false" and not config.satellite_auto_sync:
            return Outcome.signed_out("session-token-and-uat-missing")
        location = None
        if not self.production and config.sign_in_url:
            location = with_params(config.sign_in_url, [("__clerk_redirect_url", rq.url)])
        return self._maybe(rq, "satellite-needs-syncing", location=location)

    def _development(self, rq: ClerkRequest) -> Outcome | None:
        """Steps 3-5 of a development instance: a primary answers a satellite's sync request;
        the development browser must be synced and present."""
        redirect_url = rq.query.get("__clerk_redirect_url")
        if not self.config.is_satellite and redirect_url:
            location = self._sync_location(rq, redirect_url)
            if location is not None:
                return self._maybe(rq, "primary-responds-to-syncing", location=location)
            logger.warning(
                "Clerk: ignoring a __clerk_redirect_url that is neither this app's origin nor "
                "a configured satellite (CLERK_DOMAIN, CLERK_AUTHORIZED_PARTIES)"
            )
        if "__clerk_db_jwt" in rq.query:
            return self._maybe(rq, "dev-browser-sync")
        if not rq.dev_browser_token:
            return self._maybe(rq, "dev-browser-missing")
        return None

    def _sync_location(self, rq: ClerkRequest, redirect_url: str) -> str | None:
        """Where a primary answers a satellite's sync (with the dev browser token), or None
        when ``redirect_url`` is not an http(s) URL of this app or a configured satellite:
        the token goes nowhere else (docs/clerk.rst)."""
        allowed = (rq.origin, *self.sync_origins)
        # A plain host[:port] (no userinfo, backslash...), so that every URL parser agrees.
        if not host_is_valid(urlsplit(redirect_url).netloc):
            return None
        if origin_of(redirect_url) not in allowed:
            return None
        params = []
        if rq.dev_browser_token:
            params.append(("__clerk_db_jwt", rq.dev_browser_token))
        location = with_params(redirect_url, params)
        location = with_params(location, [("__clerk_synced", "true")], replace=True)
        # The browser parses the Location: check what it will read, not what was asked.
        return location if origin_of(location) in allowed else None

    def _session(self, rq: ClerkRequest) -> Outcome:
        """Steps 6-15: the session cookie against ``__client_uat``, then the token itself."""
        session, uat = rq.session_cookie, rq.client_uat
        if not uat and session is None:
            return Outcome.signed_out("session-token-and-uat-missing")
        if not uat:
            return self._maybe(rq, "session-token-but-no-client-uat")
        if session is None:
            return self._maybe(rq, "client-uat-but-no-session-token")
        # 9. Decode.
        try:
            parsed = parse(session)
        except TokenError as exc:
            return self._token_error(rq, exc, "cookie", session, None)
        # 10. Token class.
        if is_non_session_token(parsed):
            return Outcome.signed_out("token-type-mismatch")
        # 11. Outdated token: strict <, raw numbers, before the signature.
        iat = parsed.claims.get("iat")
        if (
            isinstance(iat, int | float)
            and not isinstance(iat, bool)
            and js_number(iat) < js_number(uat)
        ):
            return self._maybe(rq, "session-token-iat-before-client-uat")
        # 12. Verify.
        claims = self._verify(rq, session, parsed, "cookie")
        if isinstance(claims, Outcome):
            return claims
        # 13. Missing azp: warn once per process.
        if "azp" not in claims and not self._warned_azp:
            self._warned_azp = True
            logger.warning(_AZP_WARNING)
        # 14. Cross-origin navigation from a satellite.
        if self._cross_origin(rq):
            return self._maybe(
                rq,
                "primary-domain-cross-origin-sync",
                "Cross-origin request from satellite domain requires handshake",
            )
        # 15. The auth object; organization sync.
        return self._organization_sync(rq, session, claims)

    def _cross_origin(self, rq: ClerkRequest) -> bool:
        if self.config.is_satellite or rq.method != "GET" or not rq.is_document:
            return False
        if rq.redirect_count != 0 or not rq.referer:
            return False
        referer_origin = origin_of(rq.referer)
        if referer_origin is None or referer_origin == rq.origin:
            return False
        return not is_known_clerk_referrer(
            rq.referer, frontend_api=rq.frontend_api, production=self.production
        )

    def _organization_sync(
        self, rq: ClerkRequest, token: str, claims: Mapping[str, Any]
    ) -> Outcome:
        try:
            fields = session_fields(claims)
        except ClaimError:
            return Outcome.signed_out("unexpected-error", failure="invalid_token")
        outcome = Outcome.signed_in(token, claims, fields=fields)
        sync = self.config.organization_sync
        pending = fields.session_status == "pending"
        if sync is None or not fields.user_id or pending:
            return outcome
        target = organization_target(sync, rq.path)
        if target is None or not mismatched(target, fields):
            return outcome
        if rq.redirect_count >= 3:
            logger.warning(
                "Clerk: Organization activation handshake loop detected. This is likely due to "
                "an invalid organization ID or slug. Skipping organization activation."
            )
            return outcome
        handshake = self._maybe(rq, "active-organization-mismatch")
        return handshake if handshake.status == "handshake" else outcome

    def _organization_id(self, rq: ClerkRequest) -> str | None:
        sync = self.config.organization_sync
        if sync is None:
            return None
        target = organization_target(sync, rq.path)
        return None if target is None else target[1]
