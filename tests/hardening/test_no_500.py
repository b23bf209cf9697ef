"""The class of unauthenticated (and issuer-made) 500s: no input gives a response >= 500.

Every claim and header member takes every JSON type (arrays, objects, huge and negative
numbers, floats, literals past the double range, lone surrogates, long strings), signed by the
trusted key or not, in every carrier (header with any scheme, DPoP proofs, query and form
tokens, cookies, suffixed cookies, handshake tokens and nonces and their directives, refreshes),
through every provider configuration, to every decorator and a view that reads every
``current_auth`` attribute and ``has()``. The apps run with ``TESTING``, so an exception
fails the example with its traceback. The only 5xx allowed is a deliberate 503.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from .conftest import SCALE
from .conftest import BackendAPI
from .conftest import setups
from .strategies import Request
from .strategies import clerk_requests
from .strategies import token_requests

#: Examples per configuration (13 configurations).
EXAMPLES = 60 * SCALE

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def requests_for(name: str) -> st.SearchStrategy[Request]:
    setup = setups()[name]
    if setup.clerk is None:
        return token_requests(setup)
    if setup.issuer is None:
        return clerk_requests(setup)
    return clerk_requests(setup) | token_requests(setup)


def assert_not_a_failure(response: Any) -> None:
    """Below 500, or the deliberate 503 (the identity provider cannot be asked)."""
    if response.status_code >= 500:
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.json["error"] == "temporarily_unavailable"


@pytest.mark.parametrize("name", list(setups()))
@SETTINGS
@given(data=st.data())
def test_no_request_gets_a_500(name: str, data: st.DataObject, backend_api: BackendAPI) -> None:
    rq = data.draw(requests_for(name), label="request")
    backend_api.current = rq
    response = rq.send(setups()[name].app.test_client(use_cookies=False))
    assert_not_a_failure(response)
