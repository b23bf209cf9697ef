"""Hypothesis strategies for hostile requests: JSON of every type in every claim and header
member, signed by the trusted key or not, in every carrier the providers read."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from hypothesis import strategies as st

from flask_idguard.devidp.tokens import SESSION_CATEGORY
from flask_idguard.testing import DPoPKey
from flask_idguard.testing import TestIssuer
from flask_idguard.testing import b64url

from .apps import NAMESPACE
from .apps import ORIGIN
from .apps import PATHS
from .apps import SIGN_IN
from .apps import Setup

#: The DPoP key tokens may be bound to (``cnf.jkt``) and proofs are signed with.
DPOP_KEY = DPoPKey()
#: A key nobody trusts.
STRANGER = TestIssuer("https://stranger.test/")


class Raw(str):
    """A JSON number literal written verbatim: what Python's encoder never writes."""


def dumps(value: Any) -> bytes:
    """``value`` as JSON, :class:`Raw` literals verbatim (lone surrogates escaped)."""

    def text(v: Any) -> str:
        if isinstance(v, Raw):
            return str(v)
        if isinstance(v, dict):
            return "{" + ",".join(f"{json.dumps(k)}:{text(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ",".join(text(x) for x in v) + "]"
        return json.dumps(v)

    return text(value).encode()


NUMBERS = [10**400, -(10**400), 2**63, -(2**63) - 1, 2**53 + 1, 0, -1, 1, 2, 253402300800,
           -62135596801, 10**15, 8640000000001, -1e20, 1e15, 1e308, -1e308, 5e-324, -0.0,
           0.5]  # fmt: skip
RAW = [Raw("1e400"), Raw("-1e400"), Raw("1" + "0" * 400 + ".5"), Raw("1E+308"), Raw("-0"),
       Raw("NaN"), Raw("Infinity")]  # fmt: skip
STRINGS = [
    "", "\udc80", "a\ud800b", "\ud83d\ude00", "\r\nSet-Cookie: x=y", "\x00", "\u2028", "é",
    "x" * 11_000, "RS256", "RS384", "ES256", "HS256", "none", "JWT", "jwt", "at+jwt",
    "application/at+jwt", "dpop+jwt", SESSION_CATEGORY, "cl_B7d4PD333AAA", "cl_B7d4PD222AAA",
    "mch_1", "sess_1", "user_1", "org_1", "org:admin", "admin", "org:billing:manage",
    "o:export", "u:pro", "o:a,u:b", "o", "ou:x, uo:y", "3", "18446744073709551616",
    "read:a read:b", "read:a", "gold", "active", "pending", ORIGIN, "http://localhost",
    "http://localhost:3000", "https://evil.test/", "javascript:alert(1)", SIGN_IN,
    "client-a", "strict_mfa", "second_factor", "%ZZ", "a;b=c", "..",
]  # fmt: skip

#: Garbage that can go in a header or a cookie.
printable = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=";,"),
                    min_size=1, max_size=40)  # fmt: skip
text = (
    st.text(max_size=12)
    | st.text(st.characters(categories=["Cs", "Cc", "Zl", "Zp", "So"]), max_size=4)
    | st.sampled_from(STRINGS)
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(NUMBERS + RAW)
    | text
)
KEYS = ["id", "rol", "slg", "per", "fpm", "sub", "jkt", "iss", "level", "after_minutes", "0"]
#: One value of each JSON kind that has broken a reader before.
HOSTILE: list[Any] = [[], ["x", 1], {}, {"id": ["x"]}, 10**400, -(10**400), Raw("1e400"),
                      -1e20, 1e15, 253402300800, -62135596801, True, None, "", "\udc80",
                      "a\r\nb: c", "x" * 11_000]  # fmt: skip
json_values = st.sampled_from(HOSTILE) | st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=8,
)

CLAIMS = ["iss", "sub", "aud", "azp", "exp", "nbf", "iat", "jti", "client_id", "scope", "scp",
          "permissions", "roles", "org_id", "org_role", "org_slug", "org_permissions", "sid",
          "sts", "act", "fva", "v", "o", "fea", "pla", "cnf", "tier", "groups", "age",
          f"{NAMESPACE}roles", f"{NAMESPACE}x", "handshake"]  # fmt: skip
HEADER = ["alg", "typ", "kid", "cat", "crit", "jku", "x5u", "x5c", "jwk", "b64", "zip"]
PROOF_CLAIMS = ["jti", "htm", "htu", "iat", "ath", "nonce"]
PROOF_HEADER = ["typ", "alg", "jwk", "crit", "kid"]
DELETE = object()

