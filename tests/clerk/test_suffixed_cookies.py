"""Cookie header parsing, the uat and redirect-counter numbers, ``usesSuffixedCookies()``."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard.providers.clerk.cookies import first_cookies
from flask_idguard.providers.clerk.cookies import parse_client_uat
from flask_idguard.providers.clerk.cookies import parse_redirect_count
from flask_idguard.providers.clerk.cookies import uses_suffixed_cookies
from flask_idguard.providers.clerk.js import JS_INFINITY_INT
from flask_idguard.providers.clerk.js import js_trim
from flask_idguard.testing import TestIssuer

FAPI = "clerk.inspired.puma-74.lcl.dev"
LIVE_SUFFIX = "MqCvchyS"  # cookie_suffix(PK_LIVE)
TEST_SUFFIX = "vWCgMp3A"  # cookie_suffix(PK_TEST)
IAT = 1666648250  # Clerk's fixtures: tokens issued now, expiring 60 s later
UAT = "1717490192"
SUFFIXED_UAT = "1717490193"

ISSUER = TestIssuer("https://" + FAPI, audience=None)


def token(**claims: Any) -> str:
    """A session token like Clerk's ``createJwt``; a claim set to ``...`` is left out."""
    payload: dict[str, object] = {"iss": "https://" + FAPI, "iat": IAT, "exp": IAT + 60}
    payload.update(claims)
    return ISSUER.sign_raw(
        {"alg": "RS256", "typ": "JWT", "kid": ISSUER.kid},
        {k: v for k, v in payload.items() if v is not ...},
    )


SESSION = token()
SUFFIXED_SESSION = token(sid="sess_suffixed")
NEW_SESSION = token(iat=IAT + 60)


def uses_suffixed(cookies: dict[str, str], *, production: bool, now: float = IAT) -> bool:
    return uses_suffixed_cookies(
        cookies,
        suffix=LIVE_SUFFIX if production else TEST_SUFFIX,
        original_frontend_api=FAPI,
        production=production,
        now=now,
    )


def live(**cookies: str) -> dict[str, str]:
    """Cookies of the live key: ``_sfx`` in a name becomes ``_MqCvchyS``."""
    return {k.replace("_sfx", "_" + LIVE_SUFFIX): v for k, v in cookies.items()}


def dev(**cookies: str) -> dict[str, str]:
    """Cookies of the test key: ``_sfx`` in a name becomes ``_vWCgMp3A``."""
    return {k.replace("_sfx", "_" + TEST_SUFFIX): v for k, v in cookies.items()}


PROD, DEV = True, False

# -- Clerk's own scenarios (authenticateContext.test.ts) -------------------------------------

