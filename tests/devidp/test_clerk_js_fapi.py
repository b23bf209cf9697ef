"""The Frontend API that ``@clerk/clerk-js`` calls, on the wire: what each call answers, Clerk's
error format, test-mode email codes, the isolation of one browser's client from another's,
CORS and cross-site refusal, the served SDK, and hostile input (never a 500).

The browser test (tests/browser/test_clerk_js.py) runs the real SDK against the same routes.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from clerk_backend_api import models
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import RSAKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter
from werkzeug.test import TestResponse

from flask_idguard.devidp import DevIdP
from flask_idguard.devidp import DevIdPConfig
from flask_idguard.devidp import Seed
from flask_idguard.devidp import SeedError
from flask_idguard.devidp.sign_ins import MAX_CODE_ATTEMPTS
from flask_idguard.devidp.sign_ins import TEST_CODE
from flask_idguard.devidp.sign_ins import is_test_phone
from flask_idguard.devidp.users_json import clerk_user

APP_ORIGIN = "http://127.0.0.1:5000"
FAPI = "/clerk/v1"
#: What the SDK adds to every call (packages/clerk-js/src/core/fapiClient.ts).
SDK_PARAMS = {"__clerk_api_version": "2026-05-12", "_clerk_js_version": "6.29.3"}


class Tab:
    """One browser as the SDK drives it: its dev browser in every call's query, the app's
    ``Origin`` on every call, form-encoded bodies, ``_method`` for PATCH/PUT/DELETE."""

    def __init__(self, idp: DevIdP, origin: str = APP_ORIGIN) -> None:
        self.http = idp.app.test_client()
        self.origin = origin
        made = self.http.post(FAPI + "/dev_browser", headers={"Origin": origin})
        self.dev_browser = made.get_json()["id"] if made.status_code == 200 else None

    def call(
        self, path: str, data: dict[str, str] | None = None, *, method: str | None = None
    ) -> TestResponse:
        query = {**SDK_PARAMS, "__clerk_db_jwt": self.dev_browser or ""}
        if method is not None:
            query["_method"] = method
        headers = {"Origin": self.origin}
        if data is None and method is None:
            return self.http.get(FAPI + path, query_string=query, headers=headers)
        return self.http.post(FAPI + path, query_string=query, data=data or {}, headers=headers)

    def sign_in(self, email: str = "alice@example.test", password: str = "alice-password") -> str:
        answer = self.call("/client/sign_ins", {"identifier": email, "password": password})
        assert answer.status_code == 200, answer.get_json()
        session_id = answer.get_json()["response"]["created_session_id"]
        assert isinstance(session_id, str)
        return session_id


@pytest.fixture(scope="module")
def idp() -> DevIdP:
    return DevIdP(DevIdPConfig())


@pytest.fixture
def tab(idp: DevIdP) -> Tab:
    return Tab(idp)


def error(answer: TestResponse) -> tuple[int, str, str | None]:
    """Status, Clerk error code and ``meta.param_name`` of an error answer."""
    (first,) = answer.get_json()["errors"]
    assert first["message"] and first["long_message"]
    return answer.status_code, first["code"], first["meta"].get("param_name")


#: Clerk's ``cat`` header is not a registered JWS header.
_CLERK_HEADERS = JWSRegistry(header_registry={"cat": HeaderParameter("category", "str")})


def claims(idp: DevIdP, token: str) -> dict[str, Any]:
    """The claims of a session token, its signature checked with the instance's key."""
    key = RSAKey.import_key(idp.clerk_key.public_jwk())
    return dict(jwt.decode(token, key, registry=_CLERK_HEADERS).claims)


def test_the_environment_answers_get_and_the_sdk_patch(tab: Tab) -> None:
    for answer in (tab.call("/environment"), tab.call("/environment", method="PATCH")):
        assert answer.status_code == 200
        body = answer.get_json()
        assert body["object"] == "environment"
        assert body["display_config"]["instance_environment_type"] == "development"
        assert body["auth_config"]["single_session_mode"] is True
        assert body["display_config"]["captcha_public_key"] is None  # no bot protection
    assert error(tab.call("/environment", method="DELETE"))[:2] == (405, "method_not_allowed")


def test_a_missing_or_unknown_dev_browser_is_the_401_the_sdk_recovers_from(idp: DevIdP) -> None:
    for token in (None, "dvb_made_up"):
        tab = Tab(idp)
        tab.dev_browser = token
        tab.http = idp.app.test_client()  # no __clerk_db_jwt cookie either
        answer = tab.call("/client")
        assert error(answer)[:2] == (401, "dev_browser_unauthenticated")


