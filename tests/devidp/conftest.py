"""Fixtures: the local identity provider served on loopback, a Flask app trusting it, and a
browser (a requests session with a cookie jar) that records every redirect it follows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask

from flask_idguard.devidp import DEFAULT_SEED
from flask_idguard.devidp import DevIdP
from flask_idguard.devidp import DevIdPConfig
from flask_idguard.devidp.keys import SigningKey
from flask_idguard.devidp.store import Store

from ..conftest import organization_app

#: What a browser sends on a page navigation.
NAVIGATION = {"Sec-Fetch-Dest": "document", "Accept": "text/html"}


@dataclass
class Hop:
    status: int
    url: str
    reason: str | None


@dataclass
class Browser:
    """Follows redirects one by one, as a browser would, keeping cookies per host."""

    session: requests.Session = field(default_factory=requests.Session)
    hops: list[Hop] = field(default_factory=list)

    def go(self, url: str, method: str = "GET", data: dict[str, str] | None = None) -> Any:
        self.hops = []
        for _ in range(12):
            r = self.session.request(
                method, url, headers=NAVIGATION, data=data, allow_redirects=False, timeout=10
            )
            self.hops.append(Hop(r.status_code, url, r.headers.get("x-clerk-auth-reason")))
            if r.status_code not in (302, 303, 307):
                return r
            url = urljoin(url, r.headers["Location"])
            if r.status_code != 307:
                method, data = "GET", None
        raise AssertionError(f"redirect loop: {self.hops}")

    def reasons(self) -> list[str]:
        return [h.reason for h in self.hops if h.reason]

    def handshakes(self) -> int:
        return sum("/v1/client/handshake" in h.url for h in self.hops)


def app_for(env: dict[str, str], **config: Any) -> Flask:
    """A small app on the provider's Clerk instance (its ``CLERK_*`` keys): a dashboard, a
    billing page behind a permission."""
    clerk = {k: v for k, v in env.items() if k.startswith("CLERK_")}
    return organization_app({**clerk, **config})


@pytest.fixture(autouse=True, scope="session")
def _one_rsa_key_for_all() -> Iterator[None]:
    """Every provider in these tests signs with one RSA key (under its own kids): making
    two 2048-bit keys per test would be most of the suite's time."""
    pem = SigningKey.generate().private_pem()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            SigningKey,
            "generate",
            classmethod(lambda cls, kid=None: SigningKey.from_pem(pem, kid or "ins_test")),
        )
        yield


@pytest.fixture(params=["development", "production"])
def instance(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def idp(instance: str) -> Iterator[DevIdP]:
    with DevIdP(DevIdPConfig(instance=instance)).serve() as served:  # type: ignore[arg-type]
        yield served


@pytest.fixture
def browser() -> Browser:
    return Browser()


@pytest.fixture(scope="module")
def served() -> Iterator[DevIdP]:
    with DevIdP().serve() as idp:
        yield idp


@pytest.fixture
def provider(served: DevIdP) -> DevIdP:
    """The module's provider with the seed's users again (keys and server are kept)."""
    served.store = Store(DEFAULT_SEED)
    return served
