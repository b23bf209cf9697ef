"""Issue 12's request-path findings: one regression test per attack, each named for it."""

from __future__ import annotations

import copy
import json
import logging
import operator
import threading
from collections.abc import Callable
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import quote
from urllib.parse import urlsplit

import pytest
import responses
from flask import Flask
from flask import jsonify
from flask.testing import FlaskClient

from flask_idguard import AuthState
from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard.core.urls import origin_of
from flask_idguard.providers import Provider
from flask_idguard.providers.clerk import verify as clerk_verify
from flask_idguard.providers.request import RequestContext
from flask_idguard.testing import ClerkTestInstance
from flask_idguard.testing import DPoPKey
from flask_idguard.testing import TestIssuer
from flask_idguard.testing import b64url

from .apps import API_URL
from .apps import ORIGIN
from .apps import build

HUGE = int("9" * 400)  # beyond the largest double
DOCUMENT = {"Sec-Fetch-Dest": "document"}


@pytest.fixture(scope="module")
def prod() -> ClerkTestInstance:
    """A production Clerk instance (its keys made once for the module)."""
    return ClerkTestInstance("production")


@pytest.fixture(scope="module")
def dev() -> ClerkTestInstance:
    return ClerkTestInstance("development")


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def bapi() -> Iterator[responses.RequestsMock]:
    """The Backend API: nothing answers unless a test registers it (no network)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def client(app: Flask) -> FlaskClient:
    return app.test_client(use_cookies=False)


def get(app: Flask, path: str = "/required-no-redirect", **kwargs: Any) -> Any:
    kwargs.setdefault("base_url", ORIGIN)
    return client(app).open(path, **kwargs)


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def unsigned(claims: dict[str, Any] | bytes, header: dict[str, Any] | None = None) -> str:
    raw = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    head = json.dumps(header or {"alg": "RS256", "typ": "JWT"}).encode()
    return f"{b64url(head)}.{b64url(raw)}.c2ln"


def oidc_app(issuer: TestIssuer, **extra: Any) -> Flask:
    return build(
        {
            "IDGUARD_ISSUER": issuer.issuer,
            "IDGUARD_AUDIENCE": issuer.audience,
            "IDGUARD_PUBLIC_KEYS": issuer.jwks(),
            **extra,
        }
    )


def auth0_app(issuer: TestIssuer, **extra: Any) -> Flask:
    return build(
        {
            "AUTH0_ISSUER": issuer.issuer,
            "AUTH0_PUBLIC_KEY": issuer.jwks(),
            "AUTH0_AUDIENCE": issuer.audience,
            **extra,
        }
    )


def clerk_app(instance: ClerkTestInstance, **extra: Any) -> Flask:
    return build(instance.config(CLERK_API_URL=API_URL, **extra))


# -- unauthenticated 500s ------------------------------------------------------------------------


@pytest.mark.parametrize("alg", [["RS256"], {"alg": "RS256"}], ids=["array", "object"])
@pytest.mark.parametrize("carrier", ["authorization", "session-cookie", "handshake"])
def test_alg_as_a_json_array_or_object_in_a_clerk_token_is_a_401(
    prod: ClerkTestInstance, alg: object, carrier: str
) -> None:
    token = prod.sign(prod.claims(), alg=alg)
    headers: dict[str, str] = {}
    path = "/required-no-redirect"
    if carrier == "authorization":
        headers["Authorization"] = f"Bearer {token}"
    elif carrier == "session-cookie":
        headers.update(cookie_header({"__session": token, "__client_uat": "1"}))
    else:  # production falls through to the cookies (development: see the 400 below)
        handshake = prod.key.sign_compact({"alg": alg, "typ": "JWT", "kid": prod.key.kid}, {})
        path += f"?__clerk_handshake={handshake}"
    answer = get(clerk_app(prod), path, headers=headers)
    assert answer.status_code == 401
    reason = (
        "session-token-and-uat-missing" if carrier == "handshake" else "token-invalid-algorithm"
    )
    assert answer.headers["x-clerk-auth-reason"] == reason


@pytest.mark.parametrize("typ", [["at+jwt"], {"typ": "at+jwt"}], ids=["array", "object"])
@pytest.mark.parametrize("provider", ["IDGUARD_STRICT", "AUTH0_STRICT"])
def test_typ_as_a_json_array_or_object_under_the_strict_profile_is_a_401(
    issuer: TestIssuer, provider: str, typ: object
) -> None:
    if provider == "IDGUARD_STRICT":
        app = oidc_app(issuer, IDGUARD_STRICT=True)
    else:
        app = auth0_app(issuer, AUTH0_STRICT=True)
    token = issuer.token({"client_id": "c", "jti": "j"}, header={"typ": typ})
    answer = get(app, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


@pytest.mark.parametrize("claim", ["iss", "iat", "exp"])
@pytest.mark.parametrize("instance", ["production", "development"])
def test_beyond_float_integers_in_unverified_suffixed_cookies_are_a_401(
    dev: ClerkTestInstance, prod: ClerkTestInstance, claim: str, instance: str
) -> None:
    clerk = prod if instance == "production" else dev
    app = clerk_app(clerk)
    claims: dict[str, Any] = {"iss": clerk.issuer, "iat": 1, "exp": 2}
    raw = json.dumps(claims).replace(
        f'"{claim}": {json.dumps(claims[claim])}', f'"{claim}": {HUGE}'
    )
    forged = unsigned(raw.encode())
    sfx = clerk.cookie_suffix
    cookies = {
        "__session": forged,
        f"__session_{sfx}": forged,
        f"__client_uat_{sfx}": "5",
        "__client_uat": "0" if claim == "exp" else "7",  # the rule that reads exp needs "0"
        "__clerk_db_jwt": clerk.dev_browser,
    }
    answer = get(app, headers=cookie_header(cookies))
    assert answer.status_code == 401


def test_forged_handshake_on_a_development_instance_is_a_400_with_clerks_message(
    dev: ClerkTestInstance, prod: ClerkTestInstance, caplog: pytest.LogCaptureFixture
) -> None:
    clerk = dev
    other = ClerkTestInstance("development", frontend_api=clerk.frontend_api)
    forged = other.handshake_token(clerk.handshake_directives())
    with caplog.at_level(logging.ERROR, "flask_idguard"):
        answer = get(clerk_app(clerk), f"/inspect?__clerk_handshake={forged}", headers=DOCUMENT)
    assert answer.status_code == 400
    assert answer.json["error"] == "invalid_request"
    assert "invalid signature" in answer.json["error_description"]
    assert answer.headers["x-clerk-auth-reason"] == "handshake-token-invalid"
    assert answer.headers.getlist("Set-Cookie") == []
    assert "Handshake token verification failed" in caplog.text


@pytest.mark.parametrize("bad", ["\r\n", "\n", "\r", "\0", "\u2028", "\U0001f600"])
@pytest.mark.parametrize("carrier", ["token", "nonce", "refresh"])
def test_crlf_in_handshake_directives_is_dropped_not_a_500(
    prod: ClerkTestInstance, bapi: responses.RequestsMock, bad: str, carrier: str
) -> None:
    good = prod.handshake_directives()
    if carrier == "refresh":
        good = good[:1]  # the new __session
    directives = [f"evil=1{bad}Set-Cookie: x=y; Path=/", *good]
    bapi.get(f"{API_URL}/v1/clients/handshake_payload", json={"directives": directives})
    bapi.post(f"{API_URL}/v1/sessions/sess_test/refresh", json={"cookies": directives})
    if carrier == "token":
        headers = cookie_header({"__clerk_handshake": prod.handshake_token(directives)})
    elif carrier == "nonce":
        headers = cookie_header({"__clerk_handshake_nonce": "n0nce"})
    else:
        expired = prod.cookies(prod.session_token(expires_in=-120))
        headers = cookie_header({**expired, f"__refresh_{prod.cookie_suffix}": "rt"})
    answer = get(clerk_app(prod), "/inspect", headers={**headers, **DOCUMENT})
    assert answer.status_code == 200
    assert answer.json["status"] == "signed-in"
    assert answer.headers.getlist("Set-Cookie") == good


class HeaderProvider(Provider):
    """A provider of the application's that hands back a header no response can carry."""

    name = "custom"

    def authenticate(self, ctx: RequestContext) -> AuthState | None:
        headers = (("X-Bad", "a\r\nSet-Cookie: evil=1"), ("X-Good", "ok"))
        return AuthState.signed_out("custom", "no", headers=headers)