CLERK_SCENARIOS = [
    pytest.param(live(__client_uat=UAT, __session=SESSION), PROD, False, id="un-suffixed-only"),
    pytest.param(
        live(
            __client_uat=UAT,
            __client_uat_sfx=SUFFIXED_UAT,
            __session=NEW_SESSION,
            __session_sfx=SUFFIXED_SESSION,
            __clerk_db_jwt="db",
            __clerk_db_jwt_sfx="db-suffixed",
        ),
        PROD,
        False,
        id="clerkjs-downgrade-newer-un-suffixed-token",
    ),
    pytest.param(
        dev(__client_uat=UAT, __client_uat_sfx="0", __session=SESSION, __clerk_db_jwt="db"),
        DEV,
        False,
        id="suffixed-uat-0-vs-un-suffixed-signed-in",
    ),
    pytest.param(
        live(
            __client_uat="0",
            __client_uat_sfx="0",
            __session=SESSION,
            __session_sfx=SUFFIXED_SESSION,
        ),
        PROD,
        True,
        id="prod-suffixed-session-signed-out-suffixed-uat",
    ),
    pytest.param(
        live(
            __client_uat=UAT,
            __client_uat_sfx=SUFFIXED_UAT,
            __session=SESSION,
            __session_sfx=SUFFIXED_SESSION,
        ),
        PROD,
        True,
        id="prod-both-valid",
    ),
    pytest.param(
        live(
            __client_uat=UAT,
            __client_uat_sfx=SUFFIXED_UAT,
            __session=token(iss="http:whatever"),
            __session_sfx=SUFFIXED_SESSION,
        ),
        PROD,
        True,
        id="prod-invalid-issuer-un-suffixed-other-app-on-same-site",
    ),
    pytest.param(
        {
            "__client_uat": "0",
            f"__client_uat_{TEST_SUFFIX}": "0",
            "__client_uat_8HKF1r6W": "1717490193",
            "__client_uat_Rmi8c5i8": "1717490194",
            "__session": SESSION,
            f"__session_{TEST_SUFFIX}": SUFFIXED_SESSION,
            "__session_8HKF1r6W": token(iss="http://blah"),
            "__session_Rmi8c5i8": token(iss="http://foo"),
            "__clerk_db_jwt": "db",
            f"__clerk_db_jwt_{TEST_SUFFIX}": "db-suffixed",
        },
        DEV,
        True,
        id="dev-multiple-apps-on-localhost-own-suffix",
    ),
    pytest.param(
        dev(
            __client_uat="0",
            __client_uat_sfx="0",
            __session=SESSION,
            __session_sfx=SUFFIXED_SESSION,
        ),
        DEV,
        True,
        id="dev-suffixed-session-signed-out-suffixed-uat",
    ),
    pytest.param(
        live(__client_uat="0", __client_uat_sfx="0", __session=SESSION),
        PROD,
        True,
        id="prod-no-suffixed-session-suffixed-uat-0",
    ),
    pytest.param(live(__client_uat=UAT, __session=token(iss=123)), PROD, True, id="non-string-iss"),
]


@pytest.mark.parametrize(("cookies", "production", "suffixed"), CLERK_SCENARIOS)
def test_clerk_scenarios(cookies: dict[str, str], production: bool, suffixed: bool) -> None:
    assert uses_suffixed(cookies, production=production) is suffixed


# -- each rule, first match wins -------------------------------------------------------------

EXPIRED_SUFFIXED = token(sid="sess_suffixed", exp=IAT)  # exp == now: expired (<=)