def test_a_password_sign_in_completes_at_once_and_starts_the_clients_session(
    idp: DevIdP, tab: Tab
) -> None:
    answer = tab.call("/client/sign_ins", {"identifier": "alice@example.test", "password": "x"})
    assert error(answer) == (422, "form_password_incorrect", "password")
    session_id = tab.sign_in()
    client = tab.call("/client").get_json()["response"]
    assert client["last_active_session_id"] == session_id
    (session,) = client["sessions"]
    assert (session["id"], session["status"]) == (session_id, "active")
    assert session["user"]["id"] == "user_alice"
    assert "private_metadata" not in session["user"]  # never shown to browsers
    assert [m["organization"]["id"] for m in session["user"]["organization_memberships"]] == [
        "org_acme",
        "org_globex",
    ]
    assert session["last_active_organization_id"] == "org_acme"
    assert client["updated_at"] == int(idp.store.clients[client["id"]].updated_at * 1000)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({}, (422, "form_param_missing", "identifier")),
        ({"identifier": "nobody@example.test"}, (422, "form_identifier_not_found", "identifier")),
        (
            {"identifier": "alice@example.test", "strategy": "totp"},
            (422, "strategy_for_user_invalid", "strategy"),
        ),
        (
            {"identifier": "alice@example.test", "strategy": "password"},
            (422, "form_param_missing", "password"),
        ),
    ],
)
def test_sign_in_errors_are_clerks(
    tab: Tab, form: dict[str, str], expected: tuple[int, str, str]
) -> None:
    assert error(tab.call("/client/sign_ins", form)) == expected


def _email_code_sign_in(tab: Tab, email: str) -> str:
    answer = tab.call("/client/sign_ins", {"identifier": email})
    sign_in = answer.get_json()["response"]
    assert sign_in["status"] == "needs_first_factor"
    (factor,) = [f for f in sign_in["supported_first_factors"] if f["strategy"] == "email_code"]
    prepared = tab.call(
        f"/client/sign_ins/{sign_in['id']}/prepare_first_factor",
        {"strategy": "email_code", "email_address_id": factor["email_address_id"]},
    )
    assert prepared.get_json()["response"]["first_factor_verification"]["status"] == "unverified"
    return str(sign_in["id"])


def test_a_clerk_test_address_signs_in_with_the_fixed_code(idp: DevIdP, tab: Tab) -> None:
    user = idp.store.add_user("dora+clerk_test@example.test", "dora-password")
    sign_in_id = _email_code_sign_in(tab, user.email)
    attempt = f"/client/sign_ins/{sign_in_id}/attempt_first_factor"
    wrong = tab.call(attempt, {"strategy": "email_code", "code": "000000"})
    assert error(wrong) == (422, "form_code_incorrect", "code")
    done = tab.call(attempt, {"strategy": "email_code", "code": TEST_CODE}).get_json()
    assert done["response"]["status"] == "complete"
    session = idp.store.sessions[done["response"]["created_session_id"]]
    assert session.user_id == user.id
    assert done["client"]["sign_in"] is None  # the client's sign-in is over
    again = tab.call(attempt, {"strategy": "email_code", "code": TEST_CODE})
    assert error(again)[:2] == (400, "verification_already_verified")


def test_another_address_gets_a_random_code_in_the_log_not_the_test_code(
    idp: DevIdP, tab: Tab, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "flask_idguard.devidp"):
        sign_in_id = _email_code_sign_in(tab, "bob@example.test")
    (code,) = re.findall(r"Sign-in code for bob@example\.test: (\d{6})", caplog.text)
    attempt = f"/client/sign_ins/{sign_in_id}/attempt_first_factor"
    if code != TEST_CODE:  # one chance in a million that the random code is 424242
        assert tab.call(attempt, {"strategy": "email_code", "code": TEST_CODE}).status_code == 422
    done = tab.call(attempt, {"strategy": "email_code", "code": code})
    assert done.get_json()["response"]["status"] == "complete"


def _phone_code_sign_in(tab: Tab, typed: str) -> str:
    sign_in = tab.call("/client/sign_ins", {"identifier": typed}).get_json()["response"]
    (factor,) = [f for f in sign_in["supported_first_factors"] if f["strategy"] == "phone_code"]
    prepared = tab.call(
        f"/client/sign_ins/{sign_in['id']}/prepare_first_factor",
        {"strategy": "phone_code", "phone_number_id": factor["phone_number_id"]},
    )
    assert prepared.status_code == 200, prepared.get_json()
    return str(sign_in["id"])


