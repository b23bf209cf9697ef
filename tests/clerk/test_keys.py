"""Keys from the Backend API JWKS, cached per instance (clerk.md §3, §11.21, §8 #9394)."""

from __future__ import annotations

import pytest
import responses
from cachelib import SimpleCache

from .conftest import PK_LIVE
from .conftest import Clerk

JWKS = "https://api.clerk.test/v1/jwks"
LIVE = {"CLERK_PUBLISHABLE_KEY": PK_LIVE, "CLERK_SECRET_KEY": "sk_live_one", "CLERK_JWT_KEY": None}


def cookie_jar(clerk: Clerk) -> str:
    return f"__client_uat=12345; __session={clerk.jwt()}"


@responses.activate
def test_keys_come_from_the_backend_api_with_the_secret_key(clerk: Clerk) -> None:
    responses.get(JWKS, json=clerk.issuer.jwks())
    app = clerk.app(**LIVE)
    for _ in range(3):
        assert clerk.request(app, cookies=cookie_jar(clerk)).state["status"] == "signed-in"
    assert len(responses.calls) == 1
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer sk_live_one"
    assert sent.headers["Clerk-API-Version"] == "2026-05-12"


@pytest.mark.parametrize(
    ("answer", "reason", "message"),
    [
        (
            {"status": 500, "json": {"errors": [{"code": "x"}]}},
            "jwk-remote-failed-to-load",
            f"Error loading Clerk JWKS from {JWKS} with code=500 Contact support@clerk.com "
            "(reason=jwk-remote-failed-to-load, token-carrier=cookie)",
        ),
        (
            {"json": {"keys": []}},
            "jwk-remote-failed-to-load",
            "The JWKS endpoint did not contain any signing keys. Contact support@clerk.com. "
            "Contact support@clerk.com (reason=jwk-remote-failed-to-load, token-carrier=cookie)",
        ),
        ({"body": ConnectionError("down")}, "unexpected-error", ""),
    ],
    ids=["http-error", "no-keys", "unreachable"],
)
@responses.activate
def test_unusable_key_set_is_signed_out_and_a_503_for_apis(
    clerk: Clerk, answer: dict[str, object], reason: str, message: str
) -> None:
    responses.get(JWKS, **answer)
    app = clerk.app(**LIVE)
    page = clerk.request(app, cookies=cookie_jar(clerk))
    assert (page.status, page.reason, page.message) == ("signed-out", reason, message)
    api = clerk.request(app, "/api/me", cookies=cookie_jar(clerk), document=False)
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "5"


@responses.activate
def test_an_unknown_kid_is_jwk_kid_mismatch(clerk: Clerk) -> None:
    responses.get(JWKS, json=clerk.issuer.jwks())
    app = clerk.app(**LIVE, IDGUARD_JWKS_COOLDOWN=0)
    token = clerk.jwt(header={"kid": "ins_other"})
    answer = clerk.request(app, cookies=f"__client_uat=12345; __session={token}")
    assert answer.reason == "jwk-kid-mismatch"
    assert answer.message.startswith(
        "Unable to find a signing key in JWKS that matches the kid='ins_other' of the provided "
        "session token."
    )


@responses.activate
def test_two_instances_never_share_keys_even_through_a_shared_cache() -> None:
    """Clerk does not check ``iss``: instance B's token must not verify in instance A's app
    because A fetched B's keys (clerk.md §8, #9394). Both secrets' sets live apart in one
    shared cache."""
    one, two = Clerk(), Clerk()
    responses.get(
        JWKS,
        json=one.issuer.jwks(),
        match=[responses.matchers.header_matcher({"Authorization": "Bearer sk_live_one"})],
    )
    responses.get(
        JWKS,
        json=two.issuer.jwks(),
        match=[responses.matchers.header_matcher({"Authorization": "Bearer sk_live_two"})],
    )
    cache = SimpleCache()
    app_one = one.app(**LIVE, IDGUARD_CACHE=cache)
    app_two = two.app(**LIVE | {"CLERK_SECRET_KEY": "sk_live_two"}, IDGUARD_CACHE=cache)
    assert one.request(app_one, cookies=cookie_jar(one)).state["status"] == "signed-in"
    assert two.request(app_two, cookies=cookie_jar(two)).state["status"] == "signed-in"
    crossed = one.request(app_one, cookies=cookie_jar(two))
    assert crossed.state["status"] == "signed-out"