@pytest.mark.parametrize(
    ("cookies", "production", "now", "suffixed"),
    [
        # rule 1: un-suffixed session without a (truthy) iss, or undecodable -> un-suffixed
        pytest.param(
            live(__session=token(iss=...), __client_uat_sfx=SUFFIXED_UAT, __session_sfx=SESSION),
            PROD, IAT, False, id="r1-no-iss",
        ),
        pytest.param(live(__session=token(iss="")), PROD, IAT, False, id="r1-empty-iss"),
        pytest.param(live(__session=token(iss=None)), PROD, IAT, False, id="r1-null-iss"),
        pytest.param(live(__session=token(iss=0)), PROD, IAT, False, id="r1-zero-iss"),
        pytest.param(live(__session=token(iss=False)), PROD, IAT, False, id="r1-false-iss"),
        pytest.param(
            live(__session="not-a-jwt", __client_uat_sfx=SUFFIXED_UAT), PROD, IAT, False,
            id="r1-undecodable",
        ),
        pytest.param(
            live(__session=ISSUER.sign_raw({"alg": "RS256"}, ["iss"])), PROD, IAT, False,
            id="r1-payload-not-an-object",
        ),
        # rule 2: an iss that is not this instance's -> suffixed
        pytest.param(live(__session=token(iss=[FAPI])), PROD, IAT, True, id="r2-list-iss"),
        pytest.param(live(__session=token(iss={})), PROD, IAT, True, id="r2-object-iss"),
        pytest.param(live(__session=token(iss=True)), PROD, IAT, True, id="r2-true-iss"),
        pytest.param(
            live(__session=token(iss="https://clerk.other.dev")), PROD, IAT, True,
            id="r2-other-instance",
        ),
        pytest.param(
            live(__session=token(iss=f"https://{FAPI}/")), PROD, IAT, True, id="r2-trailing-slash"
        ),
        pytest.param(live(__session=token(iss=FAPI)), PROD, IAT, False, id="r2-bare-host-belongs"),
        pytest.param(
            live(__session=token(iss=f"HTTPS://{FAPI}")), PROD, IAT, False,
            id="r2-scheme-any-case",
        ),
        pytest.param(
            live(__session=token(iss=f"http://{FAPI}")), PROD, IAT, False, id="r2-http-scheme"
        ),
        pytest.param(
            live(__session=token(iss=f"https://https://{FAPI}")), PROD, IAT, False,
            id="r2-every-scheme-removed",
        ),
        pytest.param(
            live(__session=token(iss="clerk.inspired.https://puma-74.lcl.dev")), PROD, IAT,
            False, id="r2-scheme-removed-anywhere",
        ),
        # rule 3: no suffixed uat and no suffixed session -> un-suffixed
        pytest.param(live(__session=SESSION), PROD, IAT, False, id="r3-nothing-suffixed"),
        pytest.param(
            live(__session=SESSION, __client_uat_sfx="", __session_sfx=""), PROD, IAT, False,
            id="r3-empty-values-are-absent",
        ),
        pytest.param({}, PROD, IAT, False, id="r3-no-cookies"),
        pytest.param(
            {"__session_otherSfx": SESSION, "__client_uat_otherSfx": UAT}, PROD, IAT, False,
            id="r3-other-apps-suffix-ignored",
        ),
        # rule 4: both signed in, un-suffixed newer -> un-suffixed
        pytest.param(
            live(__client_uat_sfx=UAT, __session=NEW_SESSION, __session_sfx=SESSION), PROD, IAT,
            False, id="r4-missing-plain-uat-is-not-0",
        ),
        pytest.param(
            live(__client_uat=UAT, __client_uat_sfx=UAT, __session=SESSION, __session_sfx=SESSION),
            PROD, IAT, True, id="r4-same-iat-not-newer",
        ),
        pytest.param(
            live(__client_uat=UAT, __client_uat_sfx=UAT, __session=SESSION,
                 __session_sfx=token(iat="later")),
            PROD, IAT, False, id="r4-non-numeric-iat-is-0",
        ),
        pytest.param(
            live(__client_uat=UAT, __client_uat_sfx=UAT, __session=token(iat=True),
                 __session_sfx=token(iat=...)),
            PROD, IAT, True, id="r4-boolean-iat-is-0",
        ),
        # rule 5: suffixed signed out, un-suffixed signed in -> un-suffixed
        pytest.param(
            live(__client_uat_sfx="0", __session_sfx=SESSION), PROD, IAT, False,
            id="r5-missing-plain-uat-is-not-0",
        ),
        pytest.param(
            live(__client_uat="00", __client_uat_sfx="0"), PROD, IAT, False,
            id="r5-string-comparison-00-is-not-0",
        ),
        # rule 6: development only, suffixed session expired
        pytest.param(
            dev(__client_uat="0", __client_uat_sfx=UAT, __session_sfx=EXPIRED_SUFFIXED),
            DEV, IAT, False, id="r6-dev-expired-at-exp",
        ),
        pytest.param(
            dev(__client_uat="0", __client_uat_sfx=UAT, __session_sfx=EXPIRED_SUFFIXED),
            DEV, IAT + 0.999, False, id="r6-dev-now-is-floored",
        ),
        pytest.param(
            dev(__client_uat="0", __client_uat_sfx=UAT, __session_sfx=EXPIRED_SUFFIXED),
            DEV, IAT - 0.001, True, id="r6-dev-one-second-before",
        ),
        pytest.param(
            dev(__client_uat="0", __client_uat_sfx=UAT, __session_sfx=SUFFIXED_SESSION),
            DEV, IAT, True, id="r6-dev-not-expired",
        ),
        pytest.param(
            live(__client_uat="0", __client_uat_sfx=UAT, __session_sfx=EXPIRED_SUFFIXED),
            PROD, IAT, True, id="r6-not-in-production",
        ),
        pytest.param(
            dev(__client_uat="0", __client_uat_sfx=UAT, __session_sfx=token(exp="0")),
            DEV, IAT, True, id="r6-non-numeric-exp-never-expired",
        ),
        pytest.param(
            dev(__client_uat="0", __client_uat_sfx=UAT, __session_sfx="garbage"),
            DEV, IAT, True, id="r6-undecodable-never-expired",
        ),
        pytest.param(
            dev(__client_uat_sfx=UAT, __session_sfx=EXPIRED_SUFFIXED), DEV, IAT, True,
            id="r6-plain-uat-missing-is-not-0",
        ),
        # rule 7: suffixed session without suffixed uat -> un-suffixed
        pytest.param(
            live(__client_uat="0", __session_sfx=SESSION), PROD, IAT, False,
            id="r7-suffixed-session-without-uat",
        ),
        pytest.param(
            live(__client_uat="0", __client_uat_sfx="", __session_sfx=SESSION), PROD, IAT, False,
            id="r7-empty-suffixed-uat-is-missing",
        ),
        # rule 8
        pytest.param(live(__client_uat_sfx=SUFFIXED_UAT), PROD, IAT, True, id="r8-suffixed-uat"),
        pytest.param(
            live(__session="", __client_uat_sfx="0", __client_uat="0"), PROD, IAT, True,
            id="r8-empty-plain-session-is-absent",
        ),
    ],
)  # fmt: skip
def test_rules(cookies: dict[str, str], production: bool, now: float, suffixed: bool) -> None:
    assert uses_suffixed(cookies, production=production, now=now) is suffixed


