"""The handshake: redirect URL, resolution of nonce and token results, refresh (clerk.md §1.10,
§2, §7.2, §7.3, §11.8–§11.10, §11.20, §11.22)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from flask_idguard.testing import TestIssuer

from .conftest import FAPI
from .conftest import IAT
from .conftest import PK_LIVE
from .conftest import SESSION
from .conftest import SUFFIX_LIVE
from .conftest import Clerk

LIVE = {"CLERK_PUBLISHABLE_KEY": PK_LIVE, "CLERK_SECRET_KEY": "sk_live_deadbeef"}
DEV_COOKIES = {"__clerk_db_jwt": "deadbeef", "__client_uat": str(IAT - 10)}
EXPIRED_REASON = "session-token-expired-refresh-non-eligible-no-refresh-cookie"


def cookies(**values: str) -> str:
    return "; ".join(f"{k}={v}" for k, v in values.items())


# -- the redirect URL -----------------------------------------------------------------------


def test_dev_handshake_url_has_clerks_parameters_in_clerks_order(clerk: Clerk) -> None:
    token = clerk.jwt()
    answer = clerk.request(
        clerk.app(), cookies=cookies(**DEV_COOKIES, __session=token), now=IAT + 3600
    )
    assert answer.status_code == 307
    assert answer.location_base == f"https://{FAPI}/v1/client/handshake"
    assert answer.location_params == [
        ("redirect_url", "http://example.com/path"),
        ("__clerk_api_version", "2026-05-12"),
        ("suffixed_cookies", "false"),
        ("__clerk_hs_reason", EXPIRED_REASON),
        ("format", "nonce"),
        ("__session", token),
        ("__clerk_db_jwt", "deadbeef"),
    ]
    assert answer.message.startswith("JWT is expired. Expiry date: ")
    assert answer.message.endswith("(reason=token-expired, token-carrier=cookie)")


def test_prod_handshake_url_has_no_dev_browser_and_keeps_path_and_query(clerk: Clerk) -> None:
    token = clerk.jwt()
    answer = clerk.request(
        clerk.app(**LIVE),
        "/hello?foo=bar&__clerk_db_jwt=x&__dev_session=y&a",
        cookies=cookies(__client_uat="1", __session=token),
        now=IAT + 3600,
    )
    params = dict(answer.location_params)
    assert params["redirect_url"] == "http://example.com/hello?foo=bar&a="
    assert "__clerk_db_jwt" not in params
    assert params["__session"] == token


def test_header_token_handshake_carries_the_header_token(clerk: Clerk) -> None:
    token = clerk.jwt()
    answer = clerk.request(
        clerk.app(**LIVE), headers={"Authorization": f"Bearer {token}"}, now=IAT + 3600
    )
    assert answer.reason == EXPIRED_REASON
    assert dict(answer.location_params)["__session"] == token


def test_no_session_token_no_session_parameter(clerk: Clerk) -> None:
    answer = clerk.request(clerk.app(**LIVE), cookies="__client_uat=1")
    assert answer.reason == "client-uat-but-no-session-token"
    assert "__session" not in dict(answer.location_params)


@pytest.mark.parametrize(
    ("headers", "redirect_url"),
    [
        ({}, "http://example.com/hello?foo=bar"),
        (
            {"X-Forwarded-Host": "example.com", "X-Forwarded-Proto": "https"},
            "https://example.com/hello?foo=bar",
        ),
        (
            {"X-Forwarded-Host": "example.com:3213", "X-Forwarded-Proto": "https"},
            "https://example.com:3213/hello?foo=bar",
        ),
        (
            {"X-Forwarded-Host": "app.test, proxy.internal", "X-Forwarded-Proto": "https,http"},
            "https://app.test/hello?foo=bar",
        ),
        ({"X-Forwarded-Host": "evil.test/x?y"}, "http://example.com/hello?foo=bar"),
        ({"X-Forwarded-Host": "example.com:99999"}, "http://example.com/hello?foo=bar"),
    ],
    ids=["host", "forwarded", "forwarded-port", "first-values", "bad-host", "bad-port"],
)
def test_redirect_url_is_the_public_url(
    clerk: Clerk, headers: dict[str, str], redirect_url: str
) -> None:
    answer = clerk.request(
        clerk.app(**LIVE), "/hello?foo=bar", headers=headers, cookies="__client_uat=1"
    )
    assert dict(answer.location_params)["redirect_url"] == redirect_url


@pytest.mark.parametrize(
    ("config", "base"),
    [
        ({"CLERK_PROXY_URL": "https://example.com/clerk"}, "https://example.com/clerk"),
        ({"CLERK_PROXY_URL": "https://example.com/clerk///"}, "https://example.com/clerk"),
        ({"CLERK_PROXY_URL": "/__clerk"}, "https://myapp.example.com/__clerk"),
        ({"CLERK_DOMAIN": "example.com"}, f"https://{FAPI}"),
        (
            {"CLERK_DOMAIN": "example.com", "CLERK_IS_SATELLITE": True},
            "https://clerk.example.com",
        ),
    ],
    ids=["proxy", "proxy-trailing-slashes", "relative-proxy", "domain-ignored", "satellite"],
)
def test_handshake_base(clerk: Clerk, config: dict[str, Any], base: str) -> None:
    answer = clerk.request(
        clerk.app(**LIVE, **config),
        headers={"X-Forwarded-Host": "myapp.example.com", "X-Forwarded-Proto": "https"},
        cookies="__client_uat=1",
    )
    assert answer.location_base == f"{base}/v1/client/handshake"


# -- resolution: the handshake token ----------------------------------------------------------


def handshake_token(issuer: TestIssuer, directives: object, **header: object) -> str:
    return issuer.sign_raw({"alg": "RS256", "typ": "JWT", "kid": issuer.kid, **header},
                           {"handshake": directives})  # fmt: skip


def test_dev_handshake_result_redirects_to_the_cleaned_url_with_the_cookies(
    clerk: Clerk,
) -> None:
    session = clerk.jwt()
    directives = [f"__session={session};path=/", "foo=bar;path=/;domain=example.com"]
    token = handshake_token(clerk.issuer, directives)
    answer = clerk.request(
        clerk.app(),
        f"/path?a=1&__clerk_handshake={token}&__clerk_help=1&__dev_session=k#frag",
        cookies="__clerk_db_jwt=deadbeef",
    )
    assert answer.status_code == 307
    assert answer.location == "http://example.com/path?a=1&__dev_session=k"
    assert answer.set_cookies == directives
    assert answer.headers["Access-Control-Allow-Origin"] == "null"
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "x-clerk-auth-status" not in answer.headers


@pytest.mark.parametrize("shift", [-3600, 3600], ids=["clock-behind", "clock-ahead"])
def test_dev_handshake_result_tolerates_a_skewed_clock(clerk: Clerk, shift: int) -> None:
    token = handshake_token(clerk.issuer, [f"__session={clerk.jwt()}; Path=/"])
    answer = clerk.request(clerk.app(), f"/path?__clerk_handshake={token}", now=IAT + shift)
    assert answer.status_code == 307
    assert "x-clerk-auth-status" not in answer.headers


def test_dev_handshake_signed_by_another_key_is_refused_with_a_400(clerk: Clerk) -> None:
    other = TestIssuer(f"https://{FAPI}", audience=None)
    token = handshake_token(other, [f"__session={clerk.jwt()}"])
    app = clerk.app()
    answer = clerk.request(app, f"/path?__clerk_handshake={token}")
    assert answer.status_code == 400  # Clerk throws (a 500): a deliberate difference
    assert (answer.status, answer.reason) == ("signed-out", "handshake-token-invalid")
    assert "invalid signature" in answer.headers["x-clerk-auth-message"]
    assert answer.set_cookies == []


def test_dev_handshake_with_a_template_category_is_refused_with_a_400(clerk: Clerk) -> None:
    token = handshake_token(clerk.issuer, ["__session=x"], cat="cl_B7d4PD222AAA")
    assert clerk.request(clerk.app(), f"/path?__clerk_handshake={token}").status_code == 400


def test_prod_handshake_cookie_is_applied_inline(clerk: Clerk) -> None:
    directives = [f"__session={clerk.jwt()}; Path=/", "__client_uat=1; Path=/"]
    token = handshake_token(clerk.issuer, directives)
    answer = clerk.request(clerk.app(**LIVE), cookies=f"__clerk_handshake={token}")
    assert answer.status_code == 200
    assert answer.state["status"] == "signed-in"
    assert answer.set_cookies == directives
    assert answer.headers["Access-Control-Allow-Origin"] == "null"
    assert "Cache-Control" not in answer.headers


@pytest.mark.parametrize(
    "forged",
    [
        "mismatched-keys",
        "template-category",
        "garbage",
        "expired-session-inside",
    ],
)
def test_prod_handshake_that_fails_falls_through_to_the_cookies(clerk: Clerk, forged: str) -> None:
    session = clerk.jwt()
    if forged == "mismatched-keys":
        token = handshake_token(TestIssuer(audience=None), [f"__session={session}"])
    elif forged == "template-category":
        token = handshake_token(clerk.issuer, [f"__session={session}"], cat="cl_B7d4PD222AAA")
    elif forged == "garbage":
        token = "not.a.jwt"
    else:
        token = handshake_token(clerk.issuer, [f"__session={clerk.jwt(iat=IAT - 7200)}"])
    answer = clerk.request(clerk.app(**LIVE), cookies=f"__clerk_handshake={token}")
    assert answer.status_code == 200
    assert (answer.status, answer.reason) == ("signed-out", "session-token-and-uat-missing")
    assert answer.set_cookies == []
    assert "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize(
    "directives",
    [[], "not-a-list", ["foo=bar"], ["__session=; Max-Age=0"]],
    ids=["empty", "not-a-list", "no-session", "session-deleted"],
)
def test_handshake_without_a_session_is_session_token_missing(
    clerk: Clerk, directives: object
) -> None:
    token = handshake_token(clerk.issuer, directives)
    answer = clerk.request(clerk.app(**LIVE), cookies=f"__clerk_handshake={token}")
    assert (answer.status, answer.reason) == ("signed-out", "session-token-missing")
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert answer.set_cookies == (directives if isinstance(directives, list) else [])
    dev = clerk.request(clerk.app(), f"/path?__clerk_handshake={token}")
    assert dev.status_code == 307 and dev.location == "http://example.com/path"
    assert dev.reason == "session-token-missing"


def test_handshake_is_resolved_for_any_method(clerk: Clerk) -> None:
    token = handshake_token(clerk.issuer, [f"__session={clerk.jwt()}"])
    answer = clerk.request(clerk.app(**LIVE), method="POST", cookies=f"__clerk_handshake={token}")
    assert answer.state["status"] == "signed-in"


def test_header_token_means_no_handshake_resolution(clerk: Clerk) -> None:
    token = handshake_token(clerk.issuer, ["__session=x"])
    answer = clerk.request(
        clerk.app(**LIVE),
        headers={"Authorization": f"Bearer {clerk.jwt()}"},
        cookies=f"__clerk_handshake={token}",
    )
    assert answer.state["status"] == "signed-in"
    assert answer.set_cookies == []


# -- resolution: the nonce ------------------------------------------------------------------


@responses.activate
def test_nonce_fetches_the_payload_from_the_backend_api(clerk: Clerk) -> None:
    directives = [f"__session={clerk.jwt()}; Path=/"]
    responses.get(
        "https://api.clerk.test/v1/clients/handshake_payload",
        json={"directives": directives},
        match=[responses.matchers.query_param_matcher({"nonce": "n0nce"})],
    )
    hs = handshake_token(clerk.issuer, ["__session=ignored"])
    answer = clerk.request(
        clerk.app(**LIVE), f"/path?__clerk_handshake_nonce=n0nce&__clerk_handshake={hs}"
    )
    assert answer.state["status"] == "signed-in"
    assert answer.set_cookies == directives
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer sk_live_deadbeef"
    assert sent.headers["Clerk-API-Version"] == "2026-05-12"


@responses.activate
def test_nonce_payload_error_is_an_empty_payload(clerk: Clerk) -> None:
    responses.get("https://api.clerk.test/v1/clients/handshake_payload", status=500)
    answer = clerk.request(clerk.app(**LIVE), cookies="__clerk_handshake_nonce=n0nce")
    assert (answer.status, answer.reason) == ("signed-out", "session-token-missing")


# -- refresh (§1.10, §11.22) ----------------------------------------------------------------


def refresh_url(sid: str = SESSION) -> str:
    return f"https://api.clerk.test/v1/sessions/{sid}/refresh"


@responses.activate
def test_expired_session_is_refreshed_with_the_suffixed_refresh_cookie(clerk: Clerk) -> None:
    fresh = clerk.jwt(iat=IAT + 3600)
    new_cookie = f"__session_{SUFFIX_LIVE}={fresh}; Path=/; Secure; SameSite=Lax"
    responses.post(refresh_url(), json={"object": "cookies", "cookies": [new_cookie]})
    expired = clerk.jwt()
    answer = clerk.request(
        clerk.app(**LIVE),
        cookies=cookies(
            __client_uat="12345",
            __session=expired,
            __refresh="unsuffixed-is-ignored",
            **{f"__refresh_{SUFFIX_LIVE}": "refresh-token"},
        ),
        now=IAT + 3600,
    )
    assert answer.state["status"] == "signed-in"
    assert answer.set_cookies == [new_cookie]
    sent = responses.calls[0].request
    assert sent.url == refresh_url()  # no suffixed_cookies parameter when unsuffixed
    body = json.loads(sent.body or b"{}")
    assert body["format"] == "cookie"
    assert (body["expired_token"], body["refresh_token"]) == (expired, "refresh-token")
    assert body["request_origin"] == "http://example.com"
    assert body["request_headers"]["host"] == ["example.com"]


@pytest.mark.parametrize(
    ("bapi", "reason"),
    [
        ({"status": 500, "json": {"errors": [{"code": "unexpected_error"}]}}, "fetch-error"),
        ({"status": 400, "json": {"errors": [{"code": "session_not_found"}]}}, "session_not_found"),
        ({"body": ConnectionError("reset")}, "fetch-error"),
        ({"json": {"object": "cookies", "cookies": ["foo=bar"]}}, "unexpected-sdk-error"),
    ],
    ids=["unexpected-error", "bapi-code", "unreachable", "no-session-cookie"],
)
@responses.activate
def test_failed_refresh_is_the_reason_suffix(
    clerk: Clerk, bapi: dict[str, Any], reason: str
) -> None:
    responses.post(refresh_url(), **bapi)
    answer = clerk.request(
        clerk.app(**LIVE),
        cookies=cookies(
            __client_uat="12345", __session=clerk.jwt(), **{f"__refresh_{SUFFIX_LIVE}": "r"}
        ),
        now=IAT + 3600,
    )
    assert (answer.status, answer.reason) == (
        "handshake",
        f"session-token-expired-refresh-{reason}",
    )


@responses.activate
def test_no_refresh_when_the_token_is_not_expired(clerk: Clerk) -> None:
    answer = clerk.request(
        clerk.app(**LIVE),
        cookies=cookies(__session=clerk.jwt(), **{f"__refresh_{SUFFIX_LIVE}": "r"}),
    )
    assert answer.reason == "session-token-but-no-client-uat"
    assert len(responses.calls) == 0
