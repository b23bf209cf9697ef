"""The local identity provider's settings: instance type, token lifetime, claim version, URLs."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["CLERK_JS_FRONTEND_API", "DevIdPConfig", "publishable_key"]

Instance = Literal["development", "production"]
OrgClaims = Literal["v1", "v2"]
HandshakeFormat = Literal["auto", "token", "nonce"]


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
#: A DNS host name in lower case (what a publishable key's frontend API is).
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")

#: A frontend API host for pages using ``@clerk/clerk-js`` on a development instance: the SDK
#: runs its dev-browser flow only for hosts under Clerk's development suffixes
#: (packages/shared/src/constants.ts), as every real development instance's is. Nothing is ever
#: sent to it: the app and the SDK reach this provider through ``CLERK_PROXY_URL``.
CLERK_JS_FRONTEND_API = "devidp.clerk.accounts.dev"


def publishable_key(instance: Instance, frontend_api: str) -> str:
    """``pk_test_``/``pk_live_`` and the unpadded base64 of ``"<frontend api>$"``, as Clerk
    builds publishable keys."""
    prefix = "pk_live_" if instance == "production" else "pk_test_"
    encoded = base64.b64encode(f"{frontend_api}$".encode()).decode("ascii").rstrip("=")
    return prefix + encoded


@dataclass
class DevIdPConfig:
    """How the local identity provider behaves. Every URL it hands out is built from
    ``base_url``, never from a request's ``Host`` header."""

    #: Where it is served (``http://127.0.0.1:8765``, or an app's ``http://localhost:5000/__clerk``).
    base_url: str = "http://127.0.0.1:8765"
    #: ``development`` (``pk_test_``: the dev browser, token handshakes in the URL) or
    #: ``production`` (``pk_live_``: nonce handshakes in a cookie).
    instance: Instance = "development"
    #: Session tokens live this long (Clerk's are 60 s), so the handshake runs for real.
    token_lifetime: int = 60
    #: Organization claims: ``v2`` (``o``, ``fea``, ``pla``; Clerk's current tokens) or ``v1``.
    org_claims: OrgClaims = "v2"
    #: How ``/v1/client/handshake`` answers: ``auto`` (a token in the URL on a development
    #: instance, a nonce in a cookie on a production one), or always ``token`` / ``nonce``.
    handshake_format: HandshakeFormat = "auto"
    #: The frontend API host the publishable key names (the session tokens' ``iss``).
    frontend_api: str = "clerk.devidp.localhost"
    #: Origins (``scheme://host[:port]``) it redirects to after sign-in and handshakes; loopback
    #: origins are always allowed.
    allowed_origins: tuple[str, ...] = ()
    #: The Auth0 API identifier its client-credentials tokens are for.
    audience: str = "https://api.devidp.localhost"
    #: Extra Set-Cookie attributes of the cookies it sets for the app (``Secure`` on https).
    secure_cookies: bool = field(default=False)
    #: Where Clerk's webhooks (``user.created``...) are sent, signed with the instance's
    #: ``CLERK_WEBHOOK_SIGNING_SECRET``; None sends none.
    webhook_url: str | None = None
    #: The npm project whose ``node_modules`` holds the ``@clerk/clerk-js`` it serves under
    #: ``/clerk/npm/`` (None: the source checkout's ``clerkjs/``, set up by ``make clerk-js``).
    clerk_js_dir: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(f"base_url must be an http(s) URL without a query: {self.base_url!r}")
        self.base_url = self.base_url.rstrip("/")
        hook = urlsplit(self.webhook_url or "http://x")
        if hook.scheme not in ("http", "https") or not hook.netloc:
            raise ValueError(f"webhook_url must be an http(s) URL: {self.webhook_url!r}")
        if self.instance not in ("development", "production"):
            raise ValueError("instance must be 'development' or 'production'")
        if self.org_claims not in ("v1", "v2"):
            raise ValueError("org_claims must be 'v1' or 'v2'")
        if self.handshake_format not in ("auto", "token", "nonce"):
            raise ValueError("handshake_format must be 'auto', 'token' or 'nonce'")
        if not _HOSTNAME.fullmatch(self.frontend_api):
            raise ValueError(f"frontend_api must be a host name: {self.frontend_api!r}")
        if self.token_lifetime < 1:
            raise ValueError("token_lifetime must be at least 1 second")

    @property
    def production(self) -> bool:
        return self.instance == "production"

    @property
    def publishable_key(self) -> str:
        return publishable_key(self.instance, self.frontend_api)

    @property
    def frontend_api_url(self) -> str:
        """Where the Frontend API is served: ``CLERK_PROXY_URL`` (its own path, so that it is
        never taken for the Auth0 tenant's issuer at the base URL)."""
        return self.base_url + "/clerk"

    @property
    def issuer(self) -> str:
        """The ``iss`` of Clerk session tokens: the frontend API, as Clerk's are."""
        return f"https://{self.frontend_api}"

    @property
    def auth0_issuer(self) -> str:
        """The Auth0 tenant's issuer: the base URL with Auth0's trailing slash."""
        return self.base_url + "/"

    @property
    def oidc_issuer(self) -> str:
        """The generic OIDC issuer (no trailing slash), distinct from the Auth0 tenant's."""
        return self.base_url + "/oidc"