def test_a_clerk_test_phone_number_signs_in_with_the_fixed_code(idp: DevIdP, tab: Tab) -> None:
    user = idp.store.add_user("fay@example.test", "fay-password", phone="+12015550123")
    sign_in_id = _phone_code_sign_in(tab, "+1 (201) 555-0123")  # typed as people do
    attempt = f"/client/sign_ins/{sign_in_id}/attempt_first_factor"
    email_code = tab.call(attempt, {"strategy": "email_code", "code": TEST_CODE})
    assert error(email_code)[:2] == (400, "verification_not_sent")  # not the prepared factor
    done = tab.call(attempt, {"strategy": "phone_code", "code": TEST_CODE}).get_json()
    assert done["response"]["status"] == "complete"
    assert idp.store.sessions[done["response"]["created_session_id"]].user_id == user.id
    (phone,) = done["client"]["sessions"][0]["user"]["phone_numbers"]
    assert (phone["id"], phone["phone_number"]) == (user.phone_id, "+12015550123")


def test_another_phone_number_gets_a_random_code_in_the_log(
    idp: DevIdP, tab: Tab, caplog: pytest.LogCaptureFixture
) -> None:
    idp.store.add_user("gus@example.test", "gus-password", phone="+447700900123")
    with caplog.at_level(logging.WARNING, "flask_idguard.devidp"):
        sign_in_id = _phone_code_sign_in(tab, "+447700900123")
    (code,) = re.findall(r"Sign-in code for \+447700900123: (\d{6})", caplog.text)
    attempt = f"/client/sign_ins/{sign_in_id}/attempt_first_factor"
    if code != TEST_CODE:
        assert tab.call(attempt, {"strategy": "phone_code", "code": TEST_CODE}).status_code == 422
    done = tab.call(attempt, {"strategy": "phone_code", "code": code})
    assert done.get_json()["response"]["status"] == "complete"


def test_a_user_without_a_phone_cannot_prepare_a_phone_code(tab: Tab) -> None:
    sign_in = tab.call("/client/sign_ins", {"identifier": "carol@example.test"}).get_json()
    assert "phone_code" not in [
        f["strategy"] for f in sign_in["response"]["supported_first_factors"]
    ]
    answer = tab.call(
        f"/client/sign_ins/{sign_in['response']['id']}/prepare_first_factor",
        {"strategy": "phone_code"},
    )
    assert error(answer) == (422, "form_param_value_invalid", "phone_number_id")


@pytest.mark.parametrize(
    ("number", "test"),
    [("+12015550100", True), ("+12015550199", True), ("+12015550200", False),
     ("+11015550100", False), ("+442015550100", False), ("+120155501000", False)],
)  # fmt: skip
def test_clerks_test_phone_numbers(number: str, test: bool) -> None:
    assert is_test_phone(number) is test


def test_seeded_phones_must_be_e164_and_the_backend_sdk_reads_them() -> None:
    user = {"id": "user_x", "email": "x@example.test", "password": "x-password"}
    with pytest.raises(SeedError, match="E.164"):
        Seed.from_dict({"users": [{**user, "phone": "201 555 0100"}]})
    seed = Seed.from_dict({"users": [{**user, "phone": "+12015550100"}]})
    idp = DevIdP(DevIdPConfig(), seed=seed)
    parsed = models.User.model_validate(clerk_user(idp.store.users["user_x"]))
    assert parsed.phone_numbers is not None
    assert parsed.phone_numbers[0].phone_number == "+12015550100"
    assert parsed.primary_phone_number_id == parsed.phone_numbers[0].id


def test_wrong_codes_void_the_code_after_a_few_attempts(idp: DevIdP, tab: Tab) -> None:
    idp.store.add_user("eve+clerk_test@example.test", "eve-password")
    sign_in_id = _email_code_sign_in(tab, "eve+clerk_test@example.test")
    attempt = f"/client/sign_ins/{sign_in_id}/attempt_first_factor"
    codes = [tab.call(attempt, {"strategy": "email_code", "code": "111111"})]
    codes += [
        tab.call(attempt, {"strategy": "email_code", "code": "111111"})
        for _ in range(MAX_CODE_ATTEMPTS - 1)
    ]
    assert [error(a)[1] for a in codes][-1] == "verification_failed"
    late = tab.call(attempt, {"strategy": "email_code", "code": TEST_CODE})
    assert error(late)[:2] == (400, "verification_not_sent")