#: Edits of a JSON object: (name, new value or DELETE).
#: The members every provider reads on the way to a decision, drawn three times as often.
DECISIVE = ["iss", "sub", "aud", "azp", "exp", "nbf", "iat", "sid", "fva", "o", "act", "cnf"]
edits = st.lists(
    st.tuples(st.sampled_from(CLAIMS + DECISIVE * 2), json_values | st.just(DELETE)),
    min_size=1,
    max_size=3,
)
header_edits = st.lists(
    st.tuples(st.sampled_from(HEADER), json_values | st.just(DELETE)), max_size=2
)


def edited(base: dict[str, Any], changes: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(base)
    for name, value in changes:
        if value is DELETE:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def base_claims(setup: Setup, clerk_token: bool, expired: bool = False) -> dict[str, Any]:
    """Claims that verify in ``setup`` (before the edits), with something in every field;
    ``expired`` two minutes ago."""
    now = int(time.time()) - (180 if expired else 0)
    if clerk_token:
        assert setup.clerk is not None
        return setup.clerk.claims(
            "user_1", org_id="org_1", org_slug="acme", org_role="org:admin",
            org_permissions=["org:billing:manage"], azp=ORIGIN, fea="o:export",
            pla="u:pro", act={"sub": "user_admin"}, now=now,
        )  # fmt: skip
    assert setup.issuer is not None
    return setup.issuer.claims(
        {"azp": "client-a", "client_id": "client-a", "jti": secrets.token_hex(4),
         "scope": "read:a read:b", "permissions": ["org:billing:manage"], "roles": ["admin"],
         "tier": "gold", "groups": ["a", 1, True, None], "age": 30,
         f"{NAMESPACE}roles": ["admin"], "cnf": {"jkt": DPOP_KEY.jkt}},
        now=now,
    )  # fmt: skip


def sign(setup: Setup, clerk_token: bool, header: dict[str, Any], claims: Any, how: str) -> str:
    """A token of ``header`` and ``claims`` signed as ``how`` says."""
    head, body = dumps(header), dumps(claims)
    if how == "unsigned":
        return f"{b64url(head)}.{b64url(body)}."
    if how == "stranger":
        return STRANGER.sign_raw(head, body)
    if how == "tampered":
        trusted = sign(setup, clerk_token, header, {"sub": "someone"}, "trusted")
        return ".".join([b64url(head), b64url(body), trusted.rsplit(".", 1)[1]])
    if clerk_token:
        assert setup.clerk is not None
        return setup.clerk.key.sign_compact(head, body)
    assert setup.issuer is not None
    return setup.issuer.sign_raw(head, body)


@st.composite
def tokens(draw: st.DrawFn, setup: Setup, clerk_token: bool, expired: bool = False) -> str:
    """A token for ``setup``: valid claims and header with hostile edits, signed by the
    trusted key (mostly), by a stranger, tampered, unsigned; or not a JWT at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(printable | st.just("a.b.c"))
    claims: Any = edited(base_claims(setup, clerk_token, expired), draw(edits))
    if draw(st.integers(0, 19)) == 0:
        claims = draw(json_values)  # a payload that is not an object
    key = setup.clerk.key if clerk_token and setup.clerk else None
    kid = key.kid if key is not None else (setup.issuer.kid if setup.issuer else "k")
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT", "kid": kid}
    if clerk_token:
        header["cat"] = SESSION_CATEGORY
    elif draw(st.booleans()):
        header["typ"] = "at+jwt"
    header = edited(header, draw(header_edits))
    how = draw(st.sampled_from(["trusted"] * 6 + ["unsigned", "stranger", "tampered"]))
    return sign(setup, clerk_token, header, claims, how)


@st.composite
def proofs(draw: st.DrawFn, method: str, url: str, token: str) -> list[str]:
    """``DPoP`` header values: a valid proof, a hostile one, garbage, or two."""
    kind = draw(st.sampled_from(["valid", "valid", "hostile", "hostile", "garbage", "two"]))
    if kind == "garbage":
        return [draw(printable)]
    claims = dict(draw(st.lists(st.tuples(st.sampled_from(PROOF_CLAIMS), json_values))))
    header = dict(draw(st.lists(st.tuples(st.sampled_from(PROOF_HEADER), json_values))))
    if kind == "valid":
        claims, header = {}, {}
    proof = DPOP_KEY.proof(method, url, token, header=header, **claims)
    return [proof, proof] if kind == "two" else [proof]


@dataclass
class Request:
    """One request: what the test client sends, and the Backend API's answers for it."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    form: dict[str, str] | None = None
    proofs: list[str] = field(default_factory=list)
    #: Backend API answers: handshake payload directives, refresh (status, body).
    directives: Any = None
    refresh: tuple[int, Any] = (200, {})
    #: Credentials the request carries: no redirect may take them to another origin.
    secrets: list[str] = field(default_factory=list)

    def send(self, client: Any) -> Any:
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        environ = {"HTTP_DPOP": ", ".join(self.proofs)} if self.proofs else {}
        return client.open(
            self.path,
            method=self.method,
            base_url=ORIGIN,
            headers=headers,
            query_string=self.query,
            data=self.form,
            environ_overrides=environ,
        )


NAVIGATIONS: list[dict[str, str]] = [
    {"Sec-Fetch-Dest": "document"},
    {"Sec-Fetch-Dest": "iframe"},
    {"Sec-Fetch-Dest": "empty"},
    {"Accept": "text/html,application/xhtml+xml"},
    {"Accept": "application/json"},
    {},
]
METHODS = ["GET"] * 6 + ["POST", "HEAD", "OPTIONS", "PUT"]


@st.composite
def basics(draw: st.DrawFn, navigation: bool = False) -> Request:
    """Method, path and navigation headers; with ``navigation``, mostly a page load."""
    path = draw(st.sampled_from(PATHS))
    headers = dict(draw(st.sampled_from(NAVIGATIONS)))
    method = draw(st.sampled_from(METHODS))
    if navigation and draw(st.integers(0, 4)):
        method, headers = "GET", {"Sec-Fetch-Dest": "document"}
    if draw(st.booleans()):
        headers["Referer"] = draw(st.sampled_from([ORIGIN + "/", "https://evil.test/", "nope"]))
    return Request(method, path, headers)


@st.composite
def token_requests(draw: st.DrawFn, setup: Setup, navigation: bool = False) -> Request:
    """A request to an OIDC/Auth0 app: the token in the header (any scheme), with DPoP
    proofs, in the query or a form, or in several places."""
    rq = draw(basics(navigation))
    token = draw(tokens(setup, clerk_token=False))
    carrier = draw(st.sampled_from(["Bearer", "bearer", "DPoP", "raw", "query", "form", "none"]))
    if carrier in ("Bearer", "bearer", "DPoP"):
        rq.headers["Authorization"] = f"{carrier} {token}"
    elif carrier == "raw":
        rq.headers["Authorization"] = token
    elif carrier == "query":
        rq.query.append(("access_token", token))
    elif carrier == "form":
        rq.method, rq.form = "POST", {"access_token": token}
    if carrier != "none" and draw(st.booleans()):
        rq.proofs = draw(proofs(rq.method, ORIGIN + rq.path, token))
    if draw(st.integers(0, 9)) == 0:
        rq.query.append(("access_token", draw(printable)))  # a second method
    query_token = setup.config.get("IDGUARD_ALLOW_QUERY_TOKEN") or carrier != "query"
    found = [token, *rq.proofs] if query_token else list(rq.proofs)
    rq.secrets = [s for s in found if len(s) >= 8]  # "0" is no secret: it is everywhere
    return rq


def _cookie_value(value: str) -> str:
    return "".join(c for c in value if c.isascii() and c.isprintable() and c not in ";,")


@st.composite
def clerk_requests(draw: st.DrawFn, setup: Setup, navigation: bool = False) -> Request:
    """A request to a Clerk app: the session token in the header, cookies or suffixed
    cookies, a handshake (token or nonce) whose directives carry it, a refresh; with the
    dev browser, ``__client_uat``, the redirect counter and sync parameters around it."""
    assert setup.clerk is not None
    rq = draw(basics(navigation))
    sfx = setup.clerk.cookie_suffix
    carrier = draw(st.sampled_from(["header", "bare", "cookie", "suffixed", "handshake",
                                    "nonce", "refresh", "none"]))  # fmt: skip
    token = draw(tokens(setup, clerk_token=True, expired=carrier == "refresh"))
    uat = draw(st.sampled_from(["1", "0", str(int(time.time()) - 60), "0x10", "9" * 400, "z"]))
    if carrier in ("header", "bare"):
        rq.headers["Authorization"] = f"Bearer {token}" if carrier == "header" else token
    elif carrier in ("cookie", "refresh"):
        rq.cookies.update(__session=token, __client_uat=uat)
    elif carrier == "suffixed":
        other = draw(tokens(setup, clerk_token=True))
        plain_uat = draw(st.sampled_from(["0", "1"]))
        rq.cookies.update({"__session": other, f"__session_{sfx}": token,
                           f"__client_uat_{sfx}": uat, "__client_uat": plain_uat})  # fmt: skip
    fresh = fresh_session(setup)
    directives = draw(st.lists(_directive(token, fresh), max_size=4))
    if carrier == "handshake":
        signed = setup.clerk.handshake_token(directives)
        place = draw(st.sampled_from(["query", "cookie"]))
        handshake = draw(st.sampled_from([signed, signed, token, "garbage"]))
        if place == "query":
            rq.query.append(("__clerk_handshake", handshake))
        else:
            rq.cookies["__clerk_handshake"] = handshake
    elif carrier == "nonce":
        rq.query.append(("__clerk_handshake_nonce", secrets.token_hex(4)))
        rq.directives = draw(st.sampled_from([{"directives": directives}, directives, None]))
    elif carrier == "refresh":
        rq.cookies[f"__refresh_{sfx}"] = "rt_" + secrets.token_hex(6)
        status = draw(st.sampled_from([200, 200, 200, 400, 429, 500]))
        body = draw(st.sampled_from([{"cookies": directives}, {"cookies": "x"}, None]))
        rq.refresh = (status, body if draw(st.integers(0, 4)) else draw(json_values))
    credentials = [v for k, v in rq.cookies.items() if not k.startswith("__client_uat")]
    if "Authorization" in rq.headers:  # (before the extras: counters and garbage values)
        credentials.append(token)
    _clerk_extras(draw, setup, rq)
    if "__clerk_db_jwt" in rq.cookies:
        credentials.append(rq.cookies["__clerk_db_jwt"])
    in_url = rq.path + repr(rq.query)
    rq.secrets = [c for c in credentials if len(c) >= 8 and c not in in_url]
    return rq


def fresh_session(setup: Setup) -> str:
    """A valid session token of ``setup``'s instance, made once a minute at most."""
    assert setup.clerk is not None
    now = int(time.time())
    made = _FRESH.get(setup.name)
    if made is None or made[0] < now - 60:
        made = (now, setup.clerk.session_token("user_1", azp=ORIGIN, now=now))
        _FRESH[setup.name] = made
    return made[1]


_FRESH: dict[str, tuple[int, str]] = {}


@st.composite
def _directive(draw: st.DrawFn, token: str, fresh: str) -> str:
    name = draw(st.sampled_from(["__session", "__client_uat", "__session_x", "evil", ""]))
    value = draw(st.sampled_from([token, fresh, "1", ""]) | text)
    return f"{name}={value}{draw(st.sampled_from(['; Path=/', '', '; Max-Age=0']))}"


REDIRECT_TARGETS = [
    "https://evil.test/", "javascript:alert(1)", "javascript://evil.test/%0aalert(1)",
    "data:text/html,x", "ftp://evil.test/", "//evil.test/", "https://app.test\\@evil.test/",
    "https://app.test@evil.test/", f"{ORIGIN}/back?x=1", "http://localhost:3000/sat",
    "https://app.test.evil.test/", "not a url", "https:evil.test", "\thttps://evil.test/",
]  # fmt: skip


def _clerk_extras(draw: Callable[..., Any], setup: Setup, rq: Request) -> None:
    """Dev browser, redirect counter and the sync parameters, each sometimes."""
    assert setup.clerk is not None
    if draw(st.booleans()):
        rq.cookies["__clerk_db_jwt"] = setup.clerk.dev_browser
    if draw(st.integers(0, 3)) == 0:
        rq.cookies["__clerk_redirect_count"] = draw(st.sampled_from(["1", "3", "0x3", "1e1"]))
    if draw(st.integers(0, 2)) == 0:
        rq.query.append(("__clerk_redirect_url", draw(st.sampled_from(REDIRECT_TARGETS))))
    if draw(st.integers(0, 3)) == 0:
        rq.query.append(("__clerk_synced", draw(st.sampled_from(["true", "false", "x"]))))
    if draw(st.integers(0, 4)) == 0:
        rq.query.append(("__clerk_db_jwt", draw(st.sampled_from(["dvb_query", ""]))))
    if draw(st.integers(0, 5)) == 0:
        rq.cookies[draw(st.sampled_from(["__session", "__client_uat", "x"]))] = _cookie_value(
            draw(text)
        )
