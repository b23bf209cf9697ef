"""Publishable keys, frontend API overrides, cookie suffix, handshake base and known referrers."""

from __future__ import annotations

import base64
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard.errors import ConfigurationError
from flask_idguard.providers.clerk.instance import PublishableKey
from flask_idguard.providers.clerk.instance import accounts_base_url
from flask_idguard.providers.clerk.instance import cookie_suffix
from flask_idguard.providers.clerk.instance import frontend_api_for
from flask_idguard.providers.clerk.instance import handshake_base
from flask_idguard.providers.clerk.instance import is_development_secret_key
from flask_idguard.providers.clerk.instance import is_known_clerk_referrer
from flask_idguard.providers.clerk.instance import original_frontend_api
from flask_idguard.providers.clerk.instance import parse_publishable_key
from flask_idguard.providers.clerk.instance import resolve_proxy_url

PK_TEST = "pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA"
PK_LIVE = "pk_live_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA"
FAPI = "clerk.inspired.puma-74.lcl.dev"
TEST_PREFIX_STR = "pk_test_"
MISSING = "Publishable key is missing.\n\n"
INVALID = "Publishable key not valid (expected format: pk_test_... or pk_live_...).\n\n"


def pk(host: str, prefix: str = "pk_test_", *, pad: bool = False) -> str:
    """A publishable key for ``host`` (``host`` includes the ``$`` when a test wants it)."""
    encoded = base64.b64encode(host.encode("latin-1")).decode("ascii")
    return prefix + (encoded if pad else encoded.rstrip("="))


# -- parse_publishable_key -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "instance_type", "frontend_api"),
    [
        pytest.param(PK_TEST, "development", FAPI, id="test-key"),
        pytest.param(PK_LIVE, "production", FAPI, id="live-key"),
        pytest.param("pk_live_Y2xlcmsuY2xlcmsuZGV2JA", "production", "clerk.clerk.dev", id="short"),
        pytest.param(
            "pk_test_ZW5vdWdoLWFscGFjYS04Mi5jbGVyay5hY2NvdW50cy5sY2xjbGVyay5jb20k",
            "development",
            "enough-alpaca-82.clerk.accounts.lclclerk.com",
            id="kima-dev-host",
        ),
        pytest.param(pk("a.b$", pad=True), "development", "a.b", id="padding-accepted-like-atob"),
        pytest.param(
            "pk_test_Y2xlcmsuY2xl cmsuZGV2\nJA",
            "development",
            "clerk.clerk.dev",
            id="atob-drops-ws",
        ),
        pytest.param(
            pk("clerk.example.com:8443$"), "development", "clerk.example.com:8443", id="port"
        ),
    ],
)
def test_valid_publishable_keys(
    key: str, instance_type: Literal["production", "development"], frontend_api: str
) -> None:
    parsed = parse_publishable_key(key)
    assert parsed == PublishableKey(key=key, instance_type=instance_type, frontend_api=frontend_api)
    assert parsed.is_production is (instance_type == "production")


