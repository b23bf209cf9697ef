"""A Clerk instance for tests: its keys, session tokens with any claims, the cookies of a
signed-in browser, handshake payloads, all without network.

The app under test trusts it through ``CLERK_JWT_KEY`` (networkless verification), so a
test needs no server::

    clerk = ClerkTestInstance()
    app = create_app(clerk.config())
    client = clerk.signed_in(app.test_client(), "user_1", org_role="org:admin")
    assert client.get("/dashboard").status_code == 200
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from typing import Literal

from flask.testing import FlaskClient

from ..devidp.config import publishable_key
from ..devidp.tokens import SESSION_CATEGORY
from ..devidp.tokens import org_claims_v2
from ..providers.clerk.instance import cookie_suffix
from ._crypto import Key
from ._crypto import generate_key

__all__ = ["ClerkTestInstance"]

Instance = Literal["development", "production"]


class ClerkTestInstance:
    """A Clerk instance whose session tokens a test signs itself.

    ``instance`` picks the key type: ``production`` (``pk_live_``) or ``development``
    (``pk_test_``, where a browser also needs the dev browser cookie ``__clerk_db_jwt``, which
    :meth:`cookies` adds). Session tokens carry Clerk's header (``kid``, ``cat``) and ``iss``
    (``https://<frontend_api>``), and v2 organization claims unless ``org_claims="v1"``.
    """

    def __init__(
        self,
        instance: Instance = "production",
        *,
        frontend_api: str = "clerk.app.test",
        org_claims: Literal["v1", "v2"] = "v2",
    ) -> None:
        if instance not in ("development", "production"):
            raise ValueError("instance must be 'development' or 'production'")
        self.instance = instance
        self.frontend_api = frontend_api
        self.org_claims = org_claims
        self.publishable_key = publishable_key(instance, frontend_api)
        prefix = "sk_live_" if instance == "production" else "sk_test_"
        self.secret_key = prefix + secrets.token_urlsafe(18)
        self.key = Key("ins_" + secrets.token_hex(12), "RS256", generate_key("RS256"))
        #: The dev browser token its development cookies carry.
        self.dev_browser = "dvb_" + secrets.token_hex(12)

    def __repr__(self) -> str:
        return f"ClerkTestInstance({self.instance!r}, frontend_api={self.frontend_api!r})"

    @property
    def issuer(self) -> str:
        return f"https://{self.frontend_api}"

    @property
    def cookie_suffix(self) -> str:
        """The suffix of this instance's cookie names (``__session_<suffix>``)."""
        return cookie_suffix(self.publishable_key)

    def public_pem(self) -> str:
        return self.key.public_pem().decode("ascii")

    def jwks(self) -> dict[str, Any]:
        """The instance's JWKS, as the Backend API's ``/v1/jwks`` serves it."""
        return {"keys": [self.key.jwk()]}

    def config(self, **extra: Any) -> dict[str, Any]:
        """The app configuration that trusts this instance with no network:
        ``CLERK_PUBLISHABLE_KEY``, ``CLERK_SECRET_KEY`` and ``CLERK_JWT_KEY``."""
        return {
            "CLERK_PUBLISHABLE_KEY": self.publishable_key,
            "CLERK_SECRET_KEY": self.secret_key,
            "CLERK_JWT_KEY": self.public_pem(),
            **extra,
        }

    def claims(
        self,
        user_id: str = "user_test",
        *,
        session_id: str | None = None,
        org_id: str | None = None,
        org_slug: str | None = None,
        org_role: str | None = None,
        org_permissions: Iterable[str] = (),
        expires_in: int = 60,
        azp: str | None = "http://localhost",
        now: float | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A session token's payload; ``extra`` claims are added last (``None`` removes one).

        ``azp`` defaults to the Flask test client's origin; give the app's origin when it sets
        ``CLERK_AUTHORIZED_PARTIES``, or ``None`` for a token without one."""
        iat = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "exp": iat + expires_in,
            "fva": [0, -1],
            "iat": iat,
            "iss": self.issuer,
            "nbf": iat - 10,
            "sid": session_id or "sess_test",
            "sts": "active",
            "sub": user_id,
        }
        if azp is not None:
            claims["azp"] = azp
        if self.org_claims == "v2":
            claims["v"] = 2
        if org_id is not None:
            role = org_role or "org:member"
            permissions = tuple(org_permissions)
            if self.org_claims == "v2":
                o, fea = org_claims_v2(role, permissions)
                claims["o"] = {"id": org_id, "slg": org_slug or org_id, **o}
                if fea:
                    claims["fea"] = fea
            else:
                claims.update(org_id=org_id, org_slug=org_slug or org_id, org_role=role,
                              org_permissions=list(permissions))  # fmt: skip
        for name, value in extra.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def session_token(self, user_id: str = "user_test", **kwargs: Any) -> str:
        """A signed session token; the arguments are :meth:`claims`'."""
        return self.sign(self.claims(user_id, **kwargs))

    def sign(self, claims: Mapping[str, Any], **header: Any) -> str:
        """Any payload signed as this instance signs session tokens (RS256, ``kid``, ``cat``)."""
        fields = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT", "cat": SESSION_CATEGORY}
        return self.key.sign_compact({**fields, **header}, dict(claims))

    def cookies(self, token: str | None = None, **kwargs: Any) -> dict[str, str]:
        """The cookies of a browser signed in with ``token`` (default: a new session token,
        :meth:`session_token`'s arguments): ``__session``, ``__client_uat`` and, on a
        development instance, ``__clerk_db_jwt``."""
        token = token or self.session_token(**kwargs)
        now = int(time.time())
        cookies = {"__session": token, "__client_uat": str(now - 60)}
        if self.instance == "development":
            cookies["__clerk_db_jwt"] = self.dev_browser
        return cookies

    def signed_in(
        self, client: FlaskClient, user_id: str = "user_test", **kwargs: Any
    ) -> FlaskClient:
        """``client`` with the cookies of a browser signed in as ``user_id`` (the arguments of
        :meth:`claims`), sent with every request as a page navigation would send them."""
        for name, value in self.cookies(None, user_id=user_id, **kwargs).items():
            client.set_cookie(name, value)
        return client

    def signed_out(self, client: FlaskClient) -> FlaskClient:
        """``client`` as a signed-out browser of this instance (``__client_uat=0``)."""
        client.set_cookie("__client_uat", "0")
        if self.instance == "development":
            client.set_cookie("__clerk_db_jwt", self.dev_browser)
        return client

    def handshake_directives(self, token: str | None = None, **kwargs: Any) -> list[str]:
        """The ``Set-Cookie`` strings of a handshake that signs the browser in with ``token``."""
        cookies = self.cookies(token, **kwargs)
        return [f"{name}={value}; Path=/; SameSite=Lax" for name, value in cookies.items()]

    def handshake_token(self, directives: Iterable[str]) -> str:
        """A ``__clerk_handshake`` token carrying ``directives``, signed by the instance."""
        return self.key.sign_compact(
            {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}, {"handshake": list(directives)}
        )
