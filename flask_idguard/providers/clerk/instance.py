"""Clerk instance facts: the publishable key, the frontend API, the cookie suffix, referrers.

Everything here is pure string work, done once at ``init_app`` or per request without I/O.
The rules follow ``@clerk/backend`` 3.25 (``parsePublishableKey``, ``getCookieSuffix``,
``buildAccountsBaseUrl``, ``isKnownClerkReferrer``); see the Clerk research notes, §1.3, §3
and §11.7/§11.13.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Literal
from typing import NoReturn

from ...core.urls import parse_url
from ...errors import ConfigurationError

__all__ = [
    "PublishableKey",
    "accounts_base_url",
    "cookie_suffix",
    "frontend_api_for",
    "handshake_base",
    "check_secret_key",
    "is_development_secret_key",
    "is_known_clerk_referrer",
    "original_frontend_api",
    "parse_publishable_key",
    "resolve_proxy_url",
]

LIVE_PREFIX = "pk_live_"
TEST_PREFIX = "pk_test_"

_GUIDANCE = (
    "Set CLERK_PUBLISHABLE_KEY to the publishable key of your Clerk instance, as shown on "
    "the API keys page of the Clerk dashboard; it starts with pk_test_ or pk_live_."
)
MISSING_KEY_MESSAGE = "Publishable key is missing.\n\n" + _GUIDANCE
INVALID_KEY_MESSAGE = (
    "Publishable key not valid (expected format: pk_test_... or pk_live_...).\n\n" + _GUIDANCE
)
#: What the part after the prefix is, said in every "not valid" message after Clerk's line.
KEY_FORM = (
    "After pk_test_ or pk_live_ comes the base64 of your frontend API host followed by '$' "
    "(e.g. base64 of 'clerk.example.com$')."
)

# WHATWG "forgiving-base64 decode" (what ``atob`` implements): ASCII whitespace is dropped,
# then the standard alphabet with optional "=" padding.
_ATOB_WHITESPACE = str.maketrans("", "", "\t\n\f\r ")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*")
# Characters that no host can contain and that would break a header: refused on top of
# Clerk's rules, so a broken key fails at start-up rather than in a Location header.
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f]")

_LEGACY_DEV_SUFFIXES = (".lcl.dev", ".lclstage.dev", ".lclclerk.com")
_CURRENT_DEV_SUFFIXES = (".accounts.dev", ".accountsstage.dev", ".accounts.lclclerk.com")


@dataclass(frozen=True)
class PublishableKey:
    """A validated publishable key: ``frontend_api`` is the decoded host, without ``$``."""

    key: str
    instance_type: Literal["production", "development"]
    frontend_api: str

    @property
    def is_production(self) -> bool:
        """True for a ``pk_live_`` key."""
        return self.instance_type == "production"


def _atob(data: str) -> bytes | None:
    """``atob(data)`` as bytes, or None where ``atob`` throws."""
    data = data.translate(_ATOB_WHITESPACE)
    if len(data) % 4 == 0 and data.endswith("="):
        data = data[:-2] if data.endswith("==") else data[:-1]
    if len(data) % 4 == 1 or not _BASE64.fullmatch(data):
        return None
    try:
        return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
    except (binascii.Error, ValueError):  # pragma: no cover - the checks above prevent it
        return None


def parse_publishable_key(value: object) -> PublishableKey:
    """Validate ``value`` as Clerk does and return its instance type and frontend API.

    The key must start with ``pk_test_`` or ``pk_live_``, split on ``_`` into exactly three
    parts, and its third part must decode (``atob``: standard base64, padding optional) to
    ``<host>$``: one trailing ``$``, no other ``$``, at least one ``.``. The decoded bytes are
    read as Latin-1, as ``atob`` does. Beyond Clerk, a host with whitespace or control
    characters is refused. ``None`` and ``""`` are "missing"; any other non-string is "not
    valid". Raises :class:`~flask_idguard.errors.ConfigurationError` (and nothing else) with
    Clerk's message; the key itself is never echoed, in case a secret key was pasted by mistake.
    """
    if value is None or (isinstance(value, str) and not value):
        raise ConfigurationError(MISSING_KEY_MESSAGE)
    if not isinstance(value, str):
        _invalid(f"CLERK_PUBLISHABLE_KEY is a {type(value).__name__}, not a string.")
    if not value.startswith((LIVE_PREFIX, TEST_PREFIX)):
        _invalid(_prefix_problem(value))
    parts = value.split("_")
    if len(parts) == 3 and not parts[2]:
        _invalid("CLERK_PUBLISHABLE_KEY has nothing after its prefix.")
    if len(parts) != 3:
        _invalid(
            "CLERK_PUBLISHABLE_KEY has a '_' after its prefix, which base64 never contains "
            "(two keys pasted together?)."
        )
    decoded = _atob(parts[2])
    if decoded is None:
        _invalid("The part after the prefix of CLERK_PUBLISHABLE_KEY is not valid base64.")
    text = decoded.decode("latin-1")
    host = text[:-1]
    if not text.endswith("$") or "$" in host:
        _invalid("The part after the prefix decodes to text that does not end with one '$'.")
    if "." not in host or _CONTROL_OR_SPACE.search(host):
        _invalid("The part after the prefix decodes to something that is not a host name.")
    instance: Literal["production", "development"] = (
        "production" if value.startswith(LIVE_PREFIX) else "development"
    )
    return PublishableKey(key=value, instance_type=instance, frontend_api=host)


def _prefix_problem(value: str) -> str:
    """Why a key without Clerk's prefix is not a publishable key (never echoing the value)."""
    if value.startswith(("sk_", "test_", "live_")):
        return (
            "CLERK_PUBLISHABLE_KEY holds a secret key: swap it with CLERK_SECRET_KEY (and keep "
            "the secret key out of anything sent to browsers)."
        )
    if value.lower().startswith(("pk_test_", "pk_live_")):
        return "CLERK_PUBLISHABLE_KEY's prefix must be lower case: pk_test_ or pk_live_."
    if value != value.strip():
        return "CLERK_PUBLISHABLE_KEY starts with whitespace (a quoting mistake in .env?)."
    return "CLERK_PUBLISHABLE_KEY does not start with pk_test_ or pk_live_."