@pytest.mark.parametrize(
    ("value", "start"),
    [
        pytest.param(None, MISSING, id="none-is-missing"),
        pytest.param("", MISSING, id="empty-is-missing"),
        pytest.param("   ", INVALID, id="blank-is-not-missing"),
        pytest.param(42, INVALID, id="not-a-string"),
        pytest.param(b"pk_test_Y2xlcmsuY2xlcmsuZGV2JA", INVALID, id="bytes"),
        pytest.param("sk_test_Y2xlcmsuY2xlcmsuZGV2JA", INVALID, id="secret-key-prefix"),
        pytest.param("PK_TEST_Y2xlcmsuY2xlcmsuZGV2JA", INVALID, id="prefix-is-case-sensitive"),
        pytest.param("pk_test_", INVALID, id="empty-third-part"),
        pytest.param("pk_test_Y2xl_cmsuY2xlcmsuZGV2JA", INVALID, id="four-parts"),
        pytest.param("pk_test_Y2xlcmsuY2xlcmsuZGV2JA_", INVALID, id="trailing-underscore"),
        pytest.param(pk("clerk.example.com"), INVALID, id="no-dollar"),
        pytest.param(pk("clerk.example.com$$"), INVALID, id="two-dollars-at-end"),
        pytest.param(pk("clerk.$example.com$"), INVALID, id="dollar-inside"),
        pytest.param(pk("localhost$"), INVALID, id="no-dot"),
        pytest.param(pk("$"), INVALID, id="only-dollar"),
        pytest.param(pk("clerk.example.com$") + "=", INVALID, id="bad-padding"),
        pytest.param("pk_test_Y2xlcmsuY2xlcmsuZGV2J", INVALID, id="length-mod-4-is-1"),
        pytest.param("pk_test_Y2xlcmsuY2xlcmsuZGV2-A", INVALID, id="url-safe-alphabet"),
        pytest.param("pk_test_Y2xlcmsuY2xlcmsuZGV2JA==x", INVALID, id="data-after-padding"),
        pytest.param("pk_test_Y2xlcmsu\u00e9Y2xlcmsuZGV2JA", INVALID, id="non-ascii"),
        pytest.param(pk("clerk.exa\r\nmple.com$"), INVALID, id="crlf-in-host"),
        pytest.param(pk("clerk.exa mple.com$"), INVALID, id="space-in-host"),
    ],
)
def test_invalid_publishable_keys_raise_clerks_message(value: object, start: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_publishable_key(value)
    message = str(info.value)
    assert message.startswith(start)
    assert "CLERK_PUBLISHABLE_KEY" in message.removeprefix(start)
    if isinstance(value, str) and len(value) > len("pk_test_"):
        assert value not in message  # a pasted secret key is never echoed


def test_latin1_host_is_read_like_atob() -> None:
    assert parse_publishable_key(pk("clerk.b\u00fccher.de$")).frontend_api == "clerk.b\u00fccher.de"


# -- cookie_suffix ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "suffix"),
    [
        ("pk_live_Y2xlcmsuY2xlcmsuZGV2JA", "1Z8AzTQD"),
        ("pk_test_Y2xlcmsuY2xlcmsuZGV2JA", "QvfNY2dr"),
        ("pk_test_ZW5vdWdoLWFscGFjYS04Mi5jbGVyay5hY2NvdW50cy5sY2xjbGVyay5jb20k", "jtYvyt_H"),
        ("pk_test_eHh4eHh4LXhhYWFhYS1hYS5jbGVyay5hY2NvdW50cy5sY2xjbGVyay5jb20k", "tZJdb-5s"),
        (PK_TEST, "vWCgMp3A"),
        (PK_LIVE, "MqCvchyS"),
    ],
)
def test_cookie_suffix_vectors(key: str, suffix: str) -> None:
    assert cookie_suffix(key) == suffix


# -- frontend API ----------------------------------------------------------------------------

LIVE = parse_publishable_key(PK_LIVE)
TEST = parse_publishable_key(PK_TEST)


@pytest.mark.parametrize(
    ("key", "proxy_url", "domain", "is_satellite", "expected", "original"),
    [
        pytest.param(LIVE, None, None, False, FAPI, FAPI, id="key-host"),
        pytest.param(LIVE, None, "example.com", False, FAPI, FAPI, id="domain-ignored-on-primary"),
        pytest.param(
            LIVE, None, "example.com", True, "clerk.example.com", "clerk.example.com",
            id="prod-satellite-domain",
        ),
        pytest.param(TEST, None, "example.com", True, FAPI, FAPI, id="dev-satellite-uses-key-host"),
        pytest.param(LIVE, None, "", True, FAPI, FAPI, id="empty-domain-is-unset"),
        pytest.param(
            LIVE, "https://example.com/__clerk", None, False, "https://example.com/__clerk", FAPI,
            id="proxy-wins",
        ),
        pytest.param(
            LIVE, "https://example.com/__clerk", "sat.com", True, "https://example.com/__clerk",
            "clerk.sat.com", id="proxy-wins-over-satellite-original-keeps-domain",
        ),
        pytest.param(LIVE, "", None, False, FAPI, FAPI, id="empty-proxy-is-unset"),
    ],
)  # fmt: skip
def test_frontend_api_overrides(
    key: PublishableKey,
    proxy_url: str | None,
    domain: str | None,
    is_satellite: bool,
    expected: str,
    original: str,
) -> None:
    assert (
        frontend_api_for(key, proxy_url=proxy_url, domain=domain, is_satellite=is_satellite)
        == expected
    )
    assert original_frontend_api(key, domain=domain, is_satellite=is_satellite) == original


@pytest.mark.parametrize(
    ("proxy_url", "expected"),
    [
        ("/__clerk", "https://myapp.example.com/__clerk"),
        ("/__clerk/", "https://myapp.example.com/__clerk/"),
        ("//evil.example/x", "https://myapp.example.com//evil.example/x"),  # concatenated
        ("https://proxy.example.com/clerk", "https://proxy.example.com/clerk"),
    ],
)
def test_resolve_proxy_url(proxy_url: str, expected: str) -> None:
    assert resolve_proxy_url(proxy_url, "https://myapp.example.com") == expected


