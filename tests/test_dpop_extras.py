"""DPoP beyond Auth0's SDKs: the jti replay cache, server nonces, caching, proxies, config, htu."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import time_machine
from cachelib import SimpleCache
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_idguard import IdGuard
from flask_idguard import requires_auth
from flask_idguard.core.dpop import InProcessReplayCache
from flask_idguard.core.dpop import normalize_url
from flask_idguard.errors import ConfigurationError
from flask_idguard.testing import DPoPKey
from flask_idguard.testing import TestIssuer

from .conftest import AppFactory
from .test_dpop_matrix import URL
from .test_dpop_matrix import assert_error
from .test_dpop_matrix import call

REPLAYED = 'DPoP proof "jti" has already been used; send a new proof with each request'
NONCE_SECRET = "a-nonce-secret-of-32-characters!"


@pytest.fixture
def key() -> DPoPKey:
    return DPoPKey()


@pytest.fixture
def bound(issuer: TestIssuer, key: DPoPKey) -> str:
    return issuer.token(dpop=key)


# -- replay ---------------------------------------------------------------------------------


def test_the_same_proof_twice_is_refused(app: Flask, bound: str, key: DPoPKey) -> None:
    proof = key.proof("GET", URL, bound)
    assert call(app, bound, proof).status_code == 200
    assert_error(call(app, bound, proof), 400, "invalid_dpop_proof", REPLAYED)
    assert call(app, bound, key.proof("GET", URL, bound)).status_code == 200  # a new proof


def test_a_refused_proof_is_not_remembered(app: Flask, bound: str, key: DPoPKey) -> None:
    """A proof that fails a check must not burn its jti (no replay-cache poisoning)."""
    proof = key.proof("GET", URL, bound, jti="fixed")
    assert call(app, bound, proof, method="POST").status_code == 400  # htm mismatch
    assert call(app, bound, proof).status_code == 200


def test_replay_cache_is_shared_through_idguard_cache(
    make_app: AppFactory, bound: str, key: DPoPKey
) -> None:
    shared = SimpleCache()
    worker_a, worker_b = make_app(IDGUARD_CACHE=shared), make_app(IDGUARD_CACHE=shared)
    proof = key.proof("GET", URL, bound)
    assert call(worker_a, bound, proof).status_code == 200
    assert_error(call(worker_b, bound, proof), 400, "invalid_dpop_proof", REPLAYED)


def test_replay_window_ends_with_the_iat_window(app: Flask, bound: str, key: DPoPKey) -> None:
    proof = key.proof("GET", URL, bound)
    assert call(app, bound, proof).status_code == 200
    with time_machine.travel(time.time() + 200, tick=False):
        assert_error(call(app, bound, proof), 400, "invalid_dpop_proof", REPLAYED)


def test_concurrent_replays_of_one_proof_are_accepted_once(
    app: Flask, bound: str, key: DPoPKey
) -> None:
    proof = key.proof("GET", URL, bound)
    barrier = threading.Barrier(16)

    def send() -> int:
        barrier.wait()
        return call(app, bound, proof).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = sorted(pool.map(lambda _: send(), range(16)))
    assert statuses == [200] + [400] * 15


def test_in_process_replay_cache_is_bounded() -> None:
    cache = InProcessReplayCache(size=3)
    assert [cache.add(k, 60) for k in "abcd"] == [True] * 4
    assert len(cache) == 3  # "a", the oldest, was dropped
    assert cache.add("d", 60) is False
    assert cache.add("x", 0) is True and cache.add("x", 60) is True  # expired entries go


class BrokenCache(SimpleCache):
    def add(self, *args: Any, **kwargs: Any) -> bool:
        raise ConnectionError("redis is down")


def test_a_failing_shared_cache_falls_back_to_memory(
    make_app: AppFactory, bound: str, key: DPoPKey, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(IDGUARD_CACHE=BrokenCache())
    proof = key.proof("GET", URL, bound)
    assert call(app, bound, proof).status_code == 200
    assert call(app, bound, proof).status_code == 400
    assert "the shared cache failed" in caplog.text


# -- the verified-token cache never skips the proof ------------------------------------------


def test_a_cached_token_still_needs_a_valid_proof_each_time(
    app: Flask, bound: str, key: DPoPKey
) -> None:
    assert call(app, bound, key.proof("GET", URL, bound)).status_code == 200
    assert call(app, bound, None).status_code == 400  # no proof
    stale = key.proof("GET", URL, bound, now=time.time() - 400)
    assert call(app, bound, stale).status_code == 400
    assert call(app, bound, DPoPKey().proof("GET", URL, bound)).status_code == 401
    assert call(app, bound, None, scheme="Bearer").status_code == 401  # fast path refuses it
    assert call(app, bound, key.proof("GET", URL, bound)).status_code == 200


def test_cached_unbound_bearer_token_with_a_proof_is_still_refused(
    app: Flask, issuer: TestIssuer, key: DPoPKey
) -> None:
    token = issuer.token()
    assert call(app, token, None, scheme="Bearer").status_code == 200  # now cached
    r = call(app, token, key.proof("GET", URL, token), scheme="Bearer")
    assert r.status_code == 400


def test_required_mode_refuses_a_cached_bearer_token(
    make_app: AppFactory, issuer: TestIssuer
) -> None:
    token = issuer.token()
    app = make_app(IDGUARD_DPOP="required")
    assert call(app, token, None, scheme="Bearer").status_code == 400
    assert call(app, token, None, scheme="Bearer").status_code == 400


# -- server nonces ---------------------------------------------------------------------------


def test_nonce_flow(make_app: AppFactory, issuer: TestIssuer, key: DPoPKey) -> None:
    bound = issuer.token(dpop=key, expires_in=3600)
    app = make_app(IDGUARD_DPOP_NONCE=NONCE_SECRET)
    r = call(app, bound, key.proof("GET", URL, bound))
    assert_error(r, 401, "use_dpop_nonce", "Resource server requires nonce in DPoP proof")
    assert r.headers.getlist("WWW-Authenticate")[1].startswith('DPoP error="use_dpop_nonce"')
    nonce = r.headers["DPoP-Nonce"]
    r = call(app, bound, key.proof("GET", URL, bound, nonce=nonce))
    assert r.status_code == 200
    assert r.headers["DPoP-Nonce"] == nonce
    forged = nonce[:-2] + ("AA" if nonce[-2:] != "AA" else "BB")
    assert call(app, bound, key.proof("GET", URL, bound, nonce=forged)).status_code == 401
    with time_machine.travel(time.time() + 700, tick=False):
        r = call(app, bound, key.proof("GET", URL, bound, nonce=nonce))
        assert_error(r, 401, "use_dpop_nonce", "Resource server requires nonce in DPoP proof")
        assert r.headers["DPoP-Nonce"] != nonce


def test_nonces_are_shared_by_workers_with_the_same_secret(
    make_app: AppFactory, bound: str, key: DPoPKey
) -> None:
    worker_a = make_app(IDGUARD_DPOP_NONCE=NONCE_SECRET)
    worker_b = make_app(IDGUARD_DPOP_NONCE=NONCE_SECRET)
    nonce = call(worker_a, bound, key.proof("GET", URL, bound)).headers["DPoP-Nonce"]
    assert call(worker_b, bound, key.proof("GET", URL, bound, nonce=nonce)).status_code == 200
    other = make_app(IDGUARD_DPOP_NONCE=True)
    assert call(other, bound, key.proof("GET", URL, bound, nonce=nonce)).status_code == 401


def test_bearer_requests_need_no_nonce(make_app: AppFactory, issuer: TestIssuer) -> None:
    r = call(make_app(IDGUARD_DPOP_NONCE=True), issuer.token(), None, scheme="Bearer")
    assert r.status_code == 200
    assert "DPoP-Nonce" not in r.headers


# -- proxies ---------------------------------------------------------------------------------


def test_htu_is_the_external_url_behind_proxy_fix(
    make_app: AppFactory, bound: str, key: DPoPKey
) -> None:
    app = make_app()
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)  # type: ignore[method-assign]
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"}

    def send(htu: str) -> Any:
        headers = {"Authorization": f"DPoP {bound}", "DPoP": key.proof("GET", htu, bound)}
        return client.get("/me", base_url="http://10.0.0.5:8000", headers=forwarded | headers)

    assert send("https://api.example.com/me").status_code == 200
    assert_error(
        send("http://10.0.0.5:8000/me"), 400, "invalid_dpop_proof", 'DPoP proof "htu" mismatch'
    )


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"IDGUARD_DPOP": "sometimes"}, "IDGUARD_DPOP"),
        ({"IDGUARD_DPOP_ALGORITHMS": ["HS256"]}, "IDGUARD_DPOP_ALGORITHMS"),
        ({"IDGUARD_DPOP_ALGORITHMS": "none"}, "IDGUARD_DPOP_ALGORITHMS"),
        ({"IDGUARD_DPOP_IAT_OFFSET": -1}, "IDGUARD_DPOP_IAT_OFFSET"),
        ({"IDGUARD_DPOP_IAT_LEEWAY": float("inf")}, "IDGUARD_DPOP_IAT_LEEWAY"),
        ({"IDGUARD_DPOP_NONCE": "short"}, "IDGUARD_DPOP_NONCE"),
        ({"IDGUARD_DPOP_NONCE": 12}, "IDGUARD_DPOP_NONCE"),
        ({"IDGUARD_DPOP_REJECT_BOUND_BEARER": "maybe"}, "IDGUARD_DPOP_REJECT_BOUND_BEARER"),
    ],
)
def test_bad_dpop_configuration_fails_at_init(
    make_app: AppFactory, config: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigurationError, match=key):
        make_app(**config)


def test_auth0_mode_keys(idguard_issuer_factory: Callable[..., TestIssuer]) -> None:
    tenant = idguard_issuer_factory(issuer="https://tenant.test/")
    for config in ({"AUTH0_DPOP": "required"}, {"AUTH0_DPOP_MODE": "required"}):
        app = Flask("auth0")
        app.config.update(AUTH0_DOMAIN="tenant.test", AUTH0_AUDIENCE=tenant.audience, **config)
        IdGuard(app)
        provider = app.extensions["idguard"].providers[0]
        assert (provider.name, provider.dpop.mode) == ("auth0", "required")
    app = Flask("auth0")
    app.config.update(AUTH0_DOMAIN="tenant.test", AUTH0_AUDIENCE="a", IDGUARD_DPOP="disabled")
    IdGuard(app)
    assert app.extensions["idguard"].providers[0].dpop.mode == "disabled"


def test_auth0_iat_window_keys(idguard_issuer_factory: Callable[..., TestIssuer]) -> None:
    tenant = idguard_issuer_factory(issuer="https://tenant.test/")
    app = Flask("auth0")
    app.config.update(
        AUTH0_DOMAIN="tenant.test",
        AUTH0_AUDIENCE=tenant.audience,
        IDGUARD_DPOP_IAT_OFFSET=100,
        AUTH0_DPOP_IAT_OFFSET=20,
        AUTH0_DPOP_IAT_LEEWAY="2",
    )
    IdGuard(app)
    app.add_url_rule("/me", "me", requires_auth(lambda: "ok"))
    dpop = app.extensions["idguard"].providers[0].dpop
    assert (dpop.iat_offset, dpop.iat_leeway) == (20, 2)
    key = DPoPKey()
    token = tenant.token(dpop=key)
    url = "http://localhost/me"
    fresh = key.proof("GET", url, token, now=time.time() - 10)
    old = key.proof("GET", url, token, now=time.time() - 60)
    client = app.test_client()
    assert (
        client.get("/me", headers={"Authorization": f"DPoP {token}", "DPoP": fresh}).status_code
        != 400
    )
    refused = client.get("/me", headers={"Authorization": f"DPoP {token}", "DPoP": old})
    assert refused.status_code == 400
    assert "iat" in refused.get_json()["error_description"]


def test_environment_configures_dpop(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, issuer: TestIssuer
) -> None:
    monkeypatch.setenv("IDGUARD_DPOP", "Required")
    monkeypatch.setenv("IDGUARD_DPOP_ALGORITHMS", "ES256, EdDSA")
    app = make_app()
    provider = app.extensions["idguard"].providers[0]
    assert (provider.dpop.mode, provider.dpop.algorithms) == ("required", ("ES256", "EdDSA"))


# -- htu normalisation -----------------------------------------------------------------------

NORMALIZED = [
    ("https://api.example.com/resource?x=1#frag", "https://api.example.com/resource"),
    ("https://api.example.com/resource/", "https://api.example.com/resource/"),
    ("https://api.example.com:8443/resource", "https://api.example.com:8443/resource"),
    ("https://user:pass@api.example.com/resource", "https://api.example.com/resource"),
    ("http://localhost:3000/path?q#h", "http://localhost:3000/path"),
    ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
    ("HTTPS://API.EXAMPLE.COM/Path", "https://api.example.com/Path"),
    ("https://api.example.com:443/x", "https://api.example.com/x"),
    ("http://api.example.com:80/path", "http://api.example.com/path"),
    ("https://api.example.com/a%2fb%7e", "https://api.example.com/a%2Fb~"),
    ("https://api.example.com/%41%2D%5F", "https://api.example.com/A-_"),
    ("https://api.example.com/a/./b/../c", "https://api.example.com/a/c"),
    ("https://api.example.com/a/%2E%2E/b", "https://api.example.com/b"),
    ("https://api.example.com", "https://api.example.com/"),
    ("https://api.example.com//double/slash", "https://api.example.com//double/slash"),
    ("http://[::1]/path", "http://[::1]/path"),
    ("http://[2001:DB8::1]:8080/alpha", "http://[2001:db8::1]:8080/alpha"),
    ("http://[::ffff:192.0.2.128]:3000/x", "http://[::ffff:c000:280]:3000/x"),
    ("https://xn--bcher-kva.de/weg", "https://xn--bcher-kva.de/weg"),
    ("https://bücher.de/weg", "https://xn--bcher-kva.de/weg"),
    ("https://api.example.com./x", "https://api.example.com./x"),
    ("https://bad_host.example/path", "https://bad_host.example/path"),
    ("https://api.example.com/caf\u00e9 x", "https://api.example.com/caf%C3%A9%20x"),
]


@pytest.mark.parametrize(("raw", "expected"), NORMALIZED, ids=[n[0] for n in NORMALIZED])
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw, "proof") == expected
    assert normalize_url(raw, "request") == expected


REFUSED = [
    "not a url",
    "ftp://api.example.com/x",
    "https:///path",
    "http://h:999999/",
    "http://[::1/",
    "http://[zz::1]/",
    "https://exa mple.com/",
    "https://a\\b/",
    "https://\u0000host/",
    "https://h\u00adost\u200b.example/",
    "x" * 9000,
]


@pytest.mark.parametrize("raw", REFUSED)
def test_normalize_url_refuses(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_url(raw, "proof")


# -- hostile input never ends in a 500 -------------------------------------------------------


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    proof=st.one_of(
        st.text(max_size=300),
        st.from_regex(r"[A-Za-z0-9_\-]{0,60}\.[A-Za-z0-9_\-]{0,60}\.[A-Za-z0-9_\-]{0,40}"),
    ),
    scheme=st.sampled_from(["DPoP", "dpop", "Bearer"]),
)
def test_dpop_header_garbage_is_a_clean_4xx(
    app: Flask, bound: str, proof: str, scheme: str
) -> None:
    try:
        r = call(app, bound, proof, scheme=scheme)
    except ValueError:  # werkzeug refuses header values with newlines before we see them
        return
    assert r.status_code in (400, 401)
    assert r.json is not None and r.json["error"] in (
        "invalid_request",
        "invalid_dpop_proof",
        "invalid_token",
    )


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    htu=st.text(max_size=80),
    claims=st.dictionaries(
        st.sampled_from(["jti", "iat", "htm", "ath", "nonce"]),
        st.one_of(
            st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.lists(st.integers())
        ),
    ),
)
def test_signed_proofs_with_garbage_claims_are_a_clean_4xx(
    app: Flask, bound: str, key: DPoPKey, htu: str, claims: dict[str, Any]
) -> None:
    r = call(app, bound, key.proof("GET", htu, bound, **claims))
    assert r.status_code in (400, 401)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.dictionaries(st.sampled_from(["typ", "alg", "jwk", "crit", "kid"]), JSON),
    jwk=st.dictionaries(st.sampled_from(["kty", "crv", "x", "y", "n", "e", "d"]), JSON),
)
def test_signed_proofs_with_garbage_headers_are_a_clean_4xx(
    app: Flask, bound: str, key: DPoPKey, header: dict[str, Any], jwk: dict[str, Any]
) -> None:
    proof = key.proof("GET", URL, bound, header={"jwk": jwk, **header})
    r = call(app, bound, proof)
    assert r.status_code in (400, 401)
