"""Clerk's Backend API users endpoints, through flask-idguard's ``ClerkClient`` and the real
``clerk-backend-api`` SDK, unchanged, against the local identity provider on loopback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clerk_backend_api import Clerk
from clerk_backend_api.models import ClerkErrors
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard import APIAuthenticationFailed
from flask_idguard import APINotFound
from flask_idguard import APIRequestInvalid
from flask_idguard import ClerkClient
from flask_idguard.devidp import DevIdP

SEEDED = ["user_carol", "user_bob", "user_alice"]  # newest first: Clerk's -created_at


@pytest.fixture
def clerk(provider: DevIdP) -> ClerkClient:
    return ClerkClient(provider.secret_key, api_url=provider.config.base_url, retries=0)


@pytest.fixture
def sdk(provider: DevIdP) -> Clerk:
    return Clerk(bearer_auth=provider.secret_key, server_url=provider.config.base_url + "/v1")


def ids(users: list[dict[str, Any]]) -> list[str]:
    return [u["id"] for u in users]


# -- flask-idguard's ClerkClient --------------------------------------------------------------


def test_list_filters_order_and_pages_as_clerk(clerk: ClerkClient) -> None:
    assert ids(clerk.list()) == SEEDED
    assert ids(clerk.list(limit=1, offset=1)) == ["user_bob"]
    assert ids(clerk.list(order_by="+email_address")) == ["user_alice", "user_bob", "user_carol"]
    assert ids(clerk.list(order_by="-first_name")) == ["user_carol", "user_bob", "user_alice"]
    both = clerk.list(email_address=["ALICE@example.test", "bob@example.test"])
    assert ids(both) == ["user_bob", "user_alice"]
    assert ids(clerk.list(user_id=["user_carol", "user_nobody"])) == ["user_carol"]
    assert ids(clerk.list(query="ADMIN")) == ["user_alice"]
    assert ids(clerk.list(name_query="solo", username_query="car")) == ["user_carol"]
    assert ids(clerk.list(organization_id=["org_acme"])) == ["user_bob", "user_alice"]
    assert clerk.list(phone_number=["+15555550100"]) == []
    assert clerk.list(banned=True) == []
    assert [u["id"] for u in clerk.iter(limit=2)] == SEEDED
    assert clerk.count() == 3
    assert clerk.count(organization_id=["org_globex"], query="bob") == 1


def test_the_user_object_is_clerks(clerk: ClerkClient) -> None:
    alice = clerk.get("user_alice")
    assert alice["object"] == "user"
    email = alice["email_addresses"][0]
    assert email["id"] == alice["primary_email_address_id"]
    assert email["object"] == "email_address"
    assert email["verification"]["status"] == "verified"
    assert alice["public_metadata"] == {"plan": "pro"}
    assert isinstance(alice["created_at"], int) and alice["created_at"] > 10**12  # ms
    user = clerk.user("user_alice")
    assert (user.email, user.full_name, user.username) == (
        "alice@example.test",
        "Alice Admin",
        "alice",
    )
    assert user.image_url is not None and user.image_url.startswith("data:image/svg+xml")


def test_create_update_metadata_delete(clerk: ClerkClient, provider: DevIdP) -> None:
    created = clerk.create(
        email_address=["dave@example.test"],
        password="dave-password",
        first_name="Dave",
        public_metadata={"plan": "free", "limits": {"seats": 1, "projects": 2}},
    )
    user_id = created["id"]
    assert user_id.startswith("user_") and created["first_name"] == "Dave"
    assert provider.store.authenticate("dave@example.test", "dave-password") is not None
    merged = clerk.update_metadata(
        user_id, public={"limits": {"seats": 5, "projects": None}}, private={"k": 1}
    )
    assert merged["public_metadata"] == {"plan": "free", "limits": {"seats": 5}}
    assert merged["private_metadata"] == {"k": 1}
    replaced = clerk.update(user_id, last_name="Doe", public_metadata={"plan": "pro"})
    assert replaced["last_name"] == "Doe" and replaced["public_metadata"] == {"plan": "pro"}
    assert clerk.update(user_id, last_name=None)["last_name"] is None
    assert clerk.count() == 4
    assert clerk.call("DELETE", f"/users/{user_id}") == {
        "object": "user",
        "id": user_id,
        "deleted": True,
    }
    with pytest.raises(APINotFound) as caught:
        clerk.get(user_id)
    assert caught.value.code == "resource_not_found"


def test_deleting_a_signed_in_user_ends_the_session(clerk: ClerkClient, provider: DevIdP) -> None:
    store = provider.store
    session = store.sign_in(store.new_client(), store.users["user_bob"])
    clerk.delete("user_bob")
    assert not session.active
    assert "user_bob" not in store.organizations["org_acme"].members
    assert clerk.count() == 2


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.create(email_address=["alice@example.test"], password="x" * 9), "exists"),
        (lambda c: c.create(email_address=["new@example.test"], password="short"), "too_short"),
        (lambda c: c.create(email_address=["not-an-email"], password="x" * 9), "value_invalid"),
        (lambda c: c.create(email_address=["a@example.test"]), "form_param_missing"),
        (lambda c: c.create(email_address=["a@example.test"], totp_secret="x"), "unknown"),
        (lambda c: c.update("user_bob", username="alice"), "exists"),
        (lambda c: c.update("user_bob", public_metadata=[1]), "format_invalid"),
        (lambda c: c.update("user_bob", primary_email_address_id="idn_x"), "value_invalid"),
        (lambda c: c.update_metadata("user_bob", public={"a": "x" * 9000}), "value_invalid"),
        (lambda c: c.list(limit=0), "value_invalid"),
        (lambda c: c.list(order_by="password"), "value_invalid"),
        (lambda c: c.count(created_at_after="yesterday"), "format_invalid"),
    ],
)
def test_bad_input_is_a_422_in_clerks_format(call: Any, code: str, clerk: ClerkClient) -> None:
    with pytest.raises(APIRequestInvalid) as caught:
        call(clerk)
    assert caught.value.status == 422
    assert caught.value.code is not None and code in caught.value.code


def test_the_secret_key_is_required(provider: DevIdP) -> None:
    wrong = ClerkClient("sk_test_wrong", api_url=provider.config.base_url, retries=0)
    with pytest.raises(APIAuthenticationFailed):
        wrong.list()
    with pytest.raises(APINotFound):
        ClerkClient(provider.secret_key, api_url=provider.config.base_url).get("user_nobody")


# -- clerk-backend-api ------------------------------------------------------------------------

#: The SDK reads its own deprecated query field (``last_active_at_since``) on every list call.
sdk_warnings = pytest.mark.filterwarnings("ignore:.*DEPRECATED.*:DeprecationWarning")


@sdk_warnings
def test_the_clerk_sdk_parses_every_users_answer(sdk: Clerk) -> None:
    assert [u.id for u in sdk.users.list(request={"limit": 2})] == SEEDED[:2]
    listed = sdk.users.list(
        request={"email_address": ["bob@example.test"], "order_by": "+username"}
    )
    assert [u.id for u in listed] == ["user_bob"]
    assert sdk.users.count(request={"query": "example.test"}).total_count == 3
    alice = sdk.users.get(user_id="user_alice")
    assert alice.email_addresses[0].email_address == "alice@example.test"
    assert alice.primary_email_address_id == alice.email_addresses[0].id
    created = sdk.users.create(
        email_address=["erin@example.test"], password="erin-password", username="erin"
    )
    assert created.username == "erin" and created.has_image is False
    updated = sdk.users.update(user_id=created.id, first_name="Erin", last_name="Ek")
    assert (updated.first_name, updated.last_name) == ("Erin", "Ek")
    merged = sdk.users.update_metadata(
        user_id=created.id, public_metadata={"a": {"b": 1}}, unsafe_metadata={"t": 1}
    )
    assert merged.public_metadata == {"a": {"b": 1}} and merged.unsafe_metadata == {"t": 1}
    deleted = sdk.users.delete(user_id=created.id)
    assert (deleted.object, deleted.id, deleted.deleted) == ("user", created.id, True)


@sdk_warnings
def test_the_clerk_sdk_reads_the_errors(sdk: Clerk) -> None:
    with pytest.raises(ClerkErrors) as caught:
        sdk.users.get(user_id="user_nobody")
    assert caught.value.data.errors[0].code == "resource_not_found"
    with pytest.raises(ClerkErrors) as refused:
        sdk.users.create(email_address=["alice@example.test"], password="long-enough")
    assert refused.value.data.errors[0].code == "form_identifier_exists"


# -- hostile input ----------------------------------------------------------------------------

_FIELDS = [
    "email_address",
    "password",
    "first_name",
    "username",
    "public_metadata",
    "private_metadata",
    "primary_email_address_id",
    "skip_password_checks",
    "skip_password_requirement",
]
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_BODIES = st.one_of(
    st.dictionaries(st.sampled_from(_FIELDS) | st.text(max_size=8), _JSON, max_size=5).map(
        json.dumps
    ),
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
    st.integers(1, 3000).map(lambda n: "[" * n),
    st.just('{"public_metadata": {"a": NaN}}'),
)
_QUERY = st.lists(
    st.tuples(
        st.sampled_from(
            ["limit", "offset", "order_by", "email_address", "banned", "created_at_after", "query"]
        )
        | st.text(max_size=6),
        st.text(max_size=12),
    ),
    max_size=4,
)


def _clerk_shaped(response: Any) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.get_json()["errors"][0]["code"]


@pytest.fixture
def raw(provider: DevIdP) -> FlaskClient:
    client = provider.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {provider.secret_key}"
    return client


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=_BODIES,
    method=st.sampled_from(
        ["POST /v1/users", "PATCH /v1/users/user_bob", "PATCH /v1/users/user_bob/metadata"]
    ),
)
def test_no_body_makes_a_500(raw: FlaskClient, body: str, method: str) -> None:
    verb, path = method.split(" ")
    _clerk_shaped(raw.open(path, method=verb, data=body, content_type="application/json"))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=_QUERY, path=st.sampled_from(["/v1/users", "/v1/users/count"]))
def test_no_query_makes_a_500(raw: FlaskClient, query: list[tuple[str, str]], path: str) -> None:
    response = raw.get(path, query_string=query)
    _clerk_shaped(response)
    if response.status_code == 200 and path == "/v1/users":
        assert isinstance(response.get_json(), list)
