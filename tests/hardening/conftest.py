"""The configurations the property tests run through, built once per session, and the Backend
API they talk to (canned answers that each example chooses)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses

from flask_idguard.testing import ClerkTestInstance
from flask_idguard.testing import TestIssuer

from .apps import API_URL
from .apps import Setup
from .apps import clerk_setups
from .apps import mixed_setup
from .apps import oidc_setups
from .strategies import Request

#: ``IDGUARD_HARDENING_SCALE=90`` multiplies the property tests' examples (about 100,000
#: requests in all, some ten minutes: the longer run docs/security.rst reports).
SCALE = int(os.environ.get("IDGUARD_HARDENING_SCALE", "1"))


@cache
def setups() -> dict[str, Setup]:
    """Every configuration, by name: OIDC, Auth0, Clerk, and Clerk with OIDC."""
    issuer = TestIssuer()
    prod = ClerkTestInstance("production")
    dev = ClerkTestInstance("development")
    found = [*oidc_setups(issuer), *clerk_setups(prod, dev), mixed_setup(prod, issuer)]
    return {s.name: s for s in found}


class BackendAPI:
    """The Backend API's answers for the request being sent (``current``)."""

    def __init__(self) -> None:
        self.current: Request | None = None

    def __call__(self, request: requests.PreparedRequest) -> Any:
        path = urlsplit(request.url or "").path
        rq = self.current
        headers = {"Content-Type": "application/json"}
        if rq is None:
            return requests.ConnectionError("no request is being sent")
        if path.endswith("/clients/handshake_payload"):
            return (200, headers, json.dumps(rq.directives))
        if path.endswith("/refresh"):
            status, body = rq.refresh
            return (status, headers, json.dumps(body))
        return requests.ConnectionError(f"unexpected Backend API call {path}")


@pytest.fixture(scope="module")
def backend_api() -> Iterator[BackendAPI]:
    """The Backend API for the module's examples; any other outbound call fails."""
    api = BackendAPI()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for method in ("GET", "POST"):
            rsps.add_callback(method, re.compile(re.escape(API_URL) + r"/.*"), callback=api)
        yield api
