"""Auth0ManagementClient: client credentials, the exact wire requests, pagination and its
1000-user cap, error mapping, the token shared across threads, no secret anywhere."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
import time_machine

from flask_idguard import APIAuthenticationFailed
from flask_idguard import APINotFound
from flask_idguard import APIPaginationLimit
from flask_idguard import APIPermissionDenied
from flask_idguard import APIRateLimited
from flask_idguard import APIRequestInvalid
from flask_idguard import Auth0ManagementClient
from flask_idguard import IdGuardAPIError
from flask_idguard import User
from flask_idguard.clients.base import USER_AGENT

DOMAIN = "tenant.eu.auth0.com"
ROOT = f"https://{DOMAIN}"
API = f"{ROOT}/api/v2"
CLIENT_SECRET = "c2VjcmV0LWNsaWVudC1zZWNyZXQtdmFsdWU"
MGMT_TOKEN = "eyJ.management-token.value"
USER = {
    "user_id": "auth0|123",
    "email": "ada@example.com",
    "username": "ada",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "name": "Ada Lovelace",
    "picture": "https://s.gravatar.com/ada.png",
    "app_metadata": {"plan": "pro"},
    "user_metadata": {"theme": "dark"},
}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def token_answer(
    rsps: responses.RequestsMock, token: str = MGMT_TOKEN, expires_in: int = 86400
) -> None:
    rsps.add(
        "POST",
        f"{ROOT}/oauth/token",
        json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
    )


@pytest.fixture
def auth0() -> Auth0ManagementClient:
    return Auth0ManagementClient(DOMAIN, "client-1", CLIENT_SECRET)


def test_client_credentials_then_bearer(
    rsps: responses.RequestsMock, auth0: Auth0ManagementClient
) -> None:
    token_answer(rsps)
    rsps.add("GET", f"{API}/users/auth0%7C123", json=USER)
    assert auth0.get("auth0|123") == USER
    token_call, api_call = (c.request for c in rsps.calls)
    assert (token_call.method, token_call.url) == ("POST", f"{ROOT}/oauth/token")
    assert token_call.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert parse_qs(str(token_call.body)) == {
        "grant_type": ["client_credentials"],
        "audience": [f"{ROOT}/api/v2/"],
        "client_id": ["client-1"],
        "client_secret": [CLIENT_SECRET],
    }
    assert "Authorization" not in token_call.headers
    assert api_call.headers["Authorization"] == f"Bearer {MGMT_TOKEN}"
    assert api_call.headers["User-Agent"] == USER_AGENT


Call = Callable[[Auth0ManagementClient], Any]

# id, call, method, URL as sent, JSON body sent (None: no body), answer status, answer, result
WIRE: list[tuple[str, Call, str, str, Any, int, Any, Any]] = [
    ("get", lambda c: c.get("auth0|123"), "GET", f"{API}/users/auth0%7C123", None, 200, USER, USER),
    (
        "get-with-fields",
        lambda c: c.get("google-oauth2|9", fields=["email", "name"], include_fields=True),
        "GET",
        f"{API}/users/google-oauth2%7C9?fields=email%2Cname&include_fields=true",
        None,
        200,
        USER,
        USER,
    ),
    (
        "list-bare-array",
        lambda c: c.list(page=1, per_page=50, sort="created_at:-1"),
        "GET",
        f"{API}/users?page=1&per_page=50&sort=created_at%3A-1",
        None,
        200,
        [USER],
        [USER],
    ),
    (
        "list-search-adds-v3",
        lambda c: c.list(q='email:"ada@example.com"', include_totals=False, connection=None),
        "GET",
        f"{API}/users?q=email%3A%22ada%40example.com%22&include_totals=false&search_engine=v3",
        None,
        200,
        [USER],
        [USER],
    ),
    (
        "list-with-totals-returns-the-users",
        lambda c: c.list(include_totals=True),
        "GET",
        f"{API}/users?include_totals=true",
        None,
        200,
        {"start": 0, "limit": 50, "length": 1, "total": 1, "users": [USER]},
        [USER],
    ),
    (
        "count",
        lambda c: c.count(q="logins_count:[100 TO 200]"),
        "GET",
        f"{API}/users?q=logins_count%3A%5B100+TO+200%5D&page=0&per_page=1&include_totals=true"
        "&search_engine=v3",
        None,
        200,
        {"start": 0, "limit": 1, "length": 1, "total": 17, "users": [USER]},
        17,
    ),
    (
        "create",
        lambda c: c.create(connection="Username-Password-Authentication", email="a@x.test"),
        "POST",
        f"{API}/users",
        {"connection": "Username-Password-Authentication", "email": "a@x.test"},
        201,
        USER,
        USER,
    ),
    (
        "update",
        lambda c: c.update("auth0|123", blocked=True),
        "PATCH",
        f"{API}/users/auth0%7C123",
        {"blocked": True},
        200,
        USER,
        USER,
    ),
    (
        "update-metadata",
        lambda c: c.update_metadata("auth0|123", public={"plan": None}, unsafe={"theme": "x"}),
        "PATCH",
        f"{API}/users/auth0%7C123",
        {"app_metadata": {"plan": None}, "user_metadata": {"theme": "x"}},
        200,
        USER,
        USER,
    ),
    (
        "delete",
        lambda c: c.delete("auth0|123"),
        "DELETE",
        f"{API}/users/auth0%7C123",
        None,
        204,
        None,
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
    call: Call,
    method: str,
    url: str,
    body: Any,
    status: int,
    answer: Any,
    result: Any,
) -> None:
    client = Auth0ManagementClient(DOMAIN, token=MGMT_TOKEN)
    if answer is None:
        rsps.add(method, url.split("?")[0], status=status)
    else:
        rsps.add(method, url.split("?")[0], json=answer, status=status)
    assert call(client) == result
    assert len(rsps.calls) == 1
    sent = rsps.calls[0].request
    assert (sent.method, sent.url) == (method, url)
    assert sent.headers["Authorization"] == f"Bearer {MGMT_TOKEN}"
    assert sent.headers["User-Agent"] == USER_AGENT
    assert sent.headers["Accept"] == "application/json"
    if body is None:
        assert sent.body is None
    else:
        assert sent.headers["Content-Type"] == "application/json"
        assert json.loads(sent.body or "") == body


def test_base_url_replaces_the_domain_but_not_the_audience(rsps: responses.RequestsMock) -> None:
    base = "http://127.0.0.1:9000"
    rsps.add("POST", f"{base}/oauth/token", json={"access_token": "t", "expires_in": 60})
    rsps.add("GET", f"{base}/api/v2/users/auth0%7C1", json=USER)
    client = Auth0ManagementClient(DOMAIN, "client-1", CLIENT_SECRET, base_url=base)
    assert client.get("auth0|1") == USER
    assert parse_qs(str(rsps.calls[0].request.body))["audience"] == [f"{ROOT}/api/v2/"]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((DOMAIN,), {}, "client_id and client_secret"),
        ((DOMAIN, "client-1"), {}, "client_id and client_secret"),
        (("http://tenant.auth0.com", "c", "s"), {}, "https"),
        ((DOMAIN, "c", "s"), {"base_url": "http://proxy.example.com"}, "http://"),
    ],
    ids=["no-credentials", "id-without-secret", "plain-http-domain", "plain-http-base-url"],
)
def test_bad_arguments_are_refused(
    args: tuple[str, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Auth0ManagementClient(*args, **kwargs)


def test_private_metadata_is_refused(auth0: Auth0ManagementClient) -> None:
    with pytest.raises(ValueError, match="no private metadata"):
        auth0.update_metadata("auth0|1", private={"x": 1})
    with pytest.raises(ValueError, match="public="):
        auth0.update_metadata("auth0|1")


def _page(users: list[dict[str, Any]], start: int, total: int) -> dict[str, Any]:
    return {"start": start, "limit": 2, "length": len(users), "total": total, "users": users}


def test_iter_pages_with_totals(rsps: responses.RequestsMock) -> None:
    client = Auth0ManagementClient(DOMAIN, token=MGMT_TOKEN)
    pages = [[{"user_id": "a"}, {"user_id": "b"}], [{"user_id": "c"}, {"user_id": "d"}]]
    pages.append([{"user_id": "e"}])
    for number, users in enumerate(pages):
        rsps.add("GET", f"{API}/users", json=_page(users, number * 2, 5))
    found = client.iter(q="email:*@x.test", per_page=2)
    assert next(found) == {"user_id": "a"}
    assert len(rsps.calls) == 1
    assert [u["user_id"] for u in found] == ["b", "c", "d", "e"]
    assert [c.request.url for c in rsps.calls] == [
        f"{API}/users?q=email%3A%2A%40x.test&page={n}&per_page=2&include_totals=true"
        "&search_engine=v3"
        for n in range(3)
    ]


def test_iter_stops_when_the_total_is_reached(rsps: responses.RequestsMock) -> None:
    client = Auth0ManagementClient(DOMAIN, token=MGMT_TOKEN)
    rsps.add("GET", f"{API}/users", json=_page([{"user_id": "a"}, {"user_id": "b"}], 0, 2))
    assert [u["user_id"] for u in client.iter(per_page=2)] == ["a", "b"]
    assert len(rsps.calls) == 1


def test_iter_refuses_a_query_over_the_1000_cap_before_yielding(
    rsps: responses.RequestsMock,
) -> None:
    client = Auth0ManagementClient(DOMAIN, token=MGMT_TOKEN)
    rsps.add("GET", f"{API}/users", json=_page([{"user_id": "a"}], 0, 1500))
    with pytest.raises(APIPaginationLimit, match="1500 users match"):
        next(client.iter())
    assert rsps.calls[0].request.url == f"{API}/users?page=0&per_page=100&include_totals=true"


def test_iter_at_exactly_the_cap_is_complete(rsps: responses.RequestsMock) -> None:
    client = Auth0ManagementClient(DOMAIN, token=MGMT_TOKEN)
    for page in range(10):
        users = [{"user_id": f"u{page * 100 + i}"} for i in range(100)]
        rsps.add("GET", f"{API}/users", json=_page(users, page * 100, 1000))
    assert len(list(client.iter())) == 1000
    assert len(rsps.calls) == 10


# id, status, body, headers, class, code, message
ERRORS: list[tuple[str, int, Any, dict[str, str], type[IdGuardAPIError], Any, Any]] = [
    (
        "404-inexistent-user",
        404,
        {
            "statusCode": 404,
            "error": "Not Found",
            "message": "The user does not exist.",
            "errorCode": "inexistent_user",
        },
        {},
        APINotFound,
        "inexistent_user",
        "The user does not exist.",
    ),
    (
        "400-payload-validation",
        400,
        {
            "statusCode": 400,
            "error": "Bad Request",
            "message": "Payload validation error: 'Invalid email'.",
            "errorCode": "invalid_body",
        },
        {},
        APIRequestInvalid,
        "invalid_body",
        "Payload validation error: 'Invalid email'.",
    ),
    (
        "403-insufficient-scope",
        403,
        {
            "statusCode": 403,
            "error": "Forbidden",
            "message": "Insufficient scope, expected any of: read:users",
            "errorCode": "insufficient_scope",
        },
        {},
        APIPermissionDenied,
        "insufficient_scope",
        "Insufficient scope, expected any of: read:users",
    ),
    (
        "409-user-exists",
        409,
        {"statusCode": 409, "error": "Conflict", "message": "The user already exists."},
        {},
        APIRequestInvalid,
        "Conflict",
        "The user already exists.",
    ),
]


@pytest.mark.parametrize(
    ("status", "body", "headers", "cls", "code", "message"),
    [row[1:] for row in ERRORS],
    ids=[row[0] for row in ERRORS],
)
def test_error_mapping(
    rsps: responses.RequestsMock,
    status: int,
    body: Any,
    headers: dict[str, str],
    cls: type[IdGuardAPIError],
    code: str,
    message: str,
) -> None:
    client = Auth0ManagementClient(DOMAIN, token=MGMT_TOKEN)
    rsps.add("GET", f"{API}/users/auth0%7C1", json=body, status=status, headers=headers)
    with pytest.raises(IdGuardAPIError) as info:
        client.get("auth0|1")
    err = info.value
    assert type(err) is cls
    assert (err.status, err.code, err.message, err.long_message) == (status, code, message, None)
    assert err.errors == (body,)
    assert len(rsps.calls) == 1


def test_429_with_a_distant_rate_limit_reset(rsps: responses.RequestsMock) -> None:
    client = Auth0ManagementClient(DOMAIN, token=MGMT_TOKEN)
    with time_machine.travel(1_800_000_000, tick=False):
        rsps.add(
            "GET",
            f"{API}/users/auth0%7C1",
            status=429,
            json={"statusCode": 429, "error": "Too Many Requests", "message": "Global limit"},
            headers={
                "X-RateLimit-Limit": "10",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "1800000060",
            },
        )
        with pytest.raises(APIRateLimited) as info:
            client.get("auth0|1")
    assert (info.value.status, info.value.retry_after) == (429, 60.0)
    assert len(rsps.calls) == 1  # 60 s is over max_retry_wait: not waited for


def test_token_cached_until_shortly_before_expiry(
    rsps: responses.RequestsMock, auth0: Auth0ManagementClient
) -> None:
    token_answer(rsps, "first")
    token_answer(rsps, "second")
    rsps.add("GET", f"{API}/users/auth0%7C1", json=USER)
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        auth0.get("auth0|1")
        clock.shift(86400 - 301)
        auth0.get("auth0|1")
        clock.shift(2)  # within the last 300 s (a tenth of a day, capped at 5 min)
        auth0.get("auth0|1")
    sent = [c.request for c in rsps.calls]
    assert [r.method for r in sent] == ["POST", "GET", "GET", "POST", "GET"]
    assert [r.headers["Authorization"] for r in sent if r.method == "GET"] == [
        "Bearer first",
        "Bearer first",
        "Bearer second",
    ]


def test_a_401_fetches_a_new_token_once(
    rsps: responses.RequestsMock, auth0: Auth0ManagementClient
) -> None:
    token_answer(rsps, "revoked")
    token_answer(rsps, "fresh")
    rsps.add("PATCH", f"{API}/users/auth0%7C1", status=401, json={"statusCode": 401})
    rsps.add("PATCH", f"{API}/users/auth0%7C1", json=USER)
    assert auth0.update("auth0|1", name="Ada") == USER
    sent = [(c.request.method, c.request.headers.get("Authorization")) for c in rsps.calls]
    assert sent == [
        ("POST", None),
        ("PATCH", "Bearer revoked"),
        ("POST", None),
        ("PATCH", "Bearer fresh"),
    ]


def test_a_second_401_is_an_error_not_a_loop(
    rsps: responses.RequestsMock, auth0: Auth0ManagementClient
) -> None:
    token_answer(rsps)
    body = {"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"}
    rsps.add("GET", f"{API}/users/auth0%7C1", status=401, json=body)
    with pytest.raises(APIAuthenticationFailed, match="Invalid token"):
        auth0.get("auth0|1")
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "POST", "GET"]


def test_a_given_token_is_not_renewed(rsps: responses.RequestsMock) -> None:
    client = Auth0ManagementClient(DOMAIN, token=MGMT_TOKEN)
    rsps.add("GET", f"{API}/users/auth0%7C1", status=401, json={"message": "Expired token"})
    with pytest.raises(APIAuthenticationFailed):
        client.get("auth0|1")
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "message"),
    [
        (
            401,
            {"error": "access_denied", "error_description": "Unauthorized"},
            APIAuthenticationFailed,
            "access_denied",
            "Unauthorized",
        ),
        (
            403,
            {"error": "unauthorized_client", "error_description": "Grant type not allowed"},
            APIPermissionDenied,
            "unauthorized_client",
            "Grant type not allowed",
        ),
        (200, {"token_type": "Bearer"}, IdGuardAPIError, None, "no access_token in the answer"),
        (200, {"error": "invalid_request"}, APIAuthenticationFailed, "invalid_request", None),
    ],
    ids=["401-access-denied", "403-grant-not-allowed", "no-access-token", "200-with-error"],
)
def test_token_endpoint_errors(
    rsps: responses.RequestsMock,
    auth0: Auth0ManagementClient,
    status: int,
    body: Any,
    cls: type[IdGuardAPIError],
    code: str | None,
    message: str | None,
) -> None:
    rsps.add("POST", f"{ROOT}/oauth/token", status=status, json=body)
    with pytest.raises(IdGuardAPIError) as info:
        auth0.get("auth0|1")
    assert type(info.value) is cls
    assert info.value.code == code
    if message is not None:
        assert info.value.message == message
    assert info.value.path == "/oauth/token"


def test_concurrent_first_calls_fetch_one_token(
    rsps: responses.RequestsMock, auth0: Auth0ManagementClient
) -> None:
    fetches = 0

    def token(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        nonlocal fetches
        fetches += 1
        time.sleep(0.05)  # hold the fetch open while the other threads arrive
        return 200, {}, json.dumps({"access_token": f"tok-{fetches}", "expires_in": 86400})

    rsps.add_callback("POST", f"{ROOT}/oauth/token", callback=token)
    rsps.add("GET", f"{API}/users/auth0%7C1", json=USER)
    barrier = threading.Barrier(8)
    results: list[Any] = []

    def work() -> None:
        barrier.wait()
        results.append(auth0.get("auth0|1"))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [USER] * 8
    assert fetches == 1
    gets = [c.request for c in rsps.calls if c.request.method == "GET"]
    assert {r.headers["Authorization"] for r in gets} == {"Bearer tok-1"}


def test_user_from_auth0() -> None:
    user = User.from_auth0(USER)
    assert (user.id, user.provider, user.email, user.username) == (
        "auth0|123",
        "auth0",
        "ada@example.com",
        "ada",
    )
    assert (user.first_name, user.last_name, user.full_name) == ("Ada", "Lovelace", "Ada Lovelace")
    assert user.image_url == "https://s.gravatar.com/ada.png"
    assert dict(user.public_metadata) == {"plan": "pro"}
    assert dict(user.unsafe_metadata) == {"theme": "dark"}
    assert dict(user.private_metadata) == {}
    assert dict(user.raw) == USER


def test_secrets_never_show(rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = Auth0ManagementClient(DOMAIN, "client-1", CLIENT_SECRET)
    rsps.add(
        "POST",
        f"{ROOT}/oauth/token",
        json={"access_token": MGMT_TOKEN, "expires_in": 86400},
    )
    rsps.add(
        "POST",
        f"{ROOT}/oauth/token",
        status=401,
        json={"error": "access_denied", "error_description": "Unauthorized"},
    )
    rsps.add("GET", f"{API}/users/auth0%7C1", status=401, json={"message": "Invalid token"})
    with pytest.raises(APIAuthenticationFailed) as info:
        client.get("auth0|1")
    fixed = Auth0ManagementClient(DOMAIN, token=MGMT_TOKEN)
    shown = [repr(client), str(client), repr(fixed), caplog.text]
    shown += [str(info.value), repr(info.value), str(info.value.args)]
    assert "access_denied" in str(info.value)
    assert not [t for t in shown if CLIENT_SECRET in t or MGMT_TOKEN in t]