@pytest.mark.parametrize(
    ("key", "development"),
    [
        ("sk_test_abc", True),
        ("test_abc", True),
        ("sk_live_abc", False),
        ("live_abc", False),
        ("", False),
        ("SK_TEST_abc", False),
    ],
)
def test_is_development_secret_key(key: str, development: bool) -> None:
    assert is_development_secret_key(key) is development


@pytest.mark.parametrize(
    ("frontend_api", "expected"),
    [
        pytest.param(FAPI, f"https://{FAPI}/v1/client/handshake", id="bare-host-gets-https"),
        pytest.param(
            "https://example.com/clerk",
            "https://example.com/clerk/v1/client/handshake",
            id="proxy-path",
        ),
        pytest.param(
            "https://example.com/clerk/",
            "https://example.com/clerk/v1/client/handshake",
            id="one-trailing-slash",
        ),
        pytest.param(
            "https://example.com/clerk///",
            "https://example.com/clerk/v1/client/handshake",
            id="many-trailing-slashes",
        ),
        pytest.param(
            "https://example.com/", "https://example.com/v1/client/handshake", id="origin-slash"
        ),
        pytest.param(
            "http://localhost:3000/__clerk",
            "http://localhost:3000/__clerk/v1/client/handshake",
            id="http-kept",
        ),
        pytest.param(
            "clerk.example.com/", "https://clerk.example.com/v1/client/handshake", id="host-slash"
        ),
    ],
)
def test_handshake_base_never_has_double_slash(frontend_api: str, expected: str) -> None:
    assert handshake_base(frontend_api) == expected
    assert "//v1" not in handshake_base(frontend_api)


@pytest.mark.parametrize(
    ("frontend_api", "expected"),
    [
        (FAPI, "https://accounts.inspired.puma-74.lcl.dev"),
        ("clerk.example.com", "https://accounts.example.com"),
        ("foo-bar-13.clerk.accounts.dev", "https://foo-bar-13.accounts.dev"),
        ("foo-bar-13.clerk.accountsstage.dev", "https://foo-bar-13.accountsstage.dev"),
        ("clerk.clerk.example.com", "https://accounts.clerk.example.com"),  # first one only
        ("example.com", "https://example.com"),
        ("", ""),
    ],
)
def test_accounts_base_url(frontend_api: str, expected: str) -> None:
    assert accounts_base_url(frontend_api) == expected


# -- is_known_clerk_referrer -----------------------------------------------------------------

DEV, PROD = False, True