def test_tokens_carry_the_requested_organization_and_the_apps_origin(idp: DevIdP, tab: Tab) -> None:
    session_id = tab.sign_in()
    path = f"/client/sessions/{session_id}/tokens"
    token = tab.call(path, {}).get_json()
    assert token["object"] == "token"
    first = claims(idp, token["jwt"])
    assert (first["sub"], first["sid"], first["azp"]) == ("user_alice", session_id, APP_ORIGIN)
    assert first["o"]["id"] == "org_acme"
    globex = claims(idp, tab.call(path, {"organization_id": "org_globex"}).get_json()["jwt"])
    assert (globex["o"]["id"], globex["o"]["rol"]) == ("org_globex", "member")
    personal = claims(idp, tab.call(path, {"organization_id": ""}).get_json()["jwt"])
    assert "o" not in personal
    idp.store.organizations["org_solo"] = type(idp.store.organizations["org_acme"])(
        "org_solo", "solo", "Solo", {"user_carol": "org:admin"}
    )
    assert error(tab.call(path, {"organization_id": "org_solo"}))[:2] == (
        404,
        "resource_not_found",
    )


def test_touch_switches_the_active_organization(idp: DevIdP, tab: Tab) -> None:
    session_id = tab.sign_in()
    touch = f"/client/sessions/{session_id}/touch"
    answer = tab.call(touch, {"active_organization_id": "org_globex", "intent": "select_org"})
    assert answer.get_json()["response"]["last_active_organization_id"] == "org_globex"
    assert idp.store.sessions[session_id].org_id == "org_globex"
    token = tab.call(f"/client/sessions/{session_id}/tokens", {}).get_json()["jwt"]
    assert claims(idp, token)["o"]["id"] == "org_globex"
    refused = tab.call(touch, {"active_organization_id": "org_nope"})
    assert error(refused) == (404, "resource_not_found", "active_organization_id")
    tab.call(touch, {"active_organization_id": ""})
    assert idp.store.sessions[session_id].org_id is None


def test_sign_out_ends_the_session_and_its_tokens(idp: DevIdP, tab: Tab) -> None:
    session_id = tab.sign_in()
    answer = tab.call("/client/sessions", method="DELETE").get_json()
    assert answer["client"]["sessions"] == [] and answer["client"]["last_active_session_id"] is None
    assert idp.store.sessions[session_id].status == "ended"
    tokens = tab.call(f"/client/sessions/{session_id}/tokens", {})
    assert error(tokens)[:2] == (401, "authentication_invalid")


def test_a_production_instance_keeps_the_client_in_its_cookie_and_sets_client_uat() -> None:
    idp = DevIdP(DevIdPConfig(instance="production"))
    tab = Tab(idp)
    assert tab.dev_browser is None  # no dev browser on production
    empty = tab.call("/client")
    assert (empty.status_code, empty.get_json()) == (200, {"response": None, "client": None})
    session_id = tab.sign_in()

    def cookie(name: str) -> str:
        found = tab.http.get_cookie(name)
        assert found is not None, name
        return found.value

    client = idp.store.clients[cookie("__client")]
    assert client.last_active_session_id == session_id
    assert cookie("__client_uat") == str(int(client.updated_at))
    assert tab.call("/client").get_json()["response"]["sessions"][0]["id"] == session_id
    tab.call("/client/sessions", method="DELETE")
    assert cookie("__client_uat") == "0"


def test_one_browser_cannot_use_another_browsers_session_or_sign_in(idp: DevIdP) -> None:
    alice, mallory = Tab(idp), Tab(idp)
    session_id = alice.sign_in()
    pending = alice.call("/client/sign_ins", {"identifier": "bob@example.test"})
    sign_in_id = pending.get_json()["response"]["id"]
    for path in ("tokens", "touch", "end", "remove"):
        answer = mallory.call(f"/client/sessions/{session_id}/{path}", {})
        assert error(answer)[:2] == (404, "resource_not_found"), path
    stolen = mallory.call(
        f"/client/sign_ins/{sign_in_id}/attempt_first_factor",
        {"strategy": "password", "password": "bob-password"},
    )
    assert error(stolen)[:2] == (404, "resource_not_found")
    assert idp.store.sessions[session_id].status == "active"


