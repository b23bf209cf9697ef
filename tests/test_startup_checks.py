"""Start-up checks (issue 14): each configuration mistake fails ``init_app`` with a message
naming the key and the fix; configurations that work but surprise are logged once."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from flask_idguard import ConfigurationError
from flask_idguard import IdGuard
from flask_idguard.providers.clerk.instance import parse_publishable_key

from .docs_quotes import quoted_in

PK_TEST = "pk_test_" + base64.b64encode(b"clerk.example.com$").decode().rstrip("=")
PK_LIVE = PK_TEST.replace("pk_test_", "pk_live_")
CLERK = {"CLERK_PUBLISHABLE_KEY": PK_TEST, "CLERK_SECRET_KEY": "sk_test_abc"}
AUTH0 = {"AUTH0_DOMAIN": "tenant.example.com", "AUTH0_AUDIENCE": "https://api.example.com"}
INVALID = "Publishable key not valid (expected format: pk_test_... or pk_live_...)."
KEY_FORM = (
    "After pk_test_ or pk_live_ comes the base64 of your frontend API host followed by '$' "
    "(e.g. base64 of 'clerk.example.com$')."
)


def init(config: dict[str, Any]) -> Flask:
    app = Flask("startup")
    app.config.update(config)
    IdGuard(app)
    return app


def error_of(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigurationError) as info:
        init(config)
    return str(info.value)


def b64(text: str) -> str:
    return base64.b64encode(text.encode("latin-1", "replace")).decode().rstrip("=")


@pytest.mark.parametrize(
    ("key", "detail"),
    [
        pytest.param(
            "pk_test_" + b64("clerk.example.com"),
            "The part after the prefix decodes to text that does not end with one '$'.",
            id="no-dollar",
        ),
        pytest.param(
            "pk_test_abc$",
            "The part after the prefix of CLERK_PUBLISHABLE_KEY is not valid base64.",
            id="not-base64",
        ),
        pytest.param(
            "pk_test_" + b64("localhost$"),
            "The part after the prefix decodes to something that is not a host name.",
            id="no-dot",
        ),
        pytest.param("pk_test_", "CLERK_PUBLISHABLE_KEY has nothing after its prefix.", id="empty"),
        pytest.param(
            PK_TEST + "_" + b64("x.y$"),
            "CLERK_PUBLISHABLE_KEY has a '_' after its prefix, which base64 never contains "
            "(two keys pasted together?).",
            id="two-keys",
        ),
        pytest.param(
            "sk_test_" + b64("clerk.example.com$"),
            "CLERK_PUBLISHABLE_KEY holds a secret key: swap it with CLERK_SECRET_KEY (and keep "
            "the secret key out of anything sent to browsers).",
            id="secret-key-in-publishable",
        ),
        pytest.param(
            PK_TEST.upper(),
            "CLERK_PUBLISHABLE_KEY's prefix must be lower case: pk_test_ or pk_live_.",
            id="upper-case",
        ),
        pytest.param(
            "pk-test-abc",
            "CLERK_PUBLISHABLE_KEY does not start with pk_test_ or pk_live_.",
            id="other",
        ),
    ],
)
def test_a_malformed_publishable_key_says_what_is_wrong(key: str, detail: str) -> None:
    message = error_of({**CLERK, "CLERK_PUBLISHABLE_KEY": key})
    assert message.startswith(INVALID)  # Clerk's own first line
    assert message.endswith(f"{detail} {KEY_FORM}")
    if len(key) > len("pk_test_"):
        assert key not in message  # a pasted secret key is never echoed


def test_the_publishable_key_message_is_quoted_in_the_docs() -> None:
    message = error_of({**CLERK, "CLERK_PUBLISHABLE_KEY": "pk_test_" + b64("clerk.example.com")})
    assert quoted_in("configuration.rst", message)


#: Every "not valid" detail a pk_test_ key can get: the message is one of a fixed set, so no
#: part of the value (a pasted secret, perhaps) is ever echoed.
DETAILS = (
    "CLERK_PUBLISHABLE_KEY has nothing after its prefix.",
    "CLERK_PUBLISHABLE_KEY has a '_' after its prefix, which base64 never contains "
    "(two keys pasted together?).",
    "The part after the prefix of CLERK_PUBLISHABLE_KEY is not valid base64.",
    "The part after the prefix decodes to text that does not end with one '$'.",
    "The part after the prefix decodes to something that is not a host name.",
)


def _invalid_message(detail: str) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_publishable_key("pk_test_")
    head = str(info.value).rsplit("\n\n", 1)[0]  # Clerk's lines, before the detail
    return f"{head}\n\n{detail} {KEY_FORM}"


@given(st.text(max_size=60) | st.binary(max_size=45).map(lambda b: b64(b.decode("latin-1"))))
def test_any_publishable_key_is_accepted_or_refused_with_a_fixed_message(value: str) -> None:
    try:
        pk = parse_publishable_key("pk_test_" + value)
    except ConfigurationError as exc:
        assert str(exc) in {_invalid_message(d) for d in DETAILS}
    else:
        assert pk.frontend_api and "." in pk.frontend_api and "$" not in pk.frontend_api


PK_IN_SECRET = (
    "CLERK_SECRET_KEY holds a publishable key (pk_...): set it to the secret key "
    "(sk_test_... or sk_live_...) from the API keys page of the Clerk dashboard; the pk_ value "
    "belongs in CLERK_PUBLISHABLE_KEY."
)
LIVE_WITH_TEST = (
    "CLERK_PUBLISHABLE_KEY is a production key (pk_live_) but CLERK_SECRET_KEY is a "
    "development key (sk_test_): copy both from the same instance in the Clerk dashboard "
    "(Production: pk_live_ and sk_live_)."
)
TEST_WITH_LIVE = (
    "CLERK_PUBLISHABLE_KEY is a development key (pk_test_) but CLERK_SECRET_KEY is a "
    "production key (sk_live_): copy both from the same instance in the Clerk dashboard "
    "(Development: pk_test_ and sk_test_)."
)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param({**CLERK, "CLERK_SECRET_KEY": PK_TEST}, PK_IN_SECRET, id="pk-as-secret"),
        pytest.param(
            {"CLERK_SECRET_KEY": PK_LIVE, **AUTH0}, PK_IN_SECRET, id="pk-as-secret-users-only"
        ),
        pytest.param(
            {"CLERK_PUBLISHABLE_KEY": PK_LIVE, "CLERK_SECRET_KEY": "sk_test_abc"},
            LIVE_WITH_TEST,
            id="live-pk-test-sk",
        ),
        pytest.param(
            {"CLERK_PUBLISHABLE_KEY": PK_LIVE, "CLERK_SECRET_KEY": "test_legacy"},
            LIVE_WITH_TEST,
            id="live-pk-legacy-test-sk",
        ),
        pytest.param(
            {"CLERK_PUBLISHABLE_KEY": PK_TEST, "CLERK_SECRET_KEY": "sk_live_abc"},
            TEST_WITH_LIVE,
            id="test-pk-live-sk",
        ),
    ],
)
def test_secret_key_mistakes_fail_at_start_up(config: dict[str, Any], message: str) -> None:
    assert error_of(config) == message
    assert quoted_in("configuration.rst", message)


def test_matching_keys_are_accepted() -> None:
    init({"CLERK_PUBLISHABLE_KEY": PK_LIVE, "CLERK_SECRET_KEY": "sk_live_abc"})
    init(CLERK)


def test_no_provider_says_where_dotenv_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("CLERK_PUBLISHABLE_KEY", "AUTH0_DOMAIN", "IDGUARD_ISSUER", "CLERK_SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    message = error_of({})
    assert message.startswith("No identity provider is configured")
    assert "A .env file is read only by the 'flask' command" in message
    assert "only when python-dotenv is installed" in message
    assert quoted_in("configuration.rst", message)


SIGN_IN_WARNING = (
    "IdGuard: CLERK_SIGN_IN_URL (or IDGUARD_SIGN_IN_URL) is not set, so a signed-out browser "
    "opening a protected page gets an empty 401 page instead of the sign-in page. Set it to "
    "your sign-in page, e.g. https://accounts.example.com/sign-in (your Account Portal)."
)


def test_no_sign_in_url_with_clerk_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "flask_idguard")
    app = init({**CLERK, "CLERK_JWT_KEY": None})
    app.add_url_rule("/", "home", lambda: "home")
    app.test_client().get("/")
    app.test_client().get("/")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [SIGN_IN_WARNING]
    assert quoted_in("configuration.rst", SIGN_IN_WARNING)


@pytest.mark.parametrize(
    "config",
    [
        pytest.param({**CLERK, "CLERK_SIGN_IN_URL": "https://example.com/sign-in"}, id="clerk-url"),
        pytest.param({**CLERK, "IDGUARD_SIGN_IN_URL": "/sign-in"}, id="idguard-url"),
        pytest.param(AUTH0, id="api-only"),
    ],
)
def test_no_warning_with_a_sign_in_url_or_for_an_api(
    config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "flask_idguard")
    init(config)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_development_key_notes_the_dev_browser_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "flask_idguard")
    init({**CLERK, "CLERK_SIGN_IN_URL": "/sign-in"})
    [note] = [r.getMessage() for r in caplog.records if "__clerk_db_jwt" in r.getMessage()]
    assert "dev-browser-missing" in note
    init({"CLERK_PUBLISHABLE_KEY": PK_LIVE, "CLERK_SECRET_KEY": "sk_live_x"})
    assert len([r for r in caplog.records if "__clerk_db_jwt" in r.getMessage()]) == 1


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("Tenant.Example.com", "tenant.example.com"),
        ("https://tenant.example.com/", "tenant.example.com"),
        ("  HTTPS://TENANT.example.com  ", "tenant.example.com"),
        ("tenant.example.com:8443", "tenant.example.com:8443"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_auth0_domain_is_written_back_as_used(given: str, used: str) -> None:
    app = init({**AUTH0, "AUTH0_DOMAIN": given})
    assert app.config["AUTH0_DOMAIN"] == used


HS256 = (
    "IDGUARD_ALGORITHMS: ['HS256'] cannot be used: only asymmetric algorithms are accepted "
    "(ES256, ES384, ES512, Ed25519, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512). HS* and "
    "none are refused because a public key must never be usable as an HMAC secret."
)


def test_the_documented_hs256_error_is_the_real_one() -> None:
    message = error_of(
        {
            "IDGUARD_ISSUER": "https://issuer.example.com/",
            "IDGUARD_AUDIENCE": "api",
            "IDGUARD_ALGORITHMS": ["RS256", "HS256"],
        }
    )
    assert message == HS256
    assert quoted_in("configuration.rst", HS256)
