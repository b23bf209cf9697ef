"""Clerk machine tokens through the public API: API keys, M2M and OAuth tokens, opaque (verified
by a stub Backend API) and JWT (verified with the instance's key), against every
``accepts_token`` value (``@clerk/backend``'s ``request.test.ts`` machine cases, clerk.md §7.1).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
import time_machine
from flask import Flask
from flask import jsonify
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_idguard import IdGuard
from flask_idguard import current_auth
from flask_idguard import requires_auth
from flask_idguard.signals import authentication_failed
from flask_idguard.signals import request_authenticated
from flask_idguard.testing import ClerkTestInstance

API = "https://api.clerk.test"
API_KEY, M2M, OAUTH = "ak_live_secret", "mt_live_secret", "oat_live_secret"
ACCEPTS: list[Any] = [
    "session_token",
    "api_key",
    "m2m_token",
    "oauth_token",
    "any",
    ["session_token", "api_key"],
    ["api_key", "m2m_token"],
    ["oauth_token"],
]
NOW = int(time.time())


def resources() -> dict[str, dict[str, Any]]:
    """What the Backend API answers for each valid opaque token (Clerk's JSON)."""
    later = (NOW + 3600) * 1000
    return {
        API_KEY: {"object": "api_key", "id": "ak_id_1", "type": "api_key", "name": "ci",
                  "subject": "user_42", "scopes": ["read"], "claims": {"team": "a"},
                  "revoked": False, "expired": False, "expiration": later},
        M2M: {"object": "machine_to_machine_token", "id": "mt_id_1", "subject": "mch_robot",
              "scopes": ["mch_other"], "claims": {"env": "ci"}, "revoked": False,
              "expired": False, "expiration": later},
        OAUTH: {"object": "clerk_idp_oauth_access_token", "id": "oat_id_1",
                "client_id": "client_1", "type": "oauth_token", "subject": "user_7",
                "scopes": ["profile", "email"], "revoked": False, "expired": False,
                "expiration": later},
    }  # fmt: skip


class Stub:
    """The Backend API's machine-token endpoints: valid tokens answer, others 404."""

    PATHS = {
        "/api_keys/verify": "secret",
        "/m2m_tokens/verify": "token",
        "/oauth_applications/access_tokens/verify": "access_token",
    }

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.known = resources()
        self.calls: list[tuple[str, str, str]] = []
        self.down = False
        for path in self.PATHS:
            rsps.add_callback(responses.POST, API + path, callback=self.answer)

    def answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        path = request.path_url
        body = json.loads(request.body or b"{}")
        token = body.get(self.PATHS[path], "")
        self.calls.append((path, token, str(request.headers.get("Authorization"))))
        if self.down:
            return 502, {}, "bad gateway"
        found = self.known.get(token)
        if found is None or (path, found["id"][:2]) not in _MATCHING:
            error = {"errors": [{"code": "resource_not_found", "message": "not found"}]}
            return 404, {}, json.dumps(error)
        return 200, {}, json.dumps(found)


_MATCHING = {
    ("/api_keys/verify", "ak"),
    ("/m2m_tokens/verify", "mt"),
    ("/oauth_applications/access_tokens/verify", "oa"),
}


@pytest.fixture
def clerk() -> ClerkTestInstance:
    return ClerkTestInstance("production")


@pytest.fixture
def stub() -> Iterator[Stub]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield Stub(rsps)


def make_app(clerk: ClerkTestInstance, accepts: Any, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(clerk.config(**{"CLERK_API_URL": API, **config}))
    IdGuard(app)

    @app.get("/")
    @requires_auth(accepts_token=accepts)
    def view() -> Any:
        auth = current_auth
        return jsonify(token_type=auth.token_type, user_id=auth.user_id,
                       machine_id=auth.machine_id, subject=auth.subject,
                       scopes=sorted(auth.scopes), claims=dict(auth.claims),
                       org_id=auth.org_id, session_id=auth.session_id,
                       has=auth.has(permission="org:x:y"))  # fmt: skip

    @app.get("/open")
    def unguarded() -> Any:
        return jsonify(status=current_auth.status, reason=current_auth.reason)

    return app


def sign(clerk: ClerkTestInstance, claims: dict[str, Any], **header: Any) -> str:
    """``claims`` signed with the instance's key; header fields given as None are left out."""
    fields = {"alg": "RS256", "kid": clerk.key.kid, **header}
    return clerk.key.sign_compact({k: v for k, v in fields.items() if v is not None}, claims)


def m2m_jwt(clerk: ClerkTestInstance, **extra: Any) -> str:
    claims = {"sub": "mch_jwt", "iat": NOW, "nbf": NOW - 5, "exp": NOW + 300, "jti": "mt_j1",
              "scopes": "mch_a mch_b", "iss": clerk.issuer, **extra}  # fmt: skip
    return sign(clerk, {k: v for k, v in claims.items() if v is not None}, cat="cl_B7d4PD333AAA")


def oauth_jwt(clerk: ClerkTestInstance, **extra: Any) -> str:
    claims = {"sub": "user_o", "iat": NOW, "nbf": NOW - 5, "exp": NOW + 300, "jti": "oat_j1",
              "client_id": "client_9", "scp": ["read"], "iss": clerk.issuer, **extra}  # fmt: skip
    return sign(clerk, {k: v for k, v in claims.items() if v is not None}, typ="at+jwt")


def tokens(clerk: ClerkTestInstance) -> dict[str, tuple[str, str]]:
    """name → (token, its Clerk type)."""
    return {
        "session": (clerk.session_token(), "session_token"),
        "api_key": (API_KEY, "api_key"),
        "m2m": (M2M, "m2m_token"),
        "oauth": (OAUTH, "oauth_token"),
        "m2m_jwt": (m2m_jwt(clerk), "m2m_token"),
        "oauth_jwt": (oauth_jwt(clerk), "oauth_token"),
    }


def accepted(kind: str, accepts: Any) -> bool:
    if accepts == "any":
        return True
    return kind in ([accepts] if isinstance(accepts, str) else accepts)


def get(app: Flask, token: str | None = None, path: str = "/") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return app.test_client().get(path, headers=headers)


@pytest.mark.parametrize("accepts", ACCEPTS, ids=str)
@pytest.mark.parametrize("name", ["session", "api_key", "m2m", "oauth", "m2m_jwt", "oauth_jwt"])
def test_every_token_type_against_every_accepts_value(
    clerk: ClerkTestInstance, stub: Stub, name: str, accepts: Any
) -> None:
    token, kind = tokens(clerk)[name]
    resp = get(make_app(clerk, accepts), token)
    if accepted(kind, accepts):
        assert resp.status_code == 200, resp.headers
        assert resp.json["token_type"] == kind
        assert "x-clerk-auth-status" not in resp.headers
        return
    assert resp.status_code == 401
    if accepts == "session_token" and name in ("api_key", "m2m", "oauth"):
        # Clerk's session path does not know opaque machine tokens: not a JWT (§11.3).
        assert resp.headers["x-clerk-auth-reason"] == "token-invalid"
    else:
        assert resp.headers["x-clerk-auth-reason"] == "token-type-mismatch"
        assert "x-clerk-auth-message" not in resp.headers
    assert stub.calls == []  # a route that does not accept the type never asks the API


def test_machine_fields(clerk: ClerkTestInstance, stub: Stub) -> None:
    app = make_app(clerk, "any")
    key = get(app, API_KEY).json
    assert key == {"token_type": "api_key", "user_id": "user_42", "machine_id": None,
                   "subject": "user_42", "scopes": ["read"], "claims": {"team": "a"},
                   "org_id": None, "session_id": None, "has": False}  # fmt: skip
    m2m = get(app, M2M).json
    assert (m2m["machine_id"], m2m["user_id"], m2m["claims"]) == ("mch_robot", None, {"env": "ci"})
    oauth = get(app, OAUTH).json
    assert (oauth["user_id"], oauth["scopes"]) == ("user_7", ["email", "profile"])
    jwt = get(app, m2m_jwt(clerk)).json
    assert (jwt["machine_id"], jwt["scopes"]) == ("mch_jwt", ["mch_a", "mch_b"])
    # Custom claims are all but iss/sub/exp/nbf/iat/jti (M2MToken.fromJwtPayload).
    assert jwt["claims"] == {"scopes": "mch_a mch_b"}
    ojwt = get(app, oauth_jwt(clerk)).json
    assert (ojwt["user_id"], ojwt["scopes"]) == ("user_o", ["read"])


def test_org_api_key_and_the_wire(clerk: ClerkTestInstance, stub: Stub) -> None:
    stub.known["ak_org"] = {**stub.known[API_KEY], "id": "ak_id_2", "subject": "org_1"}
    resp = get(make_app(clerk, "api_key"), "ak_org")
    assert (resp.json["org_id"], resp.json["user_id"]) == ("org_1", None)
    assert stub.calls == [("/api_keys/verify", "ak_org", f"Bearer {clerk.secret_key}")]


def test_m2m_uses_the_machine_secret_key(clerk: ClerkTestInstance, stub: Stub) -> None:
    app = make_app(clerk, "m2m_token", CLERK_MACHINE_SECRET_KEY="ak_machine_secret")
    assert get(app, M2M).status_code == 200
    assert get(make_app(clerk, "api_key", CLERK_MACHINE_SECRET_KEY="ak_m"), API_KEY).json
    assert [c[2] for c in stub.calls] == ["Bearer ak_machine_secret", f"Bearer {clerk.secret_key}"]


@pytest.mark.parametrize(
    ("token", "accepts", "message"),
    [
        (API_KEY + "x", "api_key", "API key not found (code=token-invalid, status=404)"),
        (M2M + "x", "m2m_token", "Machine token not found (code=token-invalid, status=404)"),
        (OAUTH + "x", "oauth_token", "OAuth token not found (code=token-invalid, status=404)"),
        (API_KEY + "x", "any", "API key not found (code=token-invalid, status=404)"),
    ],
)
def test_unknown_or_revoked_opaque_token(
    clerk: ClerkTestInstance, stub: Stub, token: str, accepts: str, message: str
) -> None:
    resp = get(make_app(clerk, accepts), token)
    assert resp.status_code == 401
    assert resp.headers["x-clerk-auth-reason"] == "token-invalid"
    assert resp.headers["x-clerk-auth-message"] == message
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


@pytest.mark.parametrize("flag", ["revoked", "expired"])
def test_a_revoked_or_expired_answer_is_refused(
    clerk: ClerkTestInstance, stub: Stub, flag: str
) -> None:
    stub.known[API_KEY][flag] = True  # Clerk's SDK would trust it; we fail closed
    resp = get(make_app(clerk, "api_key"), API_KEY)
    assert (resp.status_code, resp.headers["x-clerk-auth-reason"]) == (401, "token-invalid")


def test_backend_api_down_is_503(clerk: ClerkTestInstance, stub: Stub) -> None:
    stub.down = True
    resp = get(make_app(clerk, "api_key"), API_KEY)
    assert resp.status_code == 503
    assert resp.headers["x-clerk-auth-reason"] == "unexpected-error"
    assert resp.headers["x-clerk-auth-message"] == (
        "Unexpected error (code=unexpected-error, status=502)"
    )


def test_unreachable_backend_api_is_503(clerk: ClerkTestInstance) -> None:
    app = make_app(clerk, "m2m_token", CLERK_API_URL="http://127.0.0.1:9")
    resp = get(app, M2M)
    assert resp.status_code == 503
    assert resp.headers["x-clerk-auth-message"] == (
        "Unexpected error (code=unexpected-error, status=n/a)"
    )


def test_verified_tokens_are_remembered_within_the_ttl(
    clerk: ClerkTestInstance, stub: Stub
) -> None:
    app = make_app(clerk, "any", CLERK_MACHINE_TOKEN_CACHE_TTL=30)
    for _ in range(3):
        assert get(app, API_KEY).status_code == 200
    assert len(stub.calls) == 1
    del stub.known[API_KEY]  # revoked upstream: still served until the TTL ends
    assert get(app, API_KEY).status_code == 200
    with time_machine.travel(time.time() + 31):  # past the TTL: asked again, and refused
        assert get(app, API_KEY).status_code == 401
    assert len(stub.calls) == 2


def test_ttl_zero_asks_every_time(clerk: ClerkTestInstance, stub: Stub) -> None:
    app = make_app(clerk, "any", CLERK_MACHINE_TOKEN_CACHE_TTL=0)
    for _ in range(3):
        assert get(app, M2M).status_code == 200
    assert len(stub.calls) == 3


def test_failures_are_not_remembered(clerk: ClerkTestInstance, stub: Stub) -> None:
    app = make_app(clerk, "any")
    stub.down = True
    assert get(app, OAUTH).status_code == 503
    stub.down = False
    assert get(app, OAUTH).status_code == 200


@pytest.mark.parametrize("accepts", ["api_key", "m2m_token", "oauth_token"])
def test_no_token_in_header(clerk: ClerkTestInstance, stub: Stub, accepts: str) -> None:
    # A signed-in browser (a valid session cookie) on a route for machines only.
    resp = clerk.signed_in(make_app(clerk, accepts).test_client()).get("/")
    assert resp.status_code == 401
    assert resp.headers["x-clerk-auth-reason"] == "No token in header"
    assert resp.headers["WWW-Authenticate"] == "Bearer"  # no credentials for this route


def test_cookie_session_on_lists(clerk: ClerkTestInstance, stub: Stub) -> None:
    ok = clerk.signed_in(make_app(clerk, ["session_token", "api_key"]).test_client()).get("/")
    assert (ok.status_code, (ok.json or {}).get("token_type")) == (200, "session_token")
    refused = clerk.signed_in(make_app(clerk, ["api_key", "m2m_token"]).test_client()).get("/")
    assert (refused.status_code, refused.headers["x-clerk-auth-reason"]) == (
        401,
        "token-type-mismatch",
    )


def test_unguarded_views_keep_clerks_default(clerk: ClerkTestInstance, stub: Stub) -> None:
    app = make_app(clerk, "any")
    assert get(app, API_KEY, "/open").json == {"status": "signed-out", "reason": "token-invalid"}
    assert get(app, m2m_jwt(clerk), "/open").json == {
        "status": "signed-out",
        "reason": "token-type-mismatch",
    }
    assert stub.calls == []


@pytest.mark.parametrize(
    ("make", "reason_part"),
    [
        (lambda c: m2m_jwt(c, exp=NOW - 100), "JWT is expired"),
        (lambda c: oauth_jwt(c, exp=NOW - 100), "JWT is expired"),
        (lambda c: m2m_jwt(ClerkTestInstance("production")), "JWT signature is invalid."),
        (lambda c: oauth_jwt(ClerkTestInstance("production")), "JWT signature is invalid."),
    ],
    ids=["m2m-expired", "oauth-expired", "m2m-other-instance", "oauth-other-instance"],
)
def test_jwt_machine_tokens_that_do_not_verify(
    clerk: ClerkTestInstance, stub: Stub, make: Any, reason_part: str
) -> None:
    resp = get(make_app(clerk, "any"), make(clerk))
    assert resp.status_code == 401
    assert resp.headers["x-clerk-auth-reason"] == "token-verification-failed"
    message = resp.headers["x-clerk-auth-message"]
    assert reason_part in message and message.endswith(
        "(code=token-verification-failed, status=n/a)"
    )
    assert stub.calls == []


def test_m2m_jwt_with_a_session_category_is_refused(clerk: ClerkTestInstance) -> None:
    token = sign(clerk, {"sub": "mch_x", "iat": NOW, "exp": NOW + 60}, cat="cl_B7d4PD111AAA")
    resp = get(make_app(clerk, "m2m_token"), token)
    assert resp.headers["x-clerk-auth-message"] == (
        "Invalid M2M JWT category. (code=token-invalid, status=n/a)"
    )


def test_oauth_jwt_audience(clerk: ClerkTestInstance) -> None:
    app = make_app(clerk, "oauth_token", CLERK_AUDIENCE=["https://api.example.com"])
    good = oauth_jwt(clerk, aud=["https://api.example.com"])
    assert get(app, good).status_code == 200
    bad = get(app, oauth_jwt(clerk, aud="https://other.example"))
    assert bad.headers["x-clerk-auth-message"] == (
        'OAuth audience mismatch. Verification expected audience ["https://api.example.com"], '
        'but incoming token has aud "https://other.example". '
        "(code=token-verification-failed, status=n/a)"
    )
    missing = get(app, oauth_jwt(clerk))
    assert "Invalid OAuth audience claim (aud) undefined" in missing.headers["x-clerk-auth-message"]


def test_scopes_and_signals(clerk: ClerkTestInstance, stub: Stub) -> None:
    app = make_app(clerk, "any")

    @app.get("/scoped")
    @requires_auth(accepts_token="oauth_token", scopes=["email"])
    def scoped() -> Any:
        return "ok"

    seen: list[str | None] = []

    def on_auth(sender: Flask, state: Any) -> None:
        seen.append(state.token_type)

    def on_failure(sender: Flask, state: Any) -> None:
        seen.append(state.reason)

    with (
        request_authenticated.connected_to(on_auth, app),
        authentication_failed.connected_to(on_failure, app),
    ):
        assert get(app, OAUTH, "/scoped").status_code == 200
        assert get(app, OAUTH + "x", "/scoped").status_code == 401
        # A route that does not accept machine tokens: the hook's decision is the signal.
        assert get(app, OAUTH, "/open").json["reason"] == "token-invalid"
    # One signal per request, for the route's decision.
    assert seen == ["oauth_token", "token-invalid", "token-invalid"]
    stub.known[OAUTH]["scopes"] = ["profile"]
    other = make_app(clerk, "any", CLERK_MACHINE_TOKEN_CACHE_TTL=0)
    other.add_url_rule(
        "/scoped", "scoped", requires_auth(accepts_token="oauth_token", scopes=["email"])(scoped)
    )
    assert get(other, OAUTH, "/scoped").status_code == 403


@pytest.mark.parametrize("value", ["bogus", ["api_key", "x"], [], 3])
def test_accepts_token_is_checked(value: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        requires_auth(accepts_token=value)


def test_opaque_machine_tokens_reach_clerk_next_to_an_oidc_issuer(
    clerk: ClerkTestInstance, stub: Stub
) -> None:
    from flask_idguard.testing import TestIssuer

    api = TestIssuer("https://issuer.test/")
    app = make_app(clerk, "any", IDGUARD_ISSUER=api.issuer, IDGUARD_AUDIENCE=api.audience,
                   IDGUARD_PUBLIC_KEYS=api.jwks())  # fmt: skip
    assert get(app, API_KEY).json["token_type"] == "api_key"
    assert get(app, m2m_jwt(clerk)).json["token_type"] == "m2m_token"
    oidc = get(app, api.token())  # another provider's token: not filtered by accepts_token
    assert (oidc.status_code, oidc.json["token_type"]) == (200, "access_token")


_HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=0, max_size=80
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(["ak_", "mt_", "oat_", "", "eyJ", "mch_"]),
    body=_HEADER_TEXT,
    accepts=st.sampled_from(ACCEPTS),
)
def test_hostile_tokens_never_500(prefix: str, body: str, accepts: Any) -> None:
    clerk = _HOSTILE_CLERK
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        Stub(rsps)
        resp = get(make_app(clerk, accepts), prefix + body)
    assert resp.status_code == 401
    assert resp.headers["x-clerk-auth-status"] == "signed-out"


_HOSTILE_CLERK = ClerkTestInstance("production")


@settings(max_examples=60, deadline=None)
@given(claims=st.dictionaries(st.sampled_from(["sub", "exp", "iat", "nbf", "aud", "scp",
                                               "scope", "scopes", "client_id", "jti"]),
                              st.one_of(st.none(), st.integers(), st.text(max_size=8),
                                        st.lists(st.text(max_size=4), max_size=3),
                                        st.booleans())),
       typ=st.sampled_from(["at+jwt", "JWT", None]))  # fmt: skip
def test_hostile_machine_jwt_claims_never_500(claims: dict[str, Any], typ: str | None) -> None:
    clerk = _HOSTILE_CLERK
    payload = {"sub": "mch_x" if typ != "at+jwt" else "user_x", **claims}
    token = sign(clerk, payload, typ=typ)
    resp = get(make_app(clerk, "any", CLERK_AUDIENCE=["a"]), token)
    assert resp.status_code in (200, 401)
    if resp.status_code == 200:
        assert resp.json["token_type"] in ("m2m_token", "oauth_token", "session_token")


@pytest.mark.parametrize("token", ["ak_" + "x" * 600, "mt_caf\u00e9", "oat_a\tb"])
def test_oversized_or_odd_opaque_tokens_never_reach_the_api(
    clerk: ClerkTestInstance, stub: Stub, token: str
) -> None:
    from flask_idguard.providers.clerk.machine_verify import MachineError

    provider = make_app(clerk, "any").extensions["idguard"].providers[0]
    kind = {"ak_": "api_key", "mt_": "m2m_token", "oat": "oauth_token"}[token[:3]]
    with pytest.raises(MachineError) as caught:
        provider.machine_tokens.verifier.verify(kind, token)
    assert caught.value.code == "token-invalid"
    assert caught.value.full_message.endswith("not found (code=token-invalid, status=n/a)")
    resp = get(make_app(clerk, "any"), token[:520])
    assert resp.status_code == 401
    assert stub.calls == []


@pytest.mark.parametrize(
    ("value", "fragment"),
    [(-1, "CLERK_MACHINE_TOKEN_CACHE_TTL"), (7200, "at most 3600"), (True, "CLERK_MACHINE")],
)
def test_cache_ttl_is_checked_at_start_up(
    clerk: ClerkTestInstance, value: object, fragment: str
) -> None:
    from flask_idguard import ConfigurationError

    with pytest.raises(ConfigurationError, match=fragment):
        make_app(clerk, "any", CLERK_MACHINE_TOKEN_CACHE_TTL=value)


def test_the_machine_secret_key_is_never_shown(clerk: ClerkTestInstance) -> None:
    app = make_app(clerk, "any", CLERK_MACHINE_SECRET_KEY="ak_very_secret")
    provider = app.extensions["idguard"].providers[0]
    shown = repr(provider.machine_tokens.verifier.api) + repr(vars(provider))
    assert "ak_very_secret" not in shown


def test_a_refused_secret_key_is_503(clerk: ClerkTestInstance) -> None:
    error = {"errors": [{"code": "authentication_invalid", "message": "Unauthorized request"}]}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, API + "/api_keys/verify", status=401, json=error)
        resp = get(make_app(clerk, "api_key"), API_KEY)
    assert resp.status_code == 503
    assert resp.headers["x-clerk-auth-reason"] == "secret-key-invalid"
    assert resp.headers["x-clerk-auth-message"] == (
        "Unauthorized request (code=secret-key-invalid, status=401)"
    )


def test_jwt_machine_tokens_with_the_backend_api_jwks(clerk: ClerkTestInstance) -> None:
    config = {k: v for k, v in clerk.config(CLERK_API_URL=API).items() if k != "CLERK_JWT_KEY"}
    app = Flask(__name__)
    app.config.update(config)
    IdGuard(app)
    app.add_url_rule("/", "v", requires_auth(accepts_token="any")(lambda: "ok"))
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, API + "/v1/jwks", json=clerk.jwks())
        assert get(app, m2m_jwt(clerk)).status_code == 200
        assert get(app, oauth_jwt(clerk)).status_code == 200
    down = Flask(__name__)
    down.config.update(config)
    IdGuard(down)
    down.add_url_rule("/", "v", requires_auth(accepts_token="any")(lambda: "ok"))
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, API + "/v1/jwks", status=503)
        resp = get(down, m2m_jwt(clerk))
    assert (resp.status_code, resp.headers["x-clerk-auth-reason"]) == (503, "unexpected-error")