def test_cors_with_credentials_only_for_the_apps_origin(idp: DevIdP) -> None:
    ours = Tab(idp).call("/environment")
    assert ours.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert ours.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Clerk-Db-Jwt" in ours.headers["Access-Control-Expose-Headers"]
    assert "Origin" in ours.headers["Vary"]
    theirs = Tab(idp, origin="https://evil.test")
    for answer in (theirs.call("/environment"), theirs.call("/client")):
        assert "Access-Control-Allow-Origin" not in answer.headers
        assert "Access-Control-Allow-Credentials" not in answer.headers


def test_a_sign_in_posted_from_another_site_is_refused(idp: DevIdP) -> None:
    """Login CSRF: another site's page posting with the victim's dev browser cookie."""
    victim = Tab(idp)
    victim.origin = "https://evil.test"
    answer = victim.call(
        "/client/sign_ins", {"identifier": "alice@example.test", "password": "alice-password"}
    )
    assert error(answer)[:2] == (403, "origin_invalid")
    assert victim.call("/client/sessions", method="DELETE").status_code == 403


@pytest.mark.parametrize("host", ["", "evil$x", "a/b", "Host.example", "a..b", "-a.dev"])
def test_the_frontend_api_must_be_a_host_name(host: str) -> None:
    with pytest.raises(ValueError, match="frontend_api"):
        DevIdPConfig(frontend_api=host)


def _fake_install(root: Path, version: str) -> Path:
    package = root / "node_modules" / "@clerk" / "clerk-js"
    (package / "dist").mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"version": version}))
    (package / "dist" / "clerk.browser.js").write_text("window.loaded = true;")
    (package / "secret.txt").write_text("outside dist")
    return root


@pytest.mark.parametrize(
    ("spec", "status"), [("6", 200), ("6.1.2", 200), ("latest", 200), ("5", 404), ("6.1", 404)]
)
def test_the_sdk_is_served_under_its_version_major_or_latest(
    tmp_path: Path, spec: str, status: int
) -> None:
    idp = DevIdP(DevIdPConfig(clerk_js_dir=str(_fake_install(tmp_path, "6.1.2"))))
    client = idp.app.test_client()
    with client.get(f"/clerk/npm/@clerk/clerk-js@{spec}/dist/clerk.browser.js") as answer:
        assert answer.status_code == status
        if status == 200:
            assert answer.get_data() == b"window.loaded = true;"
            assert answer.mimetype == "text/javascript"


def test_nothing_outside_dist_is_served_and_a_missing_install_says_how_to_fix_it(
    tmp_path: Path,
) -> None:
    installed = DevIdP(DevIdPConfig(clerk_js_dir=str(_fake_install(tmp_path / "a", "6.1.2"))))
    client = installed.app.test_client()
    for name in ("../secret.txt", "..%2fsecret.txt", "%2e%2e/secret.txt"):
        assert client.get(f"/clerk/npm/@clerk/clerk-js@6/dist/{name}").status_code == 404
    missing = DevIdP(DevIdPConfig(clerk_js_dir=str(tmp_path / "none"))).app.test_client()
    answer = missing.get("/clerk/npm/@clerk/clerk-js@6/dist/clerk.browser.js")
    assert answer.status_code == 404 and b"make clerk-js" in answer.data


HOSTILE = DevIdP(DevIdPConfig())
_fields = st.dictionaries(
    st.sampled_from(
        ["identifier", "password", "strategy", "code", "email_address_id", "organization_id",
         "active_organization_id", "intent", "_method", "x"]
    ),
    st.text(max_size=30) | st.sampled_from(["alice@example.test", "password", "email_code"]),
    max_size=5,
)  # fmt: skip
_paths = st.sampled_from(
    ["/environment", "/client", "/client/sessions", "/client/sign_ins",
     "/client/sign_ins/sia_x/attempt_first_factor", "/client/sign_ins/sia_x/nope",
     "/client/sessions/sess_x/tokens", "/client/sessions/sess_x/touch",
     "/client/sessions/sess_x/nope"]
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=_paths,
    form=_fields,
    method=st.none() | st.sampled_from(["PATCH", "PUT", "DELETE", "GET", "ü", ""]),
    dev_browser=st.booleans(),
)
def test_no_call_gives_a_500(
    path: str, form: dict[str, str], method: str | None, dev_browser: bool
) -> None:
    tab = Tab(HOSTILE)
    if not dev_browser:
        tab.dev_browser = "dvb_unknown"
    answer = tab.call(path, form, method=method)
    assert answer.status_code < 500
    assert answer.is_json
    if answer.status_code >= 400:
        assert answer.get_json()["errors"][0]["code"]