@pytest.mark.parametrize(
    ("referrer", "frontend_api", "production", "known"),
    [
        # §7.1 "Cross-origin sync"
        pytest.param("https://satellite.com/signin", FAPI, PROD, False, id="satellite-prod"),
        pytest.param("https://satellite.com/sign-in", FAPI, PROD, False, id="legit-satellite"),
        pytest.param("https://accounts.example.com/", FAPI, PROD, False, id="unrelated-accounts"),
        pytest.param("https://accounts.example.com/", FAPI, DEV, False, id="unrelated-dev"),
        pytest.param("https://foo-bar-13.accounts.dev/x", FAPI, DEV, True, id="dev-portal-on-dev"),
        pytest.param(
            "https://accounts.foo-bar-13.lcl.dev/x", FAPI, DEV, True, id="legacy-portal-on-dev"
        ),
        pytest.param("https://foo-bar-13.accounts.dev/x", FAPI, PROD, False, id="dev-portal-prod"),
        pytest.param(
            "https://accounts.foo-bar-13.lcl.dev/x", FAPI, PROD, False, id="legacy-portal-prod"
        ),
        pytest.param(
            "https://accounts.inspired.puma-74.lcl.dev/sign-in", FAPI, DEV, True,
            id="derived-accounts-portal-dev",
        ),
        pytest.param(
            "https://accounts.inspired.puma-74.lcl.dev/sign-in", FAPI, PROD, True,
            id="derived-accounts-portal-prod",
        ),
        pytest.param(f"https://{FAPI}/v1/client", FAPI, DEV, True, id="fapi-host"),
        pytest.param(f"https://{FAPI}/v1/client", FAPI, PROD, True, id="fapi-host-prod"),
        # (i) is a hostname test: scheme, port and case do not matter
        pytest.param(f"http://{FAPI}:8080/x", FAPI, PROD, True, id="fapi-any-scheme-port"),
        pytest.param("https://CLERK.Inspired.PUMA-74.lcl.dev/", FAPI, PROD, True, id="fapi-case"),
        pytest.param(f"https:{FAPI}/x", FAPI, PROD, True, id="fapi-missing-slashes"),
        # (iii) is an origin test: scheme and port matter
        pytest.param(
            "http://accounts.inspired.puma-74.lcl.dev/", FAPI, PROD, False, id="accounts-http"
        ),
        pytest.param(
            "https://accounts.inspired.puma-74.lcl.dev:8443/", FAPI, PROD, False,
            id="accounts-other-port",
        ),
        pytest.param(
            "https://accounts.inspired.puma-74.lcl.dev:443/", FAPI, PROD, True,
            id="accounts-default-port",
        ),
        # proxy URL as frontend API: its hostname counts
        pytest.param(
            "https://example.com/page", "https://example.com/__clerk", PROD, True, id="proxy-host"
        ),
        pytest.param(
            "https://other.com/page", "https://example.com/__clerk", PROD, False, id="proxy-other"
        ),
        # lookalikes and parser tricks
        pytest.param(f"https://{FAPI}.evil.com/", FAPI, PROD, False, id="fapi-as-prefix"),
        pytest.param(f"https://{FAPI}@evil.com/", FAPI, PROD, False, id="fapi-as-userinfo"),
        pytest.param(f"https://evil.com\\@{FAPI}/", FAPI, PROD, False, id="backslash-userinfo"),
        pytest.param(f"https://evil.com\\{FAPI}/", FAPI, PROD, False, id="backslash-path"),
        pytest.param(f"https://evil.com/{FAPI}", FAPI, PROD, False, id="fapi-in-path"),
        pytest.param(f"https://evil.com/?r=https://{FAPI}", FAPI, PROD, False, id="fapi-in-query"),
        pytest.param("https://foo.clerk.accounts.dev/", FAPI, DEV, False, id="clerk-subdomain"),
        pytest.param("https://evilaccounts.dev/", FAPI, DEV, False, id="suffix-without-dot"),
        pytest.param("https://accounts.evil.com/", FAPI, DEV, False, id="accounts-any-host"),
        pytest.param("invalid-url-format", FAPI, PROD, False, id="unparsable"),
        pytest.param("/relative/path", FAPI, PROD, False, id="relative"),
        pytest.param("", FAPI, PROD, False, id="empty"),
        pytest.param("https://", FAPI, PROD, False, id="no-host"),
        pytest.param(f"https://{FAPI}:99999/", FAPI, PROD, False, id="bad-port"),
        pytest.param("https://exa mple.com/", FAPI, PROD, False, id="space-in-host"),
        pytest.param("https://[::1/", FAPI, PROD, False, id="broken-ipv6"),
        pytest.param("https://[fe80::1%25eth0]/", FAPI, PROD, False, id="ipv6-zone-id"),
        pytest.param("http://[::1]:3000/x", "http://[0::1]:8080/__clerk", PROD, True,
                     id="ipv6-proxy-host-compared-canonically"),
        pytest.param("https://127.0.0.1/", "http://127.0.0.1:3000/__clerk", PROD, True,
                     id="ipv4-proxy-host"),
        pytest.param("https://2130706433/", "http://127.0.0.1:3000/__clerk", PROD, False,
                     id="numeric-ipv4-shorthand-not-matched"),
    ],
)  # fmt: skip
def test_known_clerk_referrer(
    referrer: str, frontend_api: str, production: bool, known: bool
) -> None:
    assert (
        is_known_clerk_referrer(referrer, frontend_api=frontend_api, production=production) is known
    )


def test_unparsable_proxy_frontend_api_knows_no_referrer() -> None:
    """Clerk's ``new URL(frontendApi)`` throws inside a try: the referrer is not known."""
    assert not is_known_clerk_referrer("https://http/x", frontend_api="http", production=True)


def test_missing_referrer_is_not_known() -> None:
    assert not is_known_clerk_referrer(None, frontend_api=FAPI, production=False)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_hostile_strings_never_raise_anything_unexpected(value: str) -> None:
    try:
        parse_publishable_key(TEST_PREFIX_STR + value)
    except ConfigurationError:
        pass
    try:
        parse_publishable_key(value)
    except ConfigurationError:
        pass
    for production in (True, False):
        assert is_known_clerk_referrer(value, frontend_api=FAPI, production=production) in (
            True,
            False,
        )
        assert is_known_clerk_referrer(
            "https://" + value, frontend_api="https://" + value, production=production
        ) in (True, False)
