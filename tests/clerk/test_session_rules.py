"""Cross-origin sync, organization sync, the auth object, decorators and hostile input
(clerk.md §1.6 steps 13–15, §4, §5, §7.1 "Cross-origin sync", §11.13, §11.14, §11.23)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard.errors import ConfigurationError

from .conftest import IAT
from .conftest import PK_LIVE
from .conftest import PK_TEST
from .conftest import SESSION
from .conftest import Clerk

LIVE = {"CLERK_PUBLISHABLE_KEY": PK_LIVE, "CLERK_SECRET_KEY": "sk_live_deadbeef"}
CROSS = "primary-domain-cross-origin-sync"

# (id, config, host, referer, extra headers, method, expected reason or None for signed-in)
CROSS_ORIGIN = [
    ("cross-origin-document", LIVE, "primary.com", "https://satellite.com/signin", {}, "GET",
     CROSS),
    ("cross-site-document", LIVE, "primary.com", "https://satellite.com/signin",
     {"Sec-Fetch-Site": "cross-site"}, "GET", CROSS),
    ("same-origin-referer", LIVE, "primary.com", "https://primary.com/signin", {}, "GET", None),
    ("same-origin-despite-cross-site-header", LIVE, "primary.com", "https://primary.com/x",
     {"Sec-Fetch-Site": "cross-site"}, "GET", None),
    ("no-referer-only-origin", LIVE, "primary.com", None, {"Origin": "https://satellite.com"},
     "GET", None),
    ("post-document", LIVE, "primary.com", "https://satellite.com/signin", {}, "POST", None),
    ("non-document", LIVE, "primary.com", "https://satellite.com/signin",
     {"Sec-Fetch-Dest": "empty"}, "GET", None),
    ("accept-html-only-never-triggers", LIVE, "primary.com", "https://satellite.com/signin",
     {"Sec-Fetch-Dest": None, "Accept": "text/html"}, "GET", None),
    ("invalid-referer", LIVE, "primary.com", "invalid-url-format", {}, "GET", None),
    ("unrelated-accounts-host", LIVE, "primary.com", "https://accounts.example.com/", {}, "GET",
     CROSS),
    ("dev-portal-on-dev", {}, "localhost:3000", "https://foo-bar-13.accounts.dev/sign-in", {},
     "GET", None),
    ("legacy-dev-portal-on-dev", {}, "localhost:3000", "https://accounts.foo-bar-13.lcl.dev/x",
     {}, "GET", None),
    ("dev-portal-on-prod", LIVE, "primary.com", "https://foo-bar-13.accounts.dev/sign-in", {},
     "GET", CROSS),
    ("legacy-dev-portal-on-prod", LIVE, "primary.com", "https://accounts.foo-bar-13.lcl.dev/x",
     {}, "GET", CROSS),
    ("derived-accounts-portal", {}, "localhost:3000", "https://accounts.inspired.puma-74.lcl.dev/",
     {}, "GET", None),
    ("frontend-api-host", LIVE, "primary.com", "https://clerk.inspired.puma-74.lcl.dev/v1/x", {},
     "GET", None),
    ("same-origin-localhost-dev", {}, "localhost:3000", "http://localhost:3000", {}, "GET", None),
    ("scheme-change-is-cross-origin", LIVE, "primary.com", "http://primary.com/x",
     {"X-Forwarded-Proto": "https"}, "GET", CROSS),
]  # fmt: skip


@pytest.mark.parametrize(
    ("config", "host", "referer", "headers", "method", "reason"),
    [row[1:] for row in CROSS_ORIGIN],
    ids=[row[0] for row in CROSS_ORIGIN],
)
def test_cross_origin_sync(
    clerk: Clerk,
    config: dict[str, Any],
    host: str,
    referer: str | None,
    headers: dict[str, Any],
    method: str,
    reason: str | None,
) -> None:
    sent: dict[str, Any] = {"Host": host, **headers}
    if referer is not None:
        sent["Referer"] = referer
    jar = f"__client_uat=12345; __session={clerk.jwt()}; __clerk_db_jwt=deadbeef"
    scheme = "http" if host.startswith("localhost") else "https"
    answer = clerk.request(
        clerk.app(**config),
        "/dashboard",
        method=method,
        headers=sent,
        cookies=jar,
        base_url=f"{scheme}://clerk.com",
    )
    if reason is None:
        assert answer.state["status"] == "signed-in", answer
    else:
        assert (answer.status, answer.reason) == ("handshake", reason)
        assert answer.message == "Cross-origin request from satellite domain requires handshake"


def test_cross_origin_needs_a_zero_redirect_counter(clerk: Clerk) -> None:
    jar = f"__client_uat=12345; __session={clerk.jwt()}; __clerk_redirect_count=1"
    answer = clerk.request(
        clerk.app(**LIVE),
        headers={"Host": "primary.com", "Referer": "https://satellite.com/"},
        cookies=jar,
    )
    assert answer.state["status"] == "signed-in"


def test_missing_azp_is_accepted_and_warned_about_once(
    clerk: Clerk, caplog: pytest.LogCaptureFixture
) -> None:
    app = clerk.app(**LIVE)
    jar = f"__client_uat=12345; __session={clerk.jwt(omit=('azp',))}"
    with caplog.at_level(logging.WARNING, "flask_idguard"):
        for _ in range(3):
            assert clerk.request(app, cookies=jar).state["status"] == "signed-in"
    assert sum("missing the azp claim" in r.getMessage() for r in caplog.records) == 1


# -- organization sync (§1.6 step 15, §11.14) ----------------------------------------------

ORG_SYNC = {
    "CLERK_ORGANIZATION_SYNC_OPTIONS": {
        "organization_patterns": ["/orgs/:slug", "/orgs/:slug/(.*)"],
        "personal_account_patterns": ["/me", "/me/(.*)"],
    }
}


@pytest.mark.parametrize(
    ("path", "claims", "expected"),
    [
        ("/orgs/acme", {"org_id": "org_1", "org_slug": "acme"}, None),
        ("/orgs/acme/settings/x", {"org_id": "org_1", "org_slug": "acme"}, None),
        ("/orgs/other", {"org_id": "org_1", "org_slug": "acme"}, "other"),
        ("/orgs/other/settings", {}, "other"),
        ("/me", {"org_id": "org_1", "org_slug": "acme"}, ""),
        ("/me/profile", {}, None),
        ("/elsewhere", {"org_id": "org_1"}, None),
    ],
)
def test_organization_sync(
    clerk: Clerk, path: str, claims: dict[str, Any], expected: str | None
) -> None:
    jar = f"__client_uat=12345; __session={clerk.jwt(claims)}"
    answer = clerk.request(clerk.app(**LIVE, **ORG_SYNC), path, cookies=jar)
    if expected is None:
        assert answer.state["status"] == "signed-in"
    else:
        assert (answer.status, answer.reason) == ("handshake", "active-organization-mismatch")
        assert answer.location_params[-1] == ("organization_id", expected)


def test_organization_sync_stops_at_three_redirects(clerk: Clerk) -> None:
    jar = f"__client_uat=12345; __session={clerk.jwt()}; __clerk_redirect_count=3"
    answer = clerk.request(clerk.app(**LIVE, **ORG_SYNC), "/orgs/other", cookies=jar)
    assert answer.state["status"] == "signed-in"


def test_organization_id_is_added_for_every_handshake_reason(clerk: Clerk) -> None:
    answer = clerk.request(clerk.app(**LIVE, **ORG_SYNC), "/orgs/acme", cookies="__client_uat=1")
    assert answer.reason == "client-uat-but-no-session-token"
    assert answer.location_params[-1] == ("organization_id", "acme")


def test_organization_sync_options_are_validated() -> None:
    bad = {"CLERK_ORGANIZATION_SYNC_OPTIONS": {"organization_patterns": ["orgs/:slug"]}}
    with pytest.raises(ConfigurationError, match="CLERK_ORGANIZATION_SYNC_OPTIONS"):
        Clerk().app(**bad)


# -- the auth object (§4, §5, §11.23) -------------------------------------------------------

V2 = {
    "v": 2,
    "o": {"id": "org_1", "slg": "acme", "rol": "admin", "per": "read,manage", "fpm": "1,3"},
    "fea": "o:impersonation,o:memberships,u:beta",
    "pla": "o:pro",
    "fva": [30, 5],
}


def test_v2_claims_reach_current_auth(clerk: Clerk) -> None:
    app = clerk.app(**LIVE)
    jar = f"__client_uat=12345; __session={clerk.jwt(V2)}"
    answer = clerk.request(app, cookies=jar)
    assert answer.state["org_id"] == "org_1"
    assert answer.state["org_role"] == "org:admin"
    assert answer.state["org_slug"] == "acme"
    assert answer.state["org_permissions"] == [
        "org:impersonation:read",
        "org:memberships:manage",
        "org:memberships:read",
    ]
    with app.test_request_context(headers={"Authorization": f"Bearer {clerk.jwt(V2)}"}):
        import time_machine

        from flask_idguard import current_auth

        with time_machine.travel(IAT, tick=False):
            assert current_auth.has(role="admin")
            assert current_auth.has(role="org:admin", permission="org:memberships:manage")
            assert current_auth.has(feature="beta")
            assert current_auth.has(plan="o:pro")
            assert not current_auth.has(plan="u:pro")
            assert current_auth.has(reverification="strict")
            assert not current_auth.has(reverification="strict_mfa", role="admin")
            assert not current_auth.has(scope="read")
            assert not current_auth.has()
            assert current_auth.factor_verification_age == (30, 5)
            assert current_auth.get_token() == current_auth.token


def test_malformed_v2_feature_claim_is_unexpected_error(clerk: Clerk) -> None:
    claims = {**V2, "fea": "o:impersonation,broken"}
    jar = f"__client_uat=12345; __session={clerk.jwt(claims)}"
    answer = clerk.request(clerk.app(**LIVE), cookies=jar)
    assert (answer.status, answer.reason) == ("signed-out", "unexpected-error")


@pytest.mark.parametrize("treat_as_signed_out", [True, False])
def test_pending_session(clerk: Clerk, treat_as_signed_out: bool) -> None:
    app = clerk.app(**LIVE, CLERK_TREAT_PENDING_AS_SIGNED_OUT=treat_as_signed_out)
    jar = f"__client_uat=12345; __session={clerk.jwt({'sts': 'pending'})}"
    answer = clerk.request(app, cookies=jar)
    assert answer.state["session_status"] == "pending"
    assert "x-clerk-auth-status" not in answer.headers  # Clerk's request state is signed-in
    if treat_as_signed_out:
        assert answer.state["status"] == "signed-out"
        assert answer.state["user_id"] is None
    else:
        assert answer.state["status"] == "signed-in"


@responses.activate
def test_get_token_with_a_template_asks_the_backend_api(clerk: Clerk) -> None:
    responses.post(
        f"https://api.clerk.test/v1/sessions/{SESSION}/tokens/supabase",
        json={"object": "token", "jwt": "minted"},
        match=[responses.matchers.json_params_matcher({"expires_in_seconds": 60})],
    )
    app = clerk.app(**LIVE)
    with app.test_request_context(headers={"Authorization": f"Bearer {clerk.jwt()}"}):
        import time_machine

        from flask_idguard import current_auth

        with time_machine.travel(IAT, tick=False):
            assert current_auth.get_token("supabase", expires_in_seconds=60) == "minted"


# -- decorators (§5 requireAuth, design §2) ---------------------------------------------------


def test_api_call_without_session_gets_a_bare_401(clerk: Clerk) -> None:
    answer = clerk.request(clerk.app(**LIVE), "/api/me", document=False, cookies="__client_uat=0")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_page_without_session_is_redirected_to_clerk_sign_in(clerk: Clerk) -> None:
    app = clerk.app(**LIVE, CLERK_SIGN_IN_URL="https://accounts.example.com/sign-in")
    answer = clerk.request(app, "/api/me", cookies="__client_uat=0")
    assert answer.status_code == 302
    assert answer.location == (
        "https://accounts.example.com/sign-in?redirect_url=http%3A%2F%2Fexample.com%2Fapi%2Fme"
    )


def test_api_call_with_expired_bearer_gets_invalid_token(clerk: Clerk) -> None:
    answer = clerk.request(
        clerk.app(**LIVE),
        "/api/me",
        document=False,
        headers={"Authorization": f"Bearer {clerk.jwt()}"},
        now=IAT + 3600,
    )
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_debug_headers_can_be_switched_off(clerk: Clerk) -> None:
    answer = clerk.request(clerk.app(**LIVE, CLERK_DEBUG_HEADERS=False), cookies="__client_uat=0")
    assert "x-clerk-auth-status" not in answer.headers
    assert answer.state["reason"] == "session-token-and-uat-missing"


def test_inbound_clerk_headers_are_never_trusted(clerk: Clerk) -> None:
    answer = clerk.request(
        clerk.app(**LIVE),
        headers={"x-clerk-auth-status": "signed-in", "x-clerk-auth-user-id": "user_evil"},
        cookies="__client_uat=0",
    )
    assert answer.state["status"] == "signed-out"


# -- configuration (§11.1) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"CLERK_PUBLISHABLE_KEY": None}, "No identity provider is configured"),
        ({"CLERK_PUBLISHABLE_KEY": ""}, "No identity provider is configured"),
        ({"CLERK_PUBLISHABLE_KEY": "pk_test_nope"}, "Publishable key not valid"),
        ({"CLERK_SECRET_KEY": None}, "Missing Clerk Secret Key"),
        ({"CLERK_IS_SATELLITE": True, "CLERK_DOMAIN": "s.dev"}, "Missing signInUrl"),
        (
            {"CLERK_IS_SATELLITE": True, "CLERK_SIGN_IN_URL": "https://p.dev/sign-in"},
            "Missing domain and proxyUrl",
        ),
        (
            {"CLERK_IS_SATELLITE": True, "CLERK_DOMAIN": "s.dev", "CLERK_SIGN_IN_URL": "/sign-in"},
            "absolute url",
        ),
        ({"CLERK_JWT_KEY": "not a pem"}, "CLERK_JWT_KEY"),
        ({"CLERK_API_URL": "api.clerk.com"}, "CLERK_API_URL"),
    ],
)
def test_configuration_errors(config: dict[str, Any], message: str) -> None:
    clerk = Clerk()
    with pytest.raises(ConfigurationError, match=message.replace(".", r"\.")):
        clerk.app(**config)


def test_production_satellite_without_sign_in_url_is_valid() -> None:
    Clerk().app(**LIVE, CLERK_IS_SATELLITE=True, CLERK_DOMAIN="satellite.dev")


# -- hostile input never gives a 500 in production ---------------------------------------------

_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
_cookie_names = st.sampled_from(
    ["__session", "__client_uat", "__clerk_redirect_count", "__clerk_handshake",
     "__clerk_handshake_nonce", "__clerk_db_jwt", "__session_MqCvchyS", "__client_uat_MqCvchyS",
     "__refresh_MqCvchyS", "x"]
)  # fmt: skip
_query_names = st.sampled_from(
    ["__clerk_synced", "__clerk_redirect_url", "__clerk_db_jwt", "__clerk_handshake", "x"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cookies=st.lists(st.tuples(_cookie_names, _text), max_size=5),
    query=st.lists(st.tuples(_query_names, _text), max_size=3),
    authorization=st.one_of(st.none(), _text),
    satellite=st.booleans(),
)
def test_hostile_cookies_and_query_never_give_500(
    cookies: list[tuple[str, str]],
    query: list[tuple[str, str]],
    authorization: str | None,
    satellite: bool,
) -> None:
    from urllib.parse import urlencode

    clerk = _SHARED
    app = _SATELLITE_APP if satellite else _APP
    headers: dict[str, Any] = {"Referer": "https://elsewhere.test/"}
    if authorization is not None:
        headers["Authorization"] = authorization
    jar = "; ".join(f"{k}={v.replace(';', '%3B')}" for k, v in cookies) or None
    answer = clerk.request(app, f"/path?{urlencode(query)}", headers=headers, cookies=jar)
    assert answer.status_code in (200, 307)


_SHARED = Clerk()
_APP = _SHARED.app(**LIVE)
_SATELLITE_APP = _SHARED.app(**LIVE, CLERK_IS_SATELLITE=True, CLERK_DOMAIN="satellite.dev")
assert PK_TEST


# -- Clerk next to a bearer-token provider (design §1: pages on Clerk, an API on OIDC) ------


def test_clerk_and_an_oidc_issuer_in_one_app(clerk: Clerk) -> None:
    from flask_idguard.testing import TestIssuer

    api = TestIssuer("https://issuer.test/")
    app = clerk.app(
        **LIVE, IDGUARD_ISSUER=api.issuer, IDGUARD_AUDIENCE=api.audience,
        IDGUARD_PUBLIC_KEYS=api.jwks(),
    )  # fmt: skip
    oidc = clerk.request(
        app, headers={"Authorization": f"Bearer {api.token(now=IAT)}"}, document=False
    )
    assert (oidc.state["status"], oidc.state["user_id"]) == ("signed-in", "user_123")
    bearer = clerk.request(app, headers={"Authorization": f"Bearer {clerk.jwt()}"})
    assert bearer.state["user_id"] == "user_2GIpXOEpVyJw51rkZn9Kmnc6Sxr"
    jar = f"__client_uat=12345; __session={clerk.jwt()}"
    assert clerk.request(app, cookies=jar).state["status"] == "signed-in"
    stranger = TestIssuer("https://stranger.test/")
    other = clerk.request(
        app, headers={"Authorization": f"Bearer {stranger.token(now=IAT)}"}, document=False
    )
    assert (other.state["status"], other.state["reason"]) == (
        "signed-out",
        "token-invalid-issuer",
    )
