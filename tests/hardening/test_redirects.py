"""No redirect the extension answers leaves the app's origin except for the configured identity
provider (Clerk's frontend API or proxy) or sign-in URL, and none carries a credential of the
request (a cookie, the ``Authorization`` token, a DPoP proof, an accepted query token) to an
origin other than the app's own, the identity provider's or a configured satellite's.

The requests are mostly page loads with every Clerk redirect trigger: expired sessions,
handshake tokens and nonces, ``__clerk_redirect_url`` targets (other sites, ``javascript:``,
``data:``, userinfo and backslash tricks), satellite syncs, organization paths, the sign-in
redirect of every decorator. ``X-Forwarded-Host`` is not sent: the public URL it sets is the
deployment's to vouch for (docs/clerk.rst, "Behind a proxy").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote
from urllib.parse import urljoin

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flask_idguard.core.urls import origin_of

from .apps import ORIGIN
from .apps import SIGN_IN
from .apps import Setup
from .conftest import SCALE
from .conftest import BackendAPI
from .conftest import setups
from .strategies import Request
from .strategies import clerk_requests
from .strategies import token_requests
from .test_no_500 import SETTINGS

EXAMPLES = 25 * SCALE  # per configuration (13)


def trusted(setup: Setup) -> set[str | None]:
    """Origins a credential may go to: the app, Clerk's frontend API, configured satellites."""
    origins: set[str | None] = {ORIGIN}
    if setup.clerk is not None:
        origins.add(origin_of(setup.clerk.issuer))
        config = setup.app.extensions["idguard"].providers[0].config
        if not config.is_satellite:
            origins |= {origin_of(p) for p in config.authorized_parties}
    return origins


def check_redirect(setup: Setup, rq: Request, response: Any) -> None:
    if not 300 <= response.status_code < 400:
        return
    location = response.headers["Location"]
    target = origin_of(urljoin(ORIGIN + rq.path, location))
    allowed = trusted(setup)
    assert target in allowed | {origin_of(SIGN_IN)}, f"redirect off the app's origins: {location}"
    if target not in allowed:
        seen = location + unquote(location)
        leaked = [s for s in rq.secrets if s in seen]
        assert not leaked, f"a credential of the request goes to {target}: {location}"


@pytest.mark.parametrize("name", list(setups()))
@SETTINGS.__class__(SETTINGS, max_examples=EXAMPLES)
@given(data=st.data())
def test_no_redirect_leaves_the_apps_origins_or_carries_a_token_away(
    name: str, data: st.DataObject, backend_api: BackendAPI
) -> None:
    setup = setups()[name]
    if setup.clerk is not None and (setup.issuer is None or data.draw(st.booleans())):
        rq = data.draw(clerk_requests(setup, navigation=True), label="request")
    else:
        rq = data.draw(token_requests(setup, navigation=True), label="request")
    backend_api.current = rq
    response = rq.send(setup.app.test_client(use_cookies=False))
    check_redirect(setup, rq, response)