def test_a_providers_header_with_crlf_is_dropped_by_the_hook_not_a_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Flask("custom-provider")
    IdGuard(app, providers=[HeaderProvider()])
    app.add_url_rule("/", "index", lambda: "ok")
    with caplog.at_level(logging.WARNING, "flask_idguard"):
        answer = app.test_client().get("/")
    assert answer.status_code == 200
    assert "X-Bad" not in answer.headers and answer.headers["X-Good"] == "ok"
    assert "dropping a X-Bad header" in caplog.text


# -- 500s from claims signed by a trusted key ----------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "value", "reason"),
    [
        ("exp", -1e20, "session-token-expired-refresh-non-eligible-no-refresh-cookie"),
        ("nbf", 1e15, "session-token-nbf"),
        ("iat", 253402300800, "session-token-iat-in-the-future"),
        ("exp", -62135596801, "session-token-expired-refresh-non-eligible-no-refresh-cookie"),
    ],
)
def test_time_claims_beyond_datetime_range_are_a_401(
    issuer: TestIssuer, prod: ClerkTestInstance, claim: str, value: float, reason: str
) -> None:
    oidc = get(
        oidc_app(issuer), headers={"Authorization": f"Bearer {issuer.token({claim: value})}"}
    )
    assert oidc.status_code == 401
    assert oidc.json["error"] == "invalid_token"
    token = prod.session_token("user_1", **{claim: value})
    answer = get(clerk_app(prod), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.headers["x-clerk-auth-reason"] == reason


def test_time_messages_print_what_javascript_prints() -> None:
    from flask_idguard.core.jwt.claims import _http_date

    assert _http_date(-1e20) == "Invalid Date"
    assert _http_date(253402300800) == "Sat, 01 Jan 10000 00:00:00 GMT"
    assert _http_date(-62167219200) == "Sat, 01 Jan 0000 00:00:00 GMT"
    assert _http_date(-1e12) == "Tue, 05 Apr -29719 22:13:20 GMT"
    assert _http_date(1666648250) == "Mon, 24 Oct 2022 21:50:50 GMT"


@pytest.mark.parametrize("azp", [["client-a"], {"azp": "client-a"}], ids=["array", "object"])
@pytest.mark.parametrize("provider", ["oidc", "clerk"])
def test_azp_as_an_array_or_object_with_authorized_parties_is_a_401(
    issuer: TestIssuer, prod: ClerkTestInstance, provider: str, azp: object
) -> None:
    if provider == "oidc":
        app = oidc_app(issuer, IDGUARD_AUTHORIZED_PARTIES=["client-a"])
        token = issuer.token({"azp": azp})
    else:
        app = clerk_app(prod, CLERK_AUTHORIZED_PARTIES=["client-a"])
        token = prod.session_token(azp=azp)
    answer = get(app, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.json["error"] == "invalid_token"
    if provider == "clerk":
        assert answer.headers["x-clerk-auth-reason"] == "token-invalid-authorized-parties"


def test_fva_holding_a_beyond_float_integer_is_no_factor_age(
    prod: ClerkTestInstance,
) -> None:
    token = prod.session_token(fva=[HUGE, 1])
    answer = get(clerk_app(prod), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json["fva"] is None
    assert answer.json["has"][6] is False  # reverification asked: fails closed


def test_refresh_with_a_lone_surrogate_sid_is_sent_as_a_url_would_send_it(
    prod: ClerkTestInstance, bapi: responses.RequestsMock
) -> None:
    fresh = prod.session_token(session_id="sess_\udc80")
    refresh = bapi.post(
        f"{API_URL}/v1/sessions/sess_%EF%BF%BD/refresh",
        json={"cookies": [f"__session={fresh}; Path=/"]},
    )
    expired = prod.session_token(session_id="sess_\udc80", expires_in=-120)
    sfx = prod.cookie_suffix
    cookies = {"__session": expired, "__client_uat": "1", f"__refresh_{sfx}": "rt"}
    answer = get(clerk_app(prod), "/inspect", headers={**cookie_header(cookies), **DOCUMENT})
    assert answer.status_code == 200
    assert refresh.call_count == 1
    assert answer.json["status"] == "signed-in"


# -- the dev browser token goes to this app's origins only ---------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.test/",
        "http://evil.test:3000/x",
        "javascript://evil.test/%0aalert(1)",
        "javascript:alert(document.cookie)",
        "ftp://evil.test/",
        "data:text/html,<script>alert(1)</script>",
        "//evil.test/",
        "https://app.test@evil.test/",
        "https://app.test\\@evil.test/",
        "http://localhost:3000\\@evil.test/",
        "https://evil.test#https://app.test/",
        "https:/evil.test/",
        " https://evil.test/",
    ],
)
def test_dev_browser_token_is_never_sent_to_another_origin(
    dev: ClerkTestInstance, prod: ClerkTestInstance, target: str
) -> None:
    clerk = dev
    app = clerk_app(clerk, CLERK_AUTHORIZED_PARTIES=["http://localhost:3000"])
    path = "/inspect?__clerk_redirect_url=" + quote(target, safe="")
    answer = get(
        app, path, headers={**DOCUMENT, **cookie_header({"__clerk_db_jwt": clerk.dev_browser})}
    )
    location = answer.headers.get("Location", "")
    assert clerk.dev_browser not in location
    assert answer.headers.get("x-clerk-auth-reason") != "primary-responds-to-syncing"


@pytest.mark.parametrize(
    ("target", "config"),
    [
        ("https://app.test/other?a=1", {}),
        (
            "http://localhost:3000/dashboard",
            {"CLERK_AUTHORIZED_PARTIES": ["http://localhost:3000"]},
        ),
        ("https://sat.example/x", {"CLERK_DOMAIN": "sat.example"}),
        ("http://sat.example:8080/", {"CLERK_DOMAIN": "sat.example:8080"}),
    ],
    ids=["same-origin", "authorized-party", "domain", "domain-http"],
)
def test_dev_browser_token_still_syncs_this_apps_satellites(
    dev: ClerkTestInstance, prod: ClerkTestInstance, target: str, config: dict[str, Any]
) -> None:
    clerk = dev
    path = "/inspect?__clerk_redirect_url=" + quote(target, safe="")
    cookies = cookie_header({"__clerk_db_jwt": clerk.dev_browser})
    answer = get(clerk_app(clerk, **config), path, headers={**DOCUMENT, **cookies})
    assert answer.status_code == 307
    location = answer.headers["Location"]
    assert origin_of(location) == origin_of(target)
    assert ("__clerk_db_jwt", clerk.dev_browser) in parse_qsl(urlsplit(location).query)


# -- Clerk does not shadow the other providers ----------------------------------------------------


@pytest.mark.parametrize("scheme", ["DPoP", "bearer", "BEARER"])
def test_dpop_or_lowercase_bearer_reaches_the_oidc_provider_next_to_clerk(
    issuer: TestIssuer, prod: ClerkTestInstance, scheme: str
) -> None:
    app = build(
        prod.config(
            CLERK_API_URL=API_URL,
            IDGUARD_ISSUER=issuer.issuer,
            IDGUARD_AUDIENCE=issuer.audience,
            IDGUARD_PUBLIC_KEYS=issuer.jwks(),
        )
    )
    headers: dict[str, str] = {}
    if scheme == "DPoP":
        key = DPoPKey()
        token = issuer.token(dpop=key)
        headers["DPoP"] = key.proof("GET", f"{ORIGIN}/required-no-redirect", token)
    else:
        token = issuer.token()
    answer = get(app, headers={"Authorization": f"{scheme} {token}", **headers})
    assert answer.status_code == 200
    assert (answer.json["provider"], answer.json["scheme"]) == (
        "oidc",
        "dpop" if scheme == "DPoP" else "bearer",
    )
    # Clerk's own session cookies still decide a request without such a token.
    cookies = cookie_header(prod.cookies())
    assert get(app, headers=cookies).json["provider"] == "clerk"


# -- unbounded memory ----------------------------------------------------------------------------


def test_hostile_clerk_cookies_pin_a_few_mib_at_most(prod: ClerkTestInstance) -> None:
    app = clerk_app(prod)
    clerk_verify.PARSED.clear()
    dense = b'{"iss":"x","a":[' + b",".join([b"{}"] * 3500) + b"]"
    for i in range(120):
        forged = unsigned(dense + b',"n":%d}' % i)
        get(app, headers=cookie_header({"__session": forged, "__client_uat": "1"}))
    assert clerk_verify.PARSED.bytes <= clerk_verify.PARSED.max_bytes
    # A page's cookie is still decoded once: a repeated token is a cache hit.
    token = prod.session_token()
    assert clerk_verify.parse(token) is clerk_verify.parse(token)


# -- amplification --------------------------------------------------------------------------------


NONCE_URL = f"{API_URL}/v1/clients/handshake_payload"


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("POST", DOCUMENT),
        ("GET", {"Sec-Fetch-Dest": "empty"}),
        ("GET", {"Sec-Fetch-Dest": "image"}),
        ("PUT", {}),
        ("GET", {"Accept": "application/json"}),
    ],
    ids=["post", "fetch", "image", "put", "api"],
)
def test_handshake_nonce_on_a_request_no_handshake_sends_costs_no_backend_call(
    prod: ClerkTestInstance,
    bapi: responses.RequestsMock,
    method: str,
    headers: dict[str, str],
) -> None:
    call = bapi.get(NONCE_URL, json={"directives": prod.handshake_directives()})
    app = clerk_app(prod)
    answer: Any = client(app).open(
        "/inspect?__clerk_handshake_nonce=n0nce", method=method, headers=headers, base_url=ORIGIN
    )
    assert answer.status_code == 200
    assert answer.json["reason"] == "session-token-and-uat-missing"
    assert call.call_count == 0