def _invalid(detail: str) -> NoReturn:
    """Clerk's "not valid" message, then what exactly is wrong and what the key looks like."""
    raise ConfigurationError(f"{INVALID_KEY_MESSAGE}\n\n{detail} {KEY_FORM}")


def check_secret_key(secret_key: str, publishable_key: PublishableKey | None) -> None:
    """Refuse a publishable key in ``CLERK_SECRET_KEY`` and keys of two instance types.

    Clerk's SDKs accept both silently and fail on the first Backend API call (401) or on every
    token (another instance's keys); here it is a start-up error naming the key and the fix.
    """
    if secret_key.startswith(("pk_test_", "pk_live_")):
        raise ConfigurationError(
            "CLERK_SECRET_KEY holds a publishable key (pk_...): set it to the secret key "
            "(sk_test_... or sk_live_...) from the API keys page of the Clerk dashboard; the "
            "pk_ value belongs in CLERK_PUBLISHABLE_KEY."
        )
    if publishable_key is None:
        return
    live_secret = secret_key.startswith(("sk_live_", "live_"))
    test_secret = is_development_secret_key(secret_key)
    if publishable_key.is_production and test_secret:
        raise ConfigurationError(
            "CLERK_PUBLISHABLE_KEY is a production key (pk_live_) but CLERK_SECRET_KEY is a "
            "development key (sk_test_): copy both from the same instance in the Clerk "
            "dashboard (Production: pk_live_ and sk_live_)."
        )
    if not publishable_key.is_production and live_secret:
        raise ConfigurationError(
            "CLERK_PUBLISHABLE_KEY is a development key (pk_test_) but CLERK_SECRET_KEY is a "
            "production key (sk_live_): copy both from the same instance in the Clerk "
            "dashboard (Development: pk_test_ and sk_test_)."
        )


def cookie_suffix(publishable_key: str) -> str:
    """The 8-character suffix of this instance's cookies (``__session_<suffix>``...).

    The first 8 characters of the base64 of SHA-1(key), made URL-safe.
    """
    digest = hashlib.sha1(publishable_key.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:8]