# -- hostile input never raises --------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
NAMES = [
    "__session",
    "__client_uat",
    f"__session_{LIVE_SUFFIX}",
    f"__client_uat_{LIVE_SUFFIX}",
]


@st.composite
def hostile_values(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["text", "claims", "payload"]))
    if kind == "text":
        return draw(st.text(max_size=40))
    if kind == "claims":
        claims = draw(st.fixed_dictionaries({}, optional={n: JSON for n in ("iss", "iat", "exp")}))
        return ISSUER.sign_raw({"alg": "RS256"}, claims)
    return ISSUER.sign_raw({"alg": "RS256"}, draw(JSON))


@settings(max_examples=150, deadline=None)
@given(
    cookies=st.dictionaries(st.sampled_from(NAMES), hostile_values()),
    production=st.booleans(),
    now=st.floats(min_value=0, max_value=1e10),
)
def test_hostile_cookies_never_raise(cookies: dict[str, str], production: bool, now: float) -> None:
    result = uses_suffixed_cookies(
        cookies, suffix=LIVE_SUFFIX, original_frontend_api=FAPI, production=production, now=now
    )
    assert result in (True, False)


# -- Cookie header ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("a=1; b=2", {"a": "1", "b": "2"}, id="two"),
        pytest.param("a=1; a=2", {"a": "1"}, id="first-occurrence-wins"),
        pytest.param("__session=mine; x=1; __session=theirs", {"__session": "mine", "x": "1"},
                     id="first-session-wins"),
        pytest.param("a=%3B; b=c", {"a": ";", "b": "c"}, id="decoded-after-split"),
        pytest.param("a=x%3B%20__session%3Devil", {"a": "x; __session=evil"},
                     id="encoded-separators-never-forge-a-cookie"),
        pytest.param("a=b%3Dc", {"a": "b=c"}, id="encoded-equals"),
        pytest.param("a=b=c", {"a": "b=c"}, id="split-at-first-equals"),
        pytest.param('a="x"', {"a": '"x"'}, id="quotes-kept"),
        pytest.param('a="x;y"; b=1', {"a": '"x', "b": "1"}, id="quoted-semicolon-still-splits"),
        pytest.param('a="x\\"y"', {"a": '"x\\"y"'}, id="no-backslash-unescaping"),
        pytest.param("a=%E2%82%AC", {"a": "\u20ac"}, id="utf8-escapes"),
        pytest.param("a=%ZZ%41", {"a": "%ZZ%41"}, id="bad-escape-keeps-raw-value"),
        pytest.param("a=%", {"a": "%"}, id="lone-percent"),
        pytest.param("a=%C0%AF", {"a": "%C0%AF"}, id="overlong-utf8-kept-raw"),
        pytest.param("a=%ED%A0%80", {"a": "%ED%A0%80"}, id="surrogate-kept-raw"),
        pytest.param("a=%FF", {"a": "%FF"}, id="invalid-utf8-kept-raw"),
        pytest.param("  a \t=  x y \t; b=", {"a": "x y", "b": ""}, id="trim-space-and-tab-only"),
        pytest.param("a=\u00a0x\u00a0", {"a": "\u00a0x\u00a0"}, id="nbsp-not-trimmed"),
        pytest.param("a b=1", {"a b": "1"}, id="space-inside-name"),
        pytest.param("a=1,b=2", {"a": "1,b=2"}, id="comma-is-not-a-separator"),
        pytest.param("flag; a=1", {"a": "1"}, id="segment-without-equals-skipped"),
        pytest.param("=x", {"": "x"}, id="empty-name"),
        pytest.param("a=1;;;b=2;", {"a": "1", "b": "2"}, id="empty-segments"),
        pytest.param("", {}, id="empty"),
        pytest.param("a", {}, id="single-char"),
        pytest.param("=", {}, id="single-equals"),
        pytest.param(";;;", {}, id="only-semicolons"),
    ],
)  # fmt: skip
def test_first_cookies(header: str, expected: dict[str, str]) -> None:
    assert first_cookies(header) == expected