@pytest.fixture
def limited_api() -> Iterator[tuple[str, list[str]]]:
    """A Backend API on loopback that answers every call 429 (``Retry-After: 0``): its URL
    and the paths it was asked for, through the real urllib3 retry stack."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = b'{"errors": [{"code": "too_many_requests"}]}'
            self.send_response(429)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}", asked
    httpd.shutdown()
    httpd.server_close()


def test_handshake_nonce_is_resolved_once_and_never_retried(
    prod: ClerkTestInstance, limited_api: tuple[str, list[str]]
) -> None:
    url, asked = limited_api
    app = build(prod.config(CLERK_API_URL=url))
    reasons = []
    for _ in range(5):
        answer = get(app, "/inspect?__clerk_handshake_nonce=n0nce", headers=DOCUMENT)
        assert answer.status_code == 200
        reasons.append(answer.json["reason"])
    assert asked == ["/v1/clients/handshake_payload?nonce=n0nce"]
    # Tried once (no payload: signed out); then ignored, and the cookies decide.
    assert reasons == ["session-token-missing"] + ["session-token-and-uat-missing"] * 4
    get(app, "/inspect?__clerk_handshake_nonce=other", headers=DOCUMENT)
    assert len(asked) == 2


# -- shared mutable claims ------------------------------------------------------------------------


#: What a view may try to change: (name, container getter, mutation).
MUTATIONS: list[tuple[str, Callable[[], Any], Callable[[Any], None]]] = [
    ("claims", lambda: current_auth.claims, lambda c: operator.setitem(c, "sub", "x")),
    ("claims.groups", lambda: current_auth.claims.get("groups"), lambda c: c.append("admin")),
    ("claims.o", lambda: current_auth.claims.get("o"), lambda c: c.update(rol="admin")),
    ("claims.o.nested", lambda: current_auth.claims["o"]["nested"], lambda c: c.sort()),
    ("actor", lambda: current_auth.actor, lambda c: operator.setitem(c, "sub", "x")),
    ("custom.roles", lambda: current_auth.custom_claims.get("roles"), lambda c: c.clear()),
]


def mutating_app(config: dict[str, Any]) -> Flask:
    """An app whose view tries to change every claim container it is handed."""
    app = build(config)

    @app.get("/mutate")
    @requires_auth(redirect=False)
    def mutate() -> Any:
        tried, changed = [], []
        for name, container, mutation in MUTATIONS:
            target = container()
            if target is None:
                continue
            tried.append(name)
            try:
                mutation(target)
            except TypeError:
                continue
            changed.append(name)
        mine = copy.deepcopy(dict(current_auth.claims))
        mine["groups"].append("mine")  # a deep copy is the view's own
        return jsonify(tried=tried, changed=changed, groups=list(current_auth.claims["groups"]))

    return app


CLAIMS: dict[str, Any] = {
    "groups": ["a"],
    "o": {"id": "org_1", "rol": "member", "nested": ["y", "b"]},
    "act": {"sub": "user_admin"},
    "https://ns.example/roles": ["reader"],
}


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("oidc", 4),
        ("auth0", 5),  # and the namespaced custom claims
        ("clerk-header", 5),  # and the actor
        ("clerk-cookie", 5),
    ],
)
def test_a_view_mutating_claims_cannot_change_what_later_requests_see(
    issuer: TestIssuer, prod: ClerkTestInstance, provider: str, expected: int
) -> None:
    headers: dict[str, str] = {}
    if provider == "oidc":
        app = mutating_app({"IDGUARD_ISSUER": issuer.issuer, "IDGUARD_AUDIENCE": issuer.audience,
                            "IDGUARD_PUBLIC_KEYS": issuer.jwks()})  # fmt: skip
        headers["Authorization"] = f"Bearer {issuer.token(CLAIMS)}"
    elif provider == "auth0":
        app = mutating_app({"AUTH0_ISSUER": issuer.issuer, "AUTH0_PUBLIC_KEY": issuer.jwks(),
                            "AUTH0_AUDIENCE": issuer.audience,
                            "AUTH0_CLAIMS_NAMESPACE": "https://ns.example/"})  # fmt: skip
        headers["Authorization"] = f"Bearer {issuer.token(CLAIMS)}"
    else:
        app = mutating_app(prod.config(CLERK_API_URL=API_URL))
        token = prod.session_token("user_1", **CLAIMS)
        if provider == "clerk-header":
            headers["Authorization"] = f"Bearer {token}"
        else:
            headers.update(cookie_header(prod.cookies(token)))
    for _ in range(3):  # the same token: the fast path and the verified-token caches
        answer: Any = client(app).get("/mutate", headers=headers, base_url=ORIGIN)
        assert answer.status_code == 200
        assert answer.json["changed"] == []
        assert len(answer.json["tried"]) == expected
        assert answer.json["groups"] == ["a"]
