"""Clerk fixtures with the values of Clerk's own test suite (clerk.md §7)."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest
import time_machine
from flask import Flask
from flask import jsonify
from werkzeug.datastructures import Headers

from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard.testing import TestIssuer

IAT = 1666648250
PK_TEST = "pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA"
PK_LIVE = "pk_live_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA"
FAPI = "clerk.inspired.puma-74.lcl.dev"
AZP = "https://accounts.inspired.puma-74.lcl.dev"
SUFFIX_TEST = "vWCgMp3A"
SUFFIX_LIVE = "MqCvchyS"
USER = "user_2GIpXOEpVyJw51rkZn9Kmnc6Sxr"
SESSION = "sess_2GbDB4enNdCa5vS1zpC3Xzg9tK9"


@dataclass
class Answer:
    """What a request through the app gave: the response and the auth state it saw."""

    status_code: int
    headers: Headers
    state: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.headers.get("x-clerk-auth-status") or self.state.get("status"))

    @property
    def reason(self) -> str | None:
        return self.headers.get("x-clerk-auth-reason") or self.state.get("reason")

    @property
    def message(self) -> str:
        return self.headers.get("x-clerk-auth-message", "")

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    @property
    def location_params(self) -> list[tuple[str, str]]:
        assert self.location is not None
        return parse_qsl(urlsplit(self.location).query, keep_blank_values=True)

    @property
    def location_base(self) -> str:
        assert self.location is not None
        parts = urlsplit(self.location)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    @property
    def set_cookies(self) -> list[str]:
        return self.headers.getlist("Set-Cookie")


class Clerk:
    """One Clerk instance for tests: its key, its tokens, apps configured for it."""

    def __init__(self) -> None:
        self.issuer = TestIssuer(f"https://{FAPI}", audience=None)

    def jwt(
        self,
        claims: Mapping[str, object] | None = None,
        *,
        header: Mapping[str, object] | None = None,
        omit: tuple[str, ...] = (),
        iat: int = IAT,
    ) -> str:
        """Clerk's ``mockJwt``: exp = iat + 60, nbf = iat - 10, azp, sid, sub."""
        base: dict[str, object] = {
            "sub": USER, "sid": SESSION, "azp": AZP, "iat": iat, "exp": iat + 60, "nbf": iat - 10,
        }  # fmt: skip
        base.update(claims or {})
        return self.issuer.token(base, header=header, omit=omit, now=iat)

    def app(self, **config: Any) -> Flask:
        app = Flask("clerk-tests")
        app.config.update(
            CLERK_PUBLISHABLE_KEY=PK_TEST,
            CLERK_SECRET_KEY="sk_test_deadbeef",
            CLERK_JWT_KEY=self.issuer.public_pem(),
            CLERK_API_URL="https://api.clerk.test",
        )
        app.config.update(config)
        IdGuard(app)

        def state(path: str = "") -> Any:
            return jsonify(
                status=current_auth.status,
                reason=current_auth.reason,
                message=current_auth.message,
                user_id=current_auth.user_id,
                session_id=current_auth.session_id,
                org_id=current_auth.org_id,
                org_role=current_auth.org_role,
                org_slug=current_auth.org_slug,
                org_permissions=sorted(current_auth.org_permissions),
                session_status=current_auth.session_status,
            )

        app.add_url_rule("/", "root", state)
        app.add_url_rule("/<path:path>", "state", state, methods=["GET", "POST", "PUT", "HEAD"])
        app.add_url_rule("/api/me", "api_me", requires_auth(state), methods=["GET", "POST"])
        return app

    def request(
        self,
        app: Flask,
        path: str = "/path",
        *,
        method: str = "GET",
        base_url: str = "http://clerk.com",
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | str | None = None,
        now: float = IAT,
        document: bool = True,
    ) -> Answer:
        """A request as Clerk's tests send it: Host example.com, a browser UA, a document."""
        sent = {"Host": "example.com", "User-Agent": "Mozilla/TestAgent"}
        if document:
            sent["Sec-Fetch-Dest"] = "document"
        sent.update(headers or {})
        for name in [k for k, v in sent.items() if v is None]:
            del sent[name]
        if cookies:
            sent["Cookie"] = (
                cookies
                if isinstance(cookies, str)
                else "; ".join(f"{k}={v}" for k, v in cookies.items())
            )
        with time_machine.travel(now, tick=False):
            resp = app.test_client(use_cookies=False).open(
                path, method=method, base_url=base_url, headers=sent
            )
        state = resp.get_json(silent=True) or {}
        return Answer(resp.status_code, resp.headers, state)


@pytest.fixture
def clerk() -> Iterator[Clerk]:
    yield Clerk()