# -- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 0),
        ("", 0),
        ("0", 0),
        ("-0", 0),
        ("123", 123),
        ("1700000000", 1700000000),
        ("123abc", 123),
        ("1700000000xyz", 1700000000),
        ("-5", -5),
        ("+7", 7),
        ("0x1A", 26),
        ("0X1a", 26),
        ("-0x1A", -26),
        ("0x", 0),
        ("0xg", 0),
        ("abc", 0),
        ("  42 ", 42),
        ("\t\n\v\f\r42", 42),
        ("\u00a0\u2003\ufeff42", 42),
        ("\x1c42", 0),  # not JavaScript whitespace (Python's strip would take it)
        ("1.9", 1),
        ("1e3", 1),
        ("08", 8),
        ("1_000", 1),
        ("--1", 0),
        ("+-1", 0),
        ("\u0663", 0),  # ARABIC-INDIC DIGIT THREE is not a digit to parseInt
        ("9007199254740993", 9007199254740992),  # rounded like a JavaScript number
        ("9" * 400, JS_INFINITY_INT),
        ("-" + "9" * 5000, -JS_INFINITY_INT),
        ("0x" + "f" * 300, JS_INFINITY_INT),
    ],
)
def test_parse_client_uat_is_parse_int(value: str | None, expected: int) -> None:
    result = parse_client_uat(value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 0),
        ("", 0),
        ("   ", 0),
        ("0", 0),
        ("-0", 0),
        ("3", 3),
        ("4", 4),
        (" 3 ", 3),
        ("\u00a03\u3000\n", 3),
        ("\x1c3", 0),
        ("+3", 3),
        ("-1", -1),
        ("3.0", 3),
        ("3.", 3),
        ("3e0", 3),
        ("0.3e1", 3),
        ("3.5", 3.5),
        (".5", 0.5),
        ("0x3", 3),
        ("0X1f", 31),
        ("0o10", 8),
        ("0b11", 3),
        ("-0x3", 0),
        ("0x", 0),
        ("3a", 0),
        ("3 3", 0),
        ("1_0", 0),
        (".", 0),
        ("e5", 0),
        ("NaN", 0),
        ("inf", 0),
        ("infinity", 0),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("1e400", math.inf),
        ("\u0663", 0),
    ],
)
def test_parse_redirect_count_is_number(value: str | None, expected: float) -> None:
    result = parse_redirect_count(value)
    assert result == expected
    if isinstance(expected, int):
        assert type(result) is int  # "3.0" is 3, so `== 3` and the n+1 cookie read as in JS


def test_js_trim_uses_javascript_whitespace() -> None:
    assert js_trim("\u2028 a \u3000") == "a"
    assert js_trim("\x85a\x1f") == "\x85a\x1f"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_hostile_header_values_never_raise(value: str) -> None:
    cookies = first_cookies(value)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in cookies.items())
    assert isinstance(parse_client_uat(value), int)
    assert isinstance(parse_redirect_count(value), int | float)