def frontend_api_for(
    pk: PublishableKey, *, proxy_url: str | None, domain: str | None, is_satellite: bool
) -> str:
    """The frontend API requests go to: the proxy URL (already absolute, see
    :func:`resolve_proxy_url`) if set, else ``clerk.<domain>`` for a production satellite with a
    domain, else the key's host. Empty strings count as unset, as in Clerk.
    """
    if proxy_url:
        return proxy_url
    if pk.is_production and domain and is_satellite:
        return "clerk." + domain
    return pk.frontend_api


def original_frontend_api(pk: PublishableKey, *, domain: str | None, is_satellite: bool) -> str:
    """The frontend API with every override but the proxy: what a session's ``iss`` names."""
    return frontend_api_for(pk, proxy_url=None, domain=domain, is_satellite=is_satellite)


def resolve_proxy_url(proxy_url: str, public_origin: str) -> str:
    """A relative proxy URL (``/__clerk``) prefixed with the public origin; others unchanged.

    Clerk concatenates rather than resolving, so ``//host`` stays a path on the public origin.
    """
    if proxy_url.startswith("/"):
        return public_origin + proxy_url
    return proxy_url


def is_development_secret_key(secret_key: str) -> bool:
    """True for ``sk_test_`` keys and legacy ``test_`` keys."""
    return secret_key.startswith(("sk_test_", "test_"))


def handshake_base(frontend_api: str) -> str:
    """``<frontend API or proxy URL>/v1/client/handshake``, never with ``//v1``.

    A bare host gets ``https://``; a value starting with ``http`` is used as given.
    """
    base = frontend_api if frontend_api.startswith("http") else "https://" + frontend_api
    return base.rstrip("/") + "/v1/client/handshake"


def accounts_base_url(frontend_api: str) -> str:
    """The Account Portal origin derived from the frontend API (``""`` for an empty one).

    The first ``clerk.accountsstage.`` becomes ``accountsstage.``, then the first
    ``clerk.accounts.`` or ``clerk.`` becomes ``accounts.``, and ``https://`` is prepended.
    """
    if not frontend_api:
        return ""
    host = frontend_api.replace("clerk.accountsstage.", "accountsstage.", 1)
    host = re.sub(r"clerk\.accounts\.|clerk\.", "accounts.", host, count=1)
    return "https://" + host


def _is_dev_account_portal(hostname: str) -> bool:
    legacy = hostname.startswith("accounts.") and hostname.endswith(_LEGACY_DEV_SUFFIXES)
    current = any(
        hostname.endswith(suffix) and not hostname.endswith(".clerk" + suffix)
        for suffix in _CURRENT_DEV_SUFFIXES
    )
    return legacy or current


def is_known_clerk_referrer(referrer: str | None, *, frontend_api: str, production: bool) -> bool:
    """True when a ``Referer`` comes from this instance's Clerk pages (no cross-origin sync).

    Known are: (i) a referrer whose *hostname* equals the frontend API's (the proxy's hostname
    when the frontend API is a proxy URL; scheme and port ignored); (ii) on development
    instances only, a development Account Portal hostname (``accounts.*`` under ``.lcl.dev``,
    ``.lclstage.dev`` or ``.lclclerk.com``; or under ``.accounts.dev``, ``.accountsstage.dev``
    or ``.accounts.lclclerk.com`` but not ``.clerk.<that>``); (iii) a referrer whose *origin*
    equals :func:`accounts_base_url` of the frontend API. A referrer that does not parse as an
    absolute URL (or is missing) is not known.
    """
    if not referrer:
        return False
    ref = parse_url(referrer)
    if ref is None:
        return False
    if frontend_api:
        if frontend_api.startswith("http"):
            fapi = parse_url(frontend_api)
            if fapi is None:
                return False
            fapi_host = fapi.hostname
        else:
            fapi_host = frontend_api
        if ref.hostname == fapi_host:
            return True
    if not production and _is_dev_account_portal(ref.hostname):
        return True
    accounts = accounts_base_url(frontend_api)
    if accounts:
        expected = parse_url(accounts)
        return expected is not None and ref.origin == expected.origin
    return False
