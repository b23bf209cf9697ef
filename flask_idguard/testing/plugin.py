"""pytest plugin (entry point ``idguard``): fixtures backed by :class:`~.TestIssuer`.

Importing this module is cheap and does not need ``responses``; the fixtures import what they use.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

import pytest

if TYPE_CHECKING:
    import responses

    from ..devidp import DevIdP
    from .clerk import ClerkTestInstance
    from .issuer import TestIssuer


@pytest.fixture
def idguard_responses() -> Iterator[responses.RequestsMock]:
    """The ``responses.RequestsMock`` that serves the issuers of ``idguard_issuer(_factory)``.

    Started for the test and stopped after it. Register the test's other HTTP answers on it
    (``idguard_responses.add(...)``): a second, separately started mock would hide this one.
    Requests to URLs nobody registered raise ``requests.ConnectionError``.
    """
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def idguard_issuer(idguard_responses: responses.RequestsMock) -> TestIssuer:
    """A :class:`~flask_idguard.testing.TestIssuer` whose discovery and JWKS are mocked.

    Point the app at it and send its tokens::

        def test_me(app, idguard_issuer):
            app.config["IDGUARD_ISSUER"] = idguard_issuer.issuer
            app.config["IDGUARD_AUDIENCE"] = idguard_issuer.audience
            token = idguard_issuer.token({"scope": "read:me"})
            r = app.test_client().get("/me", headers={"Authorization": f"Bearer {token}"})

    ``discovery_calls``/``jwks_calls`` count fetches; set ``fail_with`` to simulate an outage.
    """
    from .issuer import TestIssuer

    return _mocked(TestIssuer(), idguard_responses)


def _mocked(issuer: TestIssuer, rsps: responses.RequestsMock) -> TestIssuer:
    issuer.mock(rsps)
    return issuer


@pytest.fixture
def idguard_issuer_factory(
    idguard_responses: responses.RequestsMock,
) -> Callable[..., TestIssuer]:
    """Make more issuers, mocked like ``idguard_issuer``: ``idguard_issuer_factory(**kwargs)``.

    Keyword arguments go to :class:`~flask_idguard.testing.TestIssuer`. Without an ``issuer``
    URL, each gets its own, ``https://issuer-1.test/``, ``https://issuer-2.test/``..., so that it
    does not shadow ``idguard_issuer`` or another issuer of the test.
    """
    from .issuer import TestIssuer

    count = 0

    def make(**kwargs: Any) -> TestIssuer:
        nonlocal count
        if "issuer" not in kwargs:
            count += 1
            kwargs["issuer"] = f"https://issuer-{count}.test/"
        return _mocked(TestIssuer(**kwargs), idguard_responses)

    return make


@pytest.fixture
def idguard_dpop_key() -> Any:
    """A fresh :class:`~flask_idguard.testing.DPoPKey` (ES256): bind tokens, sign proofs."""
    from .dpop import DPoPKey

    return DPoPKey()


@pytest.fixture
def idguard_clerk() -> ClerkTestInstance:
    """A :class:`~flask_idguard.testing.ClerkTestInstance` (production): configure the app with
    ``idguard_clerk.config()`` and sign a test client in::

        def test_dashboard(idguard_clerk):
            app = create_app(idguard_clerk.config())
            client = idguard_clerk.signed_in(app.test_client(), "user_1", org_id="org_1",
                                             org_role="org:admin")
            assert client.get("/dashboard").status_code == 200
    """
    from .clerk import ClerkTestInstance

    return ClerkTestInstance()


@pytest.fixture
def idguard_clerk_factory() -> Callable[..., ClerkTestInstance]:
    """Make Clerk test instances: ``idguard_clerk_factory("development", org_claims="v1")``."""
    from .clerk import ClerkTestInstance

    return ClerkTestInstance


@pytest.fixture
def idguard_devidp() -> Iterator[DevIdP]:
    """The local identity provider, served on a free loopback port for the test.

    ``idguard_devidp.env()`` configures an app; its sign-in pages, handshake, Backend API and
    Auth0 endpoints answer real HTTP requests.
    """
    from ..devidp import DevIdP

    with DevIdP().serve() as idp:
        yield idp
