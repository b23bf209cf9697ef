"""ClerkClient: the exact wire requests, pagination, error mapping, no secret anywhere."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from typing import Any

import pytest
import requests
import responses

from flask_idguard import APIAuthenticationFailed
from flask_idguard import APIConnectionError
from flask_idguard import APINotFound
from flask_idguard import APIPermissionDenied
from flask_idguard import APIRateLimited
from flask_idguard import APIRequestInvalid
from flask_idguard import APIServerError
from flask_idguard import ClerkClient
from flask_idguard import IdGuardAPIError
from flask_idguard import User
from flask_idguard.clients.base import USER_AGENT

SECRET = "sk_test_Zm9vYmFyLXNlY3JldC12YWx1ZQ"
API = "https://api.clerk.com/v1"
USER = {
    "object": "user",
    "id": "user_1",
    "username": "ada",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "image_url": "https://img.clerk.com/ada.png",
    "primary_email_address_id": "idn_2",
    "email_addresses": [
        {"id": "idn_1", "email_address": "old@example.com"},
        {"id": "idn_2", "email_address": "ada@example.com"},
    ],
    "public_metadata": {"role": "admin"},
    "private_metadata": {"stripe": "cus_1"},
    "unsafe_metadata": {"theme": "dark"},
}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def clerk() -> ClerkClient:
    return ClerkClient(SECRET)


Call = Callable[[ClerkClient], Any]

# id, call, method, URL as sent, JSON body sent (None: no body), answer status, answer, result
WIRE: list[tuple[str, Call, str, str, Any, int, Any, Any]] = [
    ("get", lambda c: c.get("user_1"), "GET", f"{API}/users/user_1", None, 200, USER, USER),
    (
        "get-percent-encodes-the-id",
        lambda c: c.get("user 1/x"),
        "GET",
        f"{API}/users/user%201%2Fx",
        None,
        200,
        USER,
        USER,
    ),
    ("list-no-filters", lambda c: c.list(), "GET", f"{API}/users", None, 200, [USER], [USER]),
    (
        "list-repeats-array-keys-lowercases-booleans-drops-none",
        lambda c: c.list(
            email_address=["a@x.test", "b@x.test"],
            user_id=["-user_9"],
            order_by="-created_at",
            banned=False,
            query=None,
            limit=20,
            offset=0,
        ),
        "GET",
        f"{API}/users?email_address=a%40x.test&email_address=b%40x.test&user_id=-user_9"
        "&order_by=-created_at&banned=false&limit=20&offset=0",
        None,
        200,
        [],
        [],
    ),
    (
        "list-datetime-in-milliseconds",
        lambda c: c.list(created_at_after=datetime(2026, 1, 1, tzinfo=UTC)),
        "GET",
        f"{API}/users?created_at_after=1767225600000",
        None,
        200,
        [],
        [],
    ),
    (
        "count",
        lambda c: c.count(email_address_query="example.com"),
        "GET",
        f"{API}/users/count?email_address_query=example.com",
        None,
        200,
        {"object": "total_count", "total_count": 42},
        42,
    ),
    (
        "create",
        lambda c: c.create(email_address=["ada@example.com"], password="pw-1234567", skip=None),
        "POST",
        f"{API}/users",
        {"email_address": ["ada@example.com"], "password": "pw-1234567", "skip": None},
        200,
        USER,
        USER,
    ),
    (
        "update",
        lambda c: c.update("user_1", first_name="Ada"),
        "PATCH",
        f"{API}/users/user_1",
        {"first_name": "Ada"},
        200,
        USER,
        USER,
    ),
    (
        "update-metadata-merges-given-kinds-only",
        lambda c: c.update_metadata("user_1", public={"role": "admin"}, private={"old": None}),
        "PATCH",
        f"{API}/users/user_1/metadata",
        {"public_metadata": {"role": "admin"}, "private_metadata": {"old": None}},
        200,
        USER,
        USER,
    ),
    (
        "update-metadata-unsafe",
        lambda c: c.update_metadata("user_1", unsafe={"theme": "light"}),
        "PATCH",
        f"{API}/users/user_1/metadata",
        {"unsafe_metadata": {"theme": "light"}},
        200,
        USER,
        USER,
    ),
    (
        "delete",
        lambda c: c.delete("user_1"),
        "DELETE",
        f"{API}/users/user_1",
        None,
        200,
        {"object": "user", "id": "user_1", "deleted": True},
        None,
    ),
]


@pytest.mark.parametrize(
    ("call", "method", "url", "body", "status", "answer", "result"),
    [row[1:] for row in WIRE],
    ids=[row[0] for row in WIRE],
)
def test_wire_request(
    rsps: responses.RequestsMock,
    clerk: ClerkClient,
    call: Call,
    method: str,
    url: str,
    body: Any,
    status: int,
    answer: Any,
    result: Any,
) -> None:
    rsps.add(method, url.split("?")[0], json=answer, status=status)
    assert call(clerk) == result
    assert len(rsps.calls) == 1
    sent = rsps.calls[0].request
    assert (sent.method, sent.url) == (method, url)
    assert sent.headers["Authorization"] == f"Bearer {SECRET}"
    assert sent.headers["User-Agent"] == USER_AGENT
    assert sent.headers["Accept"] == "application/json"
    if body is None:
        assert sent.body is None
        assert "Content-Type" not in sent.headers
    else:
        assert sent.headers["Content-Type"] == "application/json"
        assert json.loads(sent.body or "") == body


def test_api_url_and_version_are_configurable(rsps: responses.RequestsMock) -> None:
    rsps.add("GET", "http://127.0.0.1:8765/v2/users/user_1", json=USER)
    client = ClerkClient(SECRET, api_url="http://127.0.0.1:8765/", api_version="v2")
    assert client.get("user_1") == USER


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"secret_key": ""}, "secret key"),
        ({"secret_key": SECRET, "api_url": "http://api.clerk.com"}, "http://"),
        ({"secret_key": SECRET, "api_url": "ftp://api.clerk.com"}, "scheme"),
        ({"secret_key": SECRET, "api_version": "v1/users"}, "api_version"),
        ({"secret_key": SECRET, "timeout": 0}, "timeout"),
    ],
    ids=["empty-secret", "plain-http-remote", "bad-scheme", "version-with-path", "zero-timeout"],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClerkClient(**kwargs)


@pytest.mark.parametrize("user_id", ["", ".", ".."], ids=["empty", "dot", "dot-dot"])
def test_bad_user_ids_are_refused_before_sending(clerk: ClerkClient, user_id: str) -> None:
    with pytest.raises(ValueError, match="user_id"):
        clerk.get(user_id)


def test_update_metadata_needs_something(clerk: ClerkClient) -> None:
    with pytest.raises(ValueError, match="at least one"):
        clerk.update_metadata("user_1")


def test_iter_pages_by_offset_lazily(rsps: responses.RequestsMock, clerk: ClerkClient) -> None:
    pages = [[{"id": "u1"}, {"id": "u2"}], [{"id": "u3"}, {"id": "u4"}], [{"id": "u5"}]]
    for page in pages:
        rsps.add("GET", f"{API}/users", json=page)
    users = clerk.iter(email_address=["a@x.test"], order_by="created_at", limit=2)
    assert next(users) == {"id": "u1"}
    assert len(rsps.calls) == 1  # lazily: one page so far
    assert [u["id"] for u in users] == ["u2", "u3", "u4", "u5"]
    assert [c.request.url for c in rsps.calls] == [
        f"{API}/users?email_address=a%40x.test&order_by=created_at&limit=2&offset={offset}"
        for offset in (0, 2, 4)
    ]


def test_iter_stops_on_an_empty_page(rsps: responses.RequestsMock, clerk: ClerkClient) -> None:
    rsps.add("GET", f"{API}/users", json=[{"id": "u1"}, {"id": "u2"}])
    rsps.add("GET", f"{API}/users", json=[])
    assert [u["id"] for u in clerk.iter(limit=2, offset=10)] == ["u1", "u2"]
    assert [c.request.url for c in rsps.calls] == [
        f"{API}/users?limit=2&offset=10",
        f"{API}/users?limit=2&offset=12",
    ]


def test_iter_default_page_size(rsps: responses.RequestsMock, clerk: ClerkClient) -> None:
    rsps.add("GET", f"{API}/users", json=[])
    assert list(clerk.iter()) == []
    assert rsps.calls[0].request.url == f"{API}/users?limit=100&offset=0"


def _error(code: str, message: str, long_message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "long_message": long_message, "meta": {}}


# id, status, body, headers, class, code, message, long_message, trace_id, retry_after
ERRORS: list[
    tuple[str, int, Any, dict[str, str], type[IdGuardAPIError], Any, Any, Any, Any, Any]
] = [
    (
        "404-not-found",
        404,
        {
            "errors": [_error("resource_not_found", "not found", "User not found")],
            "clerk_trace_id": "trace-404",
        },
        {},
        APINotFound,
        "resource_not_found",
        "not found",
        "User not found",
        "trace-404",
        None,
    ),
    (
        "422-form-error-keeps-every-error",
        422,
        {
            "errors": [
                _error("form_identifier_exists", "taken", "That email address is taken."),
                _error("form_password_pwned", "pwned", "Password found in a breach."),
            ],
            "clerk_trace_id": "trace-422",
        },
        {},
        APIRequestInvalid,
        "form_identifier_exists",
        "taken",
        "That email address is taken.",
        "trace-422",
        None,
    ),
    (
        "401-trace-id-from-cf-ray",
        401,
        {"errors": [_error("authentication_invalid", "unauthorized", "Invalid secret key")]},
        {"cf-ray": "8f1e2d3c4b5a6978-AMS"},
        APIAuthenticationFailed,
        "authentication_invalid",
        "unauthorized",
        "Invalid secret key",
        "8f1e2d3c4b5a6978-AMS",
        None,
    ),
    (
        "403-permission",
        403,
        {"errors": [_error("authorization_invalid", "forbidden", "Not allowed")]},
        {},
        APIPermissionDenied,
        "authorization_invalid",
        "forbidden",
        "Not allowed",
        None,
        None,
    ),
    (
        "429-longer-than-max-wait-is-not-waited-for",
        429,
        {"errors": [_error("too_many_requests", "Too many requests", "Rate limit exceeded")]},
        {"Retry-After": "30"},
        APIRateLimited,
        "too_many_requests",
        "Too many requests",
        "Rate limit exceeded",
        None,
        30.0,
    ),
    (
        "400-unknown-body-shape",
        400,
        {"errors": "nope"},
        {},
        APIRequestInvalid,
        None,
        "Bad Request",
        None,
        None,
        None,
    ),
    (
        "418-unmapped-status-is-the-base-class",
        418,
        {"errors": [_error("teapot", "short and stout", "I am a teapot")]},
        {},
        IdGuardAPIError,
        "teapot",
        "short and stout",
        "I am a teapot",
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("status", "body", "headers", "cls", "code", "message", "long_message", "trace", "after"),
    [row[1:] for row in ERRORS],
    ids=[row[0] for row in ERRORS],
)
def test_error_mapping(
    rsps: responses.RequestsMock,
    clerk: ClerkClient,
    status: int,
    body: Any,
    headers: dict[str, str],
    cls: type[IdGuardAPIError],
    code: str | None,
    message: str,
    long_message: str | None,
    trace: str | None,
    after: float | None,
) -> None:
    rsps.add("GET", f"{API}/users/user_1", json=body, status=status, headers=headers)
    with pytest.raises(IdGuardAPIError) as info:
        clerk.get("user_1")
    err = info.value
    assert type(err) is cls
    assert (err.status, err.code, err.message, err.long_message) == (
        status,
        code,
        message,
        long_message,
    )
    assert (err.trace_id, err.retry_after) == (trace, after)
    assert len(rsps.calls) == 1  # a 4xx is never retried
    if isinstance(body.get("errors"), list):
        assert list(err.errors) == body["errors"]
    assert str(err).startswith(f"GET /users/user_1: HTTP {status}")


def test_5xx_on_a_write_is_a_server_error_at_once(
    rsps: responses.RequestsMock, clerk: ClerkClient
) -> None:
    rsps.add("DELETE", f"{API}/users/user_1", body="<html>oops</html>", status=502)
    with pytest.raises(APIServerError) as info:
        clerk.delete("user_1")
    assert (info.value.status, info.value.code, info.value.message) == (502, None, "Bad Gateway")
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    ("answer", "path", "call"),
    [
        ("not json", "/users/user_1", lambda c: c.get("user_1")),
        (json.dumps([1]), "/users/user_1", lambda c: c.get("user_1")),
        (json.dumps({"users": []}), "/users", lambda c: c.list()),
        (json.dumps([1]), "/users", lambda c: c.list()),
        (json.dumps({"object": "total_count"}), "/users/count", lambda c: c.count()),
        (json.dumps({"total_count": True}), "/users/count", lambda c: c.count()),
    ],
    ids=[
        "not-json",
        "array-for-object",
        "object-for-array",
        "array-of-non-objects",
        "no-total",
        "bool-total",
    ],
)
def test_unexpected_answers_are_api_errors(
    rsps: responses.RequestsMock, clerk: ClerkClient, answer: str, path: str, call: Call
) -> None:
    rsps.add(responses.GET, f"{API}{path}", body=answer)
    with pytest.raises(IdGuardAPIError) as info:
        call(clerk)
    assert type(info.value) is IdGuardAPIError


def test_user_from_clerk() -> None:
    user = User.from_clerk(USER)
    assert (user.id, user.provider, user.email, user.username) == (
        "user_1",
        "clerk",
        "ada@example.com",
        "ada",
    )
    assert (user.first_name, user.last_name, user.full_name) == ("Ada", "Lovelace", "Ada Lovelace")
    assert user.image_url == "https://img.clerk.com/ada.png"
    assert dict(user.public_metadata) == {"role": "admin"}
    assert dict(user.private_metadata) == {"stripe": "cus_1"}
    assert dict(user.unsafe_metadata) == {"theme": "dark"}
    assert dict(user.raw) == USER


def test_user_from_a_sparse_clerk_object() -> None:
    user = User.from_clerk({"id": "user_2", "email_addresses": [], "public_metadata": None})
    assert (user.email, user.full_name, dict(user.public_metadata)) == (None, None, {})
    with pytest.raises(ValueError, match="'id'"):
        User.from_clerk({"email_addresses": []})


def test_user_accessor(rsps: responses.RequestsMock, clerk: ClerkClient) -> None:
    rsps.add("GET", f"{API}/users/user_1", json=USER)
    assert clerk.user("user_1") == User.from_clerk(USER)


def test_the_secret_key_never_shows(
    rsps: responses.RequestsMock, clerk: ClerkClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.add("GET", f"{API}/users/user_1", json={"errors": []}, status=401)
    rsps.add("GET", f"{API}/users", body=requests.ConnectionError("connection refused"))
    errors: list[IdGuardAPIError] = []
    with pytest.raises(APIAuthenticationFailed) as auth:
        clerk.get("user_1")
    errors.append(auth.value)
    with pytest.raises(APIConnectionError) as conn:
        clerk.list()
    errors.append(conn.value)
    shown = [repr(clerk), str(clerk), caplog.text] + [f"{e}{e!r}{e.args}" for e in errors]
    assert caplog.text  # failures are logged...
    assert not [text for text in shown if SECRET in text]  # ...without the key
