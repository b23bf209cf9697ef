"""Clerk's ``authenticateRequest`` test matrix (clerk.md §7.1, §7.3, §11), one row per case,
through the Flask test client: status, reason, message, Location and Set-Cookie."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest

from .conftest import AZP
from .conftest import FAPI
from .conftest import IAT
from .conftest import PK_LIVE
from .conftest import SUFFIX_LIVE
from .conftest import Clerk

LIVE = {"CLERK_PUBLISHABLE_KEY": PK_LIVE, "CLERK_SECRET_KEY": "sk_live_deadbeef"}
SATELLITE = {
    "CLERK_IS_SATELLITE": True,
    "CLERK_SIGN_IN_URL": "https://primary.dev/sign-in",
    "CLERK_DOMAIN": "satellite.dev",
}
HANDSHAKE = f"https://{FAPI}/v1/client/handshake"
COUNTER_1 = "__clerk_redirect_count=1; SameSite=Lax; HttpOnly; Max-Age=2"
#: The satellites a development primary may send its dev browser token to.
SATELLITES = {"CLERK_AUTHORIZED_PARTIES": ["http://localhost:3000", "http://localhost:3001"]}


@dataclass
class Row:
    """One case. Strings in ``cookies``/``headers``/``path`` may use ``{S}`` (a valid session
    token), ``{E}`` (an expired-by-now one: the clock moves +3600 s with ``late``), ``{DB}``."""

    id: str
    status: str
    reason: str | None
    config: dict[str, Any] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    path: str = "/path"
    method: str = "GET"
    late: bool = False
    message: str | None = None
    location: str | None = None
    location_has: tuple[tuple[str, str], ...] = ()
    set_cookies: tuple[str, ...] | None = None


ROWS = [
    # -- header path (§1.5) ------------------------------------------------------------------
    Row(
        "header_without_scheme_is_taken_as_is", "signed-in", None, headers={"Authorization": "{S}"}
    ),
    Row(
        "header_basic_scheme_is_ignored_cookie_path_runs",
        "handshake",
        "dev-browser-missing",
        headers={"Authorization": "Basic Zm9vOmJhcg=="},
    ),
    Row(
        "header_lowercase_bearer_is_ignored",
        "handshake",
        "dev-browser-missing",
        headers={"Authorization": "bearer {S}"},
    ),
    Row("header_token_valid", "signed-in", None, headers={"Authorization": "Bearer {S}"}),
    Row(
        "header_token_invalid_authorized_parties",
        "signed-out",
        "token-invalid-authorized-parties",
        config={"CLERK_AUTHORIZED_PARTIES": ["whatever"]},
        headers={"Authorization": "Bearer {S}"},
        message=f'Invalid JWT Authorized party claim (azp) "{AZP}". Expected "whatever". '
        "(reason=token-invalid-authorized-parties, token-carrier=header)",
    ),
    Row(
        "header_token_expired_document_handshakes",
        "handshake",
        "session-token-expired-refresh-non-eligible-no-refresh-cookie",
        headers={"Authorization": "Bearer {S}"},
        late=True,
    ),
    Row(
        "header_token_expired_fetch_is_signed_out",
        "signed-out",
        "session-token-expired-refresh-non-eligible-no-refresh-cookie",
        headers={"Authorization": "Bearer {S}", "Sec-Fetch-Dest": "empty"},
        late=True,
    ),
    Row(
        "header_token_bad_signature",
        "signed-out",
        "token-invalid-signature",
        headers={"Authorization": "Bearer {BADSIG}"},
        message="JWT signature is invalid. (reason=token-invalid-signature, token-carrier=header)",
    ),
    Row(
        "header_token_malformed",
        "signed-out",
        "token-invalid",
        headers={"Authorization": "Bearer test_header_token"},
        message="Invalid JWT form. A JWT consists of three parts separated by dots. "
        "(reason=token-invalid, token-carrier=header)",
    ),
    Row(
        "header_bearer_alone_is_the_token",
        "signed-out",
        "token-invalid",
        headers={"Authorization": "Bearer"},
    ),
    Row(
        "header_template_token_is_type_mismatch",
        "signed-out",
        "token-type-mismatch",
        headers={"Authorization": "Bearer {TEMPLATE}"},
    ),
    Row(
        "header_machine_token_is_type_mismatch",
        "signed-out",
        "token-type-mismatch",
        headers={"Authorization": "Bearer {M2M}"},
    ),
    Row(
        "header_invalid_token_wins_over_valid_cookie",
        "signed-out",
        "token-invalid",
        headers={"Authorization": "Bearer nope"},
        cookies={"__client_uat": "12345", "__session": "{S}", "__clerk_db_jwt": "{DB}"},
    ),
    # -- satellites (§1.6 step 2, §11.11) ------------------------------------------------------
    Row(
        "satellite_uat0_auto_sync_handshakes",
        "handshake",
        "satellite-needs-syncing",
        config={**SATELLITE, "CLERK_SATELLITE_AUTO_SYNC": True},
        cookies={"__client_uat": "0"},
        location="https://primary.dev/sign-in?__clerk_redirect_url=http%3A%2F%2Fexample.com%2Fpath",
    ),
    Row(
        "satellite_non_browser_is_signed_out",
        "signed-out",
        "session-token-and-uat-missing",
        config={**SATELLITE, **LIVE},
        cookies={"__client_uat": "0"},
        headers={"Sec-Fetch-Dest": "empty"},
    ),
    Row(
        "satellite_returning_from_primary_dev_browser_sync",
        "handshake",
        "dev-browser-sync",
        config=SATELLITE,
        path="/path?__clerk_synced=true&__clerk_db_jwt=deadbeef",
    ),
    Row(
        "satellite_just_synced_does_not_sync_again",
        "signed-out",
        "session-token-and-uat-missing",
        config={**SATELLITE, **LIVE},
        path="/path?__clerk_synced=true",
    ),
    Row(
        "satellite_prod_no_cookies_no_auto_sync",
        "signed-out",
        "session-token-and-uat-missing",
        config={**SATELLITE, **LIVE},
        cookies={"__client_uat": "0"},
    ),
    Row(
        "satellite_prod_synced_false_handshakes",
        "handshake",
        "satellite-needs-syncing",
        config={**SATELLITE, **LIVE},
        path="/path?__clerk_synced=false",
        location_has=(("__clerk_hs_reason", "satellite-needs-syncing"),),
    ),
    Row(
        "satellite_dev_no_cookies_no_auto_sync_before_dev_browser",
        "signed-out",
        "session-token-and-uat-missing",
        config=SATELLITE,
        cookies={"__client_uat": "0", "__clerk_db_jwt": "{DB}"},
    ),
    Row(
        "satellite_redirect_loop_stops",
        "signed-out",
        "satellite-needs-syncing",
        config={**SATELLITE, **LIVE},
        path="/path?__clerk_synced=false",
        cookies={"__clerk_redirect_count": "3"},
        set_cookies=(),
    ),
    Row(
        "satellite_dev_synced_false_bounces_via_primary_sign_in",
        "handshake",
        "satellite-needs-syncing",
        config=SATELLITE,
        path="/path?__clerk_synced=false",
        cookies={"__client_uat": "0", "__clerk_db_jwt": "{DB}"},
        location="https://primary.dev/sign-in?__clerk_redirect_url="
        "http%3A%2F%2Fexample.com%2Fpath%3F__clerk_synced%3Dfalse",
    ),
    Row(
        "satellite_with_valid_token_and_uat_is_signed_in",
        "signed-in",
        None,
        config=SATELLITE,
        headers={"Sec-Fetch-Dest": "empty", "Referer": "https://clerk.com"},
        cookies={"__clerk_db_jwt": "{DB}", "__client_uat": "12345", "__session": "{S}"},
    ),
    Row(
        "satellite_prod_synced_false_beats_valid_cookies",
        "handshake",
        "satellite-needs-syncing",
        config={**SATELLITE, **LIVE},
        path="/path?__clerk_synced=false",
        cookies={"__client_uat": "12345", "__session": "{S}"},
    ),
    # -- development primary (§1.6 steps 3-5, §11.12) -----------------------------------------
    Row(
        "primary_responds_to_syncing",
        "handshake",
        "primary-responds-to-syncing",
        config=SATELLITES,
        path="/path?__clerk_redirect_url=http://localhost:3000",
        cookies={"__client_uat": "12345", "__session": "{S}"},
        location="http://localhost:3000/?__clerk_synced=true",
    ),
    Row(
        "primary_responds_before_dev_browser_sync",
        "handshake",
        "primary-responds-to-syncing",
        config=SATELLITES,
        path="/path?__clerk_redirect_url=http://localhost:3001/dashboard&__clerk_db_jwt=deadbeef",
        location="http://localhost:3001/dashboard?__clerk_db_jwt=deadbeef&__clerk_synced=true",
    ),
    Row(
        "primary_responds_overwrites_synced_false",
        "handshake",
        "primary-responds-to-syncing",
        config=SATELLITES,
        path="/path?__clerk_redirect_url="
        "http%3A%2F%2Flocalhost%3A3001%2Fdashboard%3F__clerk_synced%3Dfalse",
        location="http://localhost:3001/dashboard?__clerk_synced=true",
    ),
    Row(
        "dev_browser_missing_with_session_only",
        "handshake",
        "dev-browser-missing",
        cookies={"__session": "{S}"},
    ),
    Row(
        "dev_browser_missing_overrides_valid_session",
        "handshake",
        "dev-browser-missing",
        cookies={"__client_uat": "12345", "__session": "{S}"},
    ),
    Row("dev_no_cookies_at_all", "handshake", "dev-browser-missing"),
    Row(
        "dev_browser_sync_even_with_empty_query_value",
        "handshake",
        "dev-browser-sync",
        path="/path?__clerk_db_jwt=",
        cookies={"__clerk_db_jwt": "{DB}"},
    ),
    Row(
        "dev_browser_missing_on_fetch_is_signed_out",
        "signed-out",
        "dev-browser-missing",
        headers={"Sec-Fetch-Dest": "empty"},
    ),
    # -- the __client_uat / session matrix (§1.6 steps 6-8) ------------------------------------
    Row(
        "dev_session_without_uat",
        "handshake",
        "session-token-but-no-client-uat",
        cookies={"__clerk_db_jwt": "{DB}", "__session": "{S}"},
    ),
    Row(
        "prod_uat_without_session",
        "handshake",
        "client-uat-but-no-session-token",
        config=LIVE,
        cookies={"__client_uat": "12345"},
    ),
    Row(
        "prod_uat_zero_without_session",
        "signed-out",
        "session-token-and-uat-missing",
        config=LIVE,
        cookies={"__client_uat": "0"},
    ),
    Row("prod_no_cookies", "signed-out", "session-token-and-uat-missing", config=LIVE),
    Row(
        "prod_garbage_uat_with_session",
        "handshake",
        "session-token-but-no-client-uat",
        config=LIVE,
        cookies={"__client_uat": "abc", "__session": "{S}"},
    ),
    Row(
        "prod_uat_with_trailing_garbage_parses_like_parseInt",
        "signed-in",
        None,
        config=LIVE,
        cookies={"__client_uat": f"{IAT - 10}xyz", "__session": "{S}"},
    ),
    # -- the session cookie (§1.6 steps 9-12) -------------------------------------------------
    Row(
        "uat_after_token_iat_handshakes",
        "handshake",
        "session-token-iat-before-client-uat",
        cookies={"__clerk_db_jwt": "{DB}", "__client_uat": str(IAT + 10), "__session": "{S}"},
    ),
    Row(
        "uat_equal_to_iat_passes",
        "signed-in",
        None,
        cookies={"__clerk_db_jwt": "{DB}", "__client_uat": str(IAT), "__session": "{S}"},
    ),
    Row(
        "signed_token_without_sub",
        "signed-out",
        "token-verification-failed",
        cookies={"__clerk_db_jwt": "{DB}", "__client_uat": str(IAT - 10), "__session": "{NOSUB}"},
        message="Subject claim (sub) is required and must be a string. Received undefined. "
        "Make sure that this is a valid Clerk-generated JWT. "
        "(reason=token-verification-failed, token-carrier=cookie)",
    ),
    Row(
        "valid_cookie_token",
        "signed-in",
        None,
        cookies={"__clerk_db_jwt": "{DB}", "__client_uat": str(IAT - 10), "__session": "{S}"},
    ),
    Row(
        "machine_token_in_cookie",
        "signed-out",
        "token-type-mismatch",
        cookies={"__clerk_db_jwt": "{DB}", "__client_uat": "12345", "__session": "{M2M}"},
    ),
    Row(
        "template_token_in_cookie",
        "signed-out",
        "token-type-mismatch",
        cookies={"__clerk_db_jwt": "{DB}", "__client_uat": "12345", "__session": "{TEMPLATE}"},
    ),
    Row(
        "cookie_token_expired_handshakes",
        "handshake",
        "session-token-expired-refresh-non-eligible-no-refresh-cookie",
        cookies={"__clerk_db_jwt": "{DB}", "__client_uat": str(IAT - 10), "__session": "{S}"},
        late=True,
    ),
    Row(
        "cookie_token_expired_post_is_signed_out_non_get",
        "signed-out",
        "session-token-expired-refresh-non-eligible-non-get",
        method="POST",
        cookies={"__clerk_db_jwt": "{DB}", "__client_uat": str(IAT - 10), "__session": "{S}"},
        late=True,
    ),
    Row(
        "cookie_token_not_yet_valid",
        "handshake",
        "session-token-nbf",
        cookies={"__clerk_db_jwt": "{DB}", "__client_uat": "1", "__session": "{FUTURE}"},
    ),
    Row(
        "cloudfront_user_agent_is_signed_in",
        "signed-in",
        None,
        config=LIVE,
        headers={"User-Agent": "Amazon CloudFront"},
        cookies={"__client_uat": "12345", "__session": "{S}"},
    ),
    Row(
        "garbage_session_cookie_is_token_invalid",
        "signed-out",
        "token-invalid",
        config=LIVE,
        cookies={"__client_uat": "12345", "__session": "garbage"},
    ),
    # -- POST document navigations are never eligible (§7.1, #8045) ---------------------------
    Row(
        "post_document_uat_without_session",
        "signed-out",
        "client-uat-but-no-session-token",
        config=LIVE,
        method="POST",
        cookies={"__client_uat": "12345"},
    ),
    Row(
        "post_document_satellite_uat0",
        "signed-out",
        "session-token-and-uat-missing",
        config={**SATELLITE, **LIVE},
        method="POST",
        cookies={"__client_uat": "0"},
    ),
    Row(
        "post_document_dev_uat_after_iat",
        "signed-out",
        "session-token-iat-before-client-uat",
        method="POST",
        cookies={"__clerk_db_jwt": "{DB}", "__client_uat": str(IAT + 10), "__session": "{S}"},
    ),
    # -- handshake eligibility (§11.15) ------------------------------------------------------
    Row(
        "eligible_iframe",
        "handshake",
        "client-uat-but-no-session-token",
        config=LIVE,
        headers={"Sec-Fetch-Dest": "iframe"},
        cookies={"__client_uat": "1"},
    ),
    Row(
        "eligible_accept_html_without_fetch_dest",
        "handshake",
        "client-uat-but-no-session-token",
        config=LIVE,
        headers={"Sec-Fetch-Dest": None, "Accept": "text/html,application/xhtml+xml"},
        cookies={"__client_uat": "1"},
    ),
    Row(
        "not_eligible_accept_html_not_first",
        "signed-out",
        "client-uat-but-no-session-token",
        config=LIVE,
        headers={"Sec-Fetch-Dest": None, "Accept": "*/*, text/html"},
        cookies={"__client_uat": "1"},
    ),
    Row(
        "not_eligible_image_with_html_accept",
        "signed-out",
        "client-uat-but-no-session-token",
        config=LIVE,
        headers={"Sec-Fetch-Dest": "image", "Accept": "text/html"},
        cookies={"__client_uat": "1"},
    ),
    Row(
        "not_eligible_head",
        "signed-out",
        "client-uat-but-no-session-token",
        config=LIVE,
        method="HEAD",
        cookies={"__client_uat": "1"},
    ),
    # -- redirect counter (§11.6) ------------------------------------------------------------
    Row(
        "counter_2_handshakes_and_writes_3",
        "handshake",
        "client-uat-but-no-session-token",
        config=LIVE,
        cookies={"__client_uat": "1", "__clerk_redirect_count": "2"},
        set_cookies=("__clerk_redirect_count=3; SameSite=Lax; HttpOnly; Max-Age=2",),
    ),
    Row(
        "counter_3_stops",
        "signed-out",
        "client-uat-but-no-session-token",
        config=LIVE,
        cookies={"__client_uat": "1", "__clerk_redirect_count": "3"},
        set_cookies=(),
    ),
    Row(
        "counter_4_handshakes_again",
        "handshake",
        "client-uat-but-no-session-token",
        config=LIVE,
        cookies={"__client_uat": "1", "__clerk_redirect_count": "4"},
        set_cookies=("__clerk_redirect_count=5; SameSite=Lax; HttpOnly; Max-Age=2",),
    ),
    Row(
        "counter_garbage_counts_as_zero",
        "handshake",
        "client-uat-but-no-session-token",
        config=LIVE,
        cookies={"__client_uat": "1", "__clerk_redirect_count": "abc"},
        set_cookies=(COUNTER_1,),
    ),
    Row(
        "counter_hex_3_stops",
        "signed-out",
        "client-uat-but-no-session-token",
        config=LIVE,
        cookies={"__client_uat": "1", "__clerk_redirect_count": "0x3"},
        set_cookies=(),
    ),
    # -- suffixed cookies (§1.3) -------------------------------------------------------------
    Row(
        "suffixed_cookies_are_read",
        "signed-in",
        None,
        config=LIVE,
        cookies={f"__client_uat_{SUFFIX_LIVE}": "12345", f"__session_{SUFFIX_LIVE}": "{S}"},
    ),
    Row(
        "other_apps_unsuffixed_session_switches_to_suffixed",
        "signed-out",
        "session-token-and-uat-missing",
        config=LIVE,
        cookies={"__client_uat": "12345", "__session": "{OTHERAPP}"},
    ),
    # -- hostile cookies (AISEC-89) -----------------------------------------------------------
    Row(
        "encoded_semicolon_does_not_forge_a_cookie",
        "signed-out",
        "session-token-and-uat-missing",
        config=LIVE,
        cookies={"x": "1%3B__client_uat%3D12345"},
    ),
    Row(
        "first_duplicate_cookie_wins",
        "signed-out",
        "session-token-and-uat-missing",
        config=LIVE,
        cookies={"__client_uat": "0; __client_uat=12345"},
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_authenticate_request(clerk: Clerk, row: Row) -> None:
    values = {
        "S": clerk.jwt(),
        "DB": "deadbeef",
        "BADSIG": clerk.jwt()[:-6] + "AAAAAA",
        "TEMPLATE": clerk.jwt({"sid": None}, header={"cat": "cl_B7d4PD222AAA"}, omit=("sid",)),
        "M2M": clerk.jwt({"sub": "mch_123"}),
        "NOSUB": clerk.jwt(omit=("sub",)),
        "FUTURE": clerk.jwt({"nbf": IAT + 100}),
        "OTHERAPP": clerk.jwt({"iss": "https://clerk.other-app.lcl.dev"}),
    }

    def fill(text: str) -> str:
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        return text

    app = clerk.app(**row.config)
    answer = clerk.request(
        app,
        fill(row.path),
        method=row.method,
        headers={k: (fill(v) if isinstance(v, str) else v) for k, v in row.headers.items()},
        cookies="; ".join(f"{k}={fill(v)}" for k, v in row.cookies.items()) or None,
        now=IAT + 3600 if row.late else IAT,
    )
    assert (answer.status, answer.reason) == (row.status, row.reason), answer
    if row.status == "handshake":
        assert answer.status_code == 307
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.location is not None
    else:
        assert answer.location is None
        assert answer.status_code == 200
    if row.message is not None:
        assert answer.message == row.message
    if row.location is not None:
        assert answer.location == row.location
    for pair in row.location_has:
        assert pair in answer.location_params
    if row.set_cookies is not None:
        assert tuple(answer.set_cookies) == row.set_cookies
    elif row.status == "handshake":
        assert answer.set_cookies == [COUNTER_1]
    if row.status == "signed-in":
        assert "x-clerk-auth-status" not in answer.headers
        assert answer.state["user_id"] == "user_2GIpXOEpVyJw51rkZn9Kmnc6Sxr"
