"""Key sets: static keys, remote JWKS caching/cooldown/single-flight/stale-if-error, discovery."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import requests
import responses
import time_machine
from cachelib import SimpleCache
from joserfc.jwk import ECKey
from joserfc.jwk import KeySet
from joserfc.jwk import OctKey
from joserfc.jwk import OKPKey
from joserfc.jwk import RSAKey

from flask_idguard.core.discovery import DiscoveredJWKS
from flask_idguard.core.fetch import MAX_BODY_BYTES
from flask_idguard.core.fetch import FetchError
from flask_idguard.core.fetch import HttpClient
from flask_idguard.core.jwks import RemoteJWKS
from flask_idguard.core.keys import KeysUnavailable
from flask_idguard.core.keys import StaticKeySet
from flask_idguard.core.urls import check_url

JWKS_URL = "https://idp.example.com/.well-known/jwks.json"
ISSUER = "https://idp.example.com/"
DISCOVERY_URL = "https://idp.example.com/.well-known/openid-configuration"
START = 1_700_000_000.0

Headers = dict[str, str]

RSA1 = RSAKey.generate_key(2048, private=True)
RSA2 = RSAKey.generate_key(2048, private=True)
EC1 = ECKey.generate_key("P-256", private=True)
ED1 = OKPKey.generate_key("Ed25519", private=True)


def pub(key: RSAKey | ECKey | OKPKey, kid: str | None) -> dict[str, Any]:
    data: dict[str, Any] = dict(key.as_dict(private=False))
    data.pop("kid", None)
    if kid is not None:
        data["kid"] = kid
    return data


def jwks(*entries: object) -> dict[str, Any]:
    return {"keys": list(entries)}


class Upstream:
    """A mutable fake HTTP endpoint (a `responses` callback)."""

    def __init__(self, body: object, *, status: int = 200, headers: Headers | None = None) -> None:
        self.body = body
        self.status = status
        self.headers: Headers = headers or {}
        self.delay = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, request: requests.PreparedRequest) -> tuple[int, Headers, str | bytes]:
        with self._lock:
            self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        body = self.body if isinstance(self.body, (str, bytes)) else json.dumps(self.body)
        return self.status, dict(self.headers), body


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def http() -> HttpClient:
    return HttpClient(timeout=2.0)


def serve(rsps: responses.RequestsMock, url: str, body: object, **kwargs: Any) -> Upstream:
    upstream = Upstream(body, **kwargs)
    rsps.add_callback(responses.GET, url, callback=upstream)
    return upstream


def run_threads(n: int, fn: Callable[[int], object]) -> list[object]:
    """Run ``fn(i)`` in ``n`` threads released together; results or exceptions, in order."""
    barrier = threading.Barrier(n)

    def call(i: int) -> object:
        barrier.wait()
        try:
            return fn(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


# -- StaticKeySet ------------------------------------------------------------------------------


def test_static_single_kidless_pem_matches_any_kid() -> None:
    ks = StaticKeySet.from_pem(RSA1.as_pem(private=False).decode())
    key = ks.get(None)
    assert isinstance(key, RSAKey)
    assert not key.is_private
    assert ks.get("whatever") is key
    assert key.kid is None


@pytest.mark.parametrize("key", [EC1, ED1], ids=["ec", "okp"])
def test_static_pem_ec_and_okp(key: ECKey | OKPKey) -> None:
    ks = StaticKeySet.from_pem(key.as_pem(private=False))
    found = ks.get(None)
    assert found is not None
    assert type(found) is type(key)


def test_static_pem_with_kid_is_exact() -> None:
    ks = StaticKeySet.from_pem(RSA1.as_pem(private=False), kid="k1")
    key = ks.get("k1")
    assert key is not None and key.kid == "k1"
    assert ks.get("K1") is None
    assert ks.get("k1 ") is None
    assert ks.get(None) is None


def test_static_jwks_exact_kid() -> None:
    ks = StaticKeySet.from_jwks(jwks(pub(RSA1, "a"), pub(EC1, "b")))
    a, b = ks.get("a"), ks.get("b")
    assert isinstance(a, RSAKey) and isinstance(b, ECKey)
    assert ks.get("A") is None
    assert ks.get("c") is None
    assert ks.get(None) is None
    assert len(ks.keys) == 2


def test_static_single_jwk_dict() -> None:
    ks = StaticKeySet.from_jwks(pub(ED1, "ed"))
    assert isinstance(ks.get("ed"), OKPKey)
    assert ks.get("other") is None


def test_static_single_kidless_jwk() -> None:
    ks = StaticKeySet.from_jwks(jwks(pub(RSA1, None)))
    assert ks.get("x") is not None
    assert ks.get(None) is ks.get("x")


def test_static_from_keyset() -> None:
    public = KeySet([RSAKey.import_key(pub(RSA1, "r1")), ECKey.import_key(pub(EC1, "e1"))])
    ks = StaticKeySet.from_keyset(public)
    assert isinstance(ks.get("r1"), RSAKey)
    assert isinstance(ks.get("e1"), ECKey)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: StaticKeySet.from_jwks({"kty": "oct", "k": "c2VjcmV0", "kid": "s"}), "symmetric"),
        (lambda: StaticKeySet.from_jwks(jwks(dict(RSA1.as_dict(private=True)))), "private"),
        (lambda: StaticKeySet.from_jwks(jwks(dict(EC1.as_dict(private=True)))), "private"),
        (lambda: StaticKeySet.from_pem(RSA1.as_pem(private=True)), "private"),
        (lambda: StaticKeySet([RSA1]), "private"),
        (lambda: StaticKeySet([OctKey.generate_key(256)]), "RSA, EC and OKP"),
        (lambda: StaticKeySet.from_keyset(KeySet([RSA1])), "private"),
        (lambda: StaticKeySet.from_jwks(jwks(pub(RSA1, "a") | {"use": "enc"})), "use"),
        (lambda: StaticKeySet.from_jwks(jwks(pub(RSA1, "a"), pub(RSA2, "a"))), "duplicate"),
        (lambda: StaticKeySet.from_jwks(jwks()), "empty"),
        (lambda: StaticKeySet.from_jwks({"keys": "nope"}), "list"),
        (lambda: StaticKeySet.from_jwks(jwks({"kty": "RSA", "n": "x", "e": "AQAB"})), "RSA"),
        (lambda: StaticKeySet.from_jwks(jwks(pub(RSA1, None) | {"kid": 7})), "kid"),
        (lambda: StaticKeySet.from_pem("not a pem"), "PEM"),
        (
            lambda: StaticKeySet.from_jwks(pub(OKPKey.generate_key("X25519"), "x")),
            "cannot verify",
        ),
    ],
)
def test_static_refuses(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


# -- check_url ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://idp.example.com/jwks",
        "http://127.0.0.1:8080/jwks",
        "http://[::1]/jwks",
        "http://localhost:5000/.well-known/jwks.json",
        "HTTPS://IDP.example.com",
    ],
)
def test_check_url_accepts(url: str) -> None:
    check_url(url, allow_insecure_http=False, what="IDGUARD_JWKS_URL")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://idp.example.com/jwks", "non-loopback"),
        ("http://10.0.0.1/jwks", "non-loopback"),
        ("http://localhost.evil.com/jwks", "non-loopback"),
        ("ftp://idp.example.com/jwks", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("idp.example.com/jwks", "scheme"),
        ("https://user:s3cret@idp.example.com/jwks", "user information"),
        ("https:///jwks", "no host"),
        ("https://idp.example.com:99999/", "not a valid URL"),
    ],
)
def test_check_url_refuses(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        check_url(url, allow_insecure_http=False, what="IDGUARD_JWKS_URL")
    assert "IDGUARD_JWKS_URL" in str(info.value)
    assert "s3cret" not in str(info.value)


def test_check_url_insecure_allowed() -> None:
    check_url("http://idp.internal/jwks", allow_insecure_http=True, what="x")
    with pytest.raises(ValueError):
        check_url("https://u@idp.internal/jwks", allow_insecure_http=True, what="x")


# -- HttpClient --------------------------------------------------------------------------------


def test_get_json_ok(rsps: responses.RequestsMock, http: HttpClient) -> None:
    rsps.get(JWKS_URL, json={"keys": []}, headers={"Cache-Control": "max-age=60"})
    data, headers = http.get_json(JWKS_URL)
    assert data == {"keys": []}
    assert headers["cache-control"] == "max-age=60"
    request = rsps.calls[0].request
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == "flask-idguard"
    assert request.req_kwargs["timeout"] == 2.0  # type: ignore[attr-defined]


def test_get_json_status_error_hides_query(rsps: responses.RequestsMock, http: HttpClient) -> None:
    url = "https://idp.example.com/jwks?token=s3cret"
    rsps.get(url, status=404)
    with pytest.raises(FetchError) as info:
        http.get_json(url)
    assert info.value.status == 404
    assert "https://idp.example.com/jwks" in str(info.value)
    assert "404" in str(info.value)
    assert "s3cret" not in str(info.value)


def test_get_json_retries_503(rsps: responses.RequestsMock, http: HttpClient) -> None:
    upstream = serve(rsps, JWKS_URL, {"x": 1}, status=503)
    with pytest.raises(FetchError, match="503"):
        http.get_json(JWKS_URL)
    assert upstream.calls == 3  # one try + two retries


def test_get_json_connection_error(rsps: responses.RequestsMock, http: HttpClient) -> None:
    url = "https://idp.example.com/jwks?api_key=s3cret"
    rsps.get(url, body=requests.ConnectionError(f"boom {url}"))
    with pytest.raises(FetchError) as info:
        http.get_json(url)
    assert "ConnectionError" in str(info.value)
    assert "s3cret" not in str(info.value)


def test_get_json_timeout(rsps: responses.RequestsMock, http: HttpClient) -> None:
    rsps.get(JWKS_URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(FetchError, match="timed out"):
        http.get_json(JWKS_URL)


@pytest.mark.parametrize(
    "body",
    [b"<html>nope</html>", b"", b'{"a": NaN}', b"\xff\xfe\xfa", b"[" * 100_000 + b"]" * 100_000],
    ids=["html", "empty", "nan", "binary", "deep"],
)
def test_get_json_not_json(rsps: responses.RequestsMock, http: HttpClient, body: bytes) -> None:
    rsps.get(JWKS_URL, body=body)
    with pytest.raises(FetchError, match="valid JSON"):
        http.get_json(JWKS_URL)


def test_get_json_oversized(rsps: responses.RequestsMock, http: HttpClient) -> None:
    rsps.get(JWKS_URL, body=b" " * MAX_BODY_BYTES + b"{}")
    with pytest.raises(FetchError, match="larger than"):
        http.get_json(JWKS_URL)


def test_get_json_at_limit(rsps: responses.RequestsMock, http: HttpClient) -> None:
    rsps.get(JWKS_URL, body=b" " * (MAX_BODY_BYTES - 2) + b"{}")
    assert http.get_json(JWKS_URL)[0] == {}


# -- RemoteJWKS --------------------------------------------------------------------------------


def remote(http: HttpClient, **kwargs: Any) -> RemoteJWKS:
    return RemoteJWKS(JWKS_URL, http=http, **kwargs)


def test_remote_is_lazy_and_cached(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1"), pub(EC1, "k2")))
    source = remote(http)
    assert upstream.calls == 0
    k1 = source.get("k1")
    assert isinstance(k1, RSAKey) and k1.kid == "k1"
    for _ in range(100):
        assert source.get("k1") is k1
        assert isinstance(source.get("k2"), ECKey)
    assert upstream.calls == 1
    assert source.fetch_count == 1
    clock.shift(299)
    assert source.get("k1") is k1
    assert upstream.calls == 1


def test_remote_cold_concurrent_single_fetch(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    upstream.delay = 0.05
    source = remote(http)
    results = run_threads(50, lambda i: source.get("k1"))
    assert upstream.calls == 1
    assert source.fetch_count == 1
    assert all(isinstance(r, RSAKey) for r in results)
    assert len({id(r) for r in results}) == 1


def test_remote_cold_outage(
    rsps: responses.RequestsMock,
    http: HttpClient,
    clock: time_machine.Traveller,
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream = serve(rsps, JWKS_URL, "down", status=500)
    upstream.delay = 0.05
    source = remote(http)
    results = run_threads(50, lambda i: source.get("k1"))
    assert upstream.calls == 1
    assert all(isinstance(r, KeysUnavailable) for r in results)
    message = str(results[0])
    assert JWKS_URL in message and "500" in message
    assert "flask_idguard" in {r.name for r in caplog.records}
    # a failure is not cached as a set, but cold retries are limited to one per second
    with pytest.raises(KeysUnavailable):
        source.get("k1")
    assert upstream.calls == 1
    clock.shift(1.5)
    upstream.status, upstream.body = 200, jwks(pub(RSA1, "k1"))
    assert source.get("k1") is not None
    assert upstream.calls == 2
    assert source.fetch_count == 2


def test_remote_unknown_kid_flood(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = remote(http, cooldown=30, ttl=300)
    assert source.get("k1") is not None
    # the first unknown kid after the routine fetch refetches at once, then the cooldown holds
    assert all(source.get(f"unknown-{i}") is None for i in range(1000))
    assert upstream.calls == 2
    clock.shift(31)
    assert all(source.get(f"unknown-{i}") is None for i in range(1000))
    assert upstream.calls == 3
    clock.shift(29)
    assert all(source.get(f"other-{i}") is None for i in range(1000))
    assert upstream.calls == 3
    clock.shift(2)
    assert all(source.get(f"other-{i}") is None for i in range(1000))
    assert upstream.calls == 4
    assert source.get("k1") is not None  # known kids are served throughout
    assert upstream.calls == 4


def test_remote_cold_fetch_is_not_repeated_for_an_unknown_kid(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = remote(http)
    assert source.get("forged") is None  # the set was fetched for this very call
    assert upstream.calls == 1
    assert source.get("forged-2") is None  # a later call may refetch, once per cooldown
    assert source.get("forged-3") is None
    assert upstream.calls == 2


def test_remote_unknown_kid_flood_concurrent(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = remote(http)
    assert source.get("k1") is not None
    clock.shift(31)
    upstream.delay = 0.05
    results = run_threads(50, lambda i: source.get(f"unknown-{i}"))
    assert results == [None] * 50
    assert upstream.calls == 2


def test_remote_rotation_picked_up(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = remote(http)
    assert source.get("k1") is not None
    upstream.body = jwks(pub(RSA1, "k1"), pub(RSA2, "k2"))
    clock.shift(31)
    k2 = source.get("k2")
    assert k2 is not None and k2.kid == "k2"
    assert upstream.calls == 2
    assert source.get("k1") is not None
    assert upstream.calls == 2


def test_key_rotation_within_the_cooldown_of_a_routine_fetch_is_accepted(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    """Issue 12: a key published seconds after a routine fetch (cold start, or a refresh past
    the TTL) verifies at once; the cooldown only spaces refetches for unknown kids."""
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = remote(http, ttl=300, cooldown=30)
    assert source.get("k1") is not None  # the routine (cold) fetch
    upstream.body = jwks(pub(RSA1, "k1"), pub(RSA2, "k2"))
    clock.shift(1)
    k2 = source.get("k2")
    assert k2 is not None and k2.kid == "k2"
    assert upstream.calls == 2
    # a routine refresh past the TTL, then a third key published right after it
    clock.shift(300)
    assert source.get("k1") is not None
    assert upstream.calls == 3
    k3 = ECKey.generate_key("P-256", private=True)
    upstream.body = jwks(pub(RSA1, "k1"), pub(RSA2, "k2"), pub(k3, "k3"))
    clock.shift(1)
    assert source.get("k3") is not None
    assert upstream.calls == 4
    # a flood right after is held by the cooldown of that refetch
    assert all(source.get(f"forged-{i}") is None for i in range(100))
    assert upstream.calls == 4


def test_remote_concurrent_rotation(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = remote(http)
    assert source.get("k1") is not None
    upstream.body = jwks(pub(RSA1, "k1"), pub(RSA2, "k2"))
    upstream.delay = 0.05
    clock.shift(31)
    results = run_threads(20, lambda i: source.get("k2"))
    assert upstream.calls == 2
    # threads that waited on the refetch see the new key; none triggered a second fetch
    assert any(isinstance(r, RSAKey) for r in results)
    assert source.get("k2") is not None


def test_remote_removed_key_gone_after_ttl(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1"), pub(RSA2, "k2")))
    source = remote(http, ttl=300)
    assert source.get("k2") is not None
    upstream.body = jwks(pub(RSA1, "k1"))
    clock.shift(299)
    assert source.get("k2") is not None
    assert upstream.calls == 1
    clock.shift(2)
    assert source.get("k2") is None
    assert upstream.calls == 2
    assert source.get("k1") is not None


def test_remote_unchanged_set_not_reimported(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = remote(http)
    first = source.get("k1")
    clock.shift(301)
    assert source.get("k1") is first
    assert upstream.calls == 2


def test_remote_stale_if_error(
    rsps: responses.RequestsMock,
    http: HttpClient,
    clock: time_machine.Traveller,
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = remote(http, ttl=300, max_stale=3600, cooldown=30)
    k1 = source.get("k1")
    upstream.status = 500
    clock.shift(301)
    with caplog.at_level(logging.WARNING, logger="flask_idguard"):
        assert source.get("k1") is k1
    assert upstream.calls == 2
    assert any("serving the last good key set" in r.getMessage() for r in caplog.records)
    # refresh attempts while stale are spaced out
    assert source.get("k1") is k1
    assert upstream.calls == 2
    clock.shift(6)
    assert source.get("k1") is k1
    assert upstream.calls == 3
    clock.move_to(START + 300 + 3600 - 1)
    assert source.get("k1") is k1
    clock.move_to(START + 300 + 3600 + 1)
    with pytest.raises(KeysUnavailable, match="500"):
        source.get("k1")
    # recovery
    clock.shift(2)
    upstream.status = 200
    assert source.get("k1") is not None


def test_remote_stale_unknown_kid_is_none(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = remote(http)
    assert source.get("k1") is not None
    upstream.status = 500
    clock.shift(301)
    assert source.get("nope") is None
    assert upstream.calls == 2


@pytest.mark.parametrize(
    ("cache_control", "fresh_for"),
    [
        ("public, max-age=60", 60),
        ("max-age=100000, must-revalidate", 300),
        ('max-age="120"', 120),
        ("max-age=abc", 300),
        ("max-age=-5", 300),
        ("no-cache", 30),  # floored at the cooldown
        ("no-store, max-age=600", 30),
        ("max-age=0", 30),
        ("max-age=10", 30),
    ],
)
def test_remote_cache_control(
    rsps: responses.RequestsMock,
    http: HttpClient,
    clock: time_machine.Traveller,
    cache_control: str,
    fresh_for: int,
) -> None:
    upstream = serve(
        rsps, JWKS_URL, jwks(pub(RSA1, "k1")), headers={"Cache-Control": cache_control}
    )
    source = remote(http, ttl=300, cooldown=30)
    assert source.get("k1") is not None
    clock.shift(fresh_for - 0.5)
    assert source.get("k1") is not None
    assert upstream.calls == 1
    clock.shift(1)
    assert source.get("k1") is not None
    assert upstream.calls == 2


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        {"keys": "not-a-list"},
        {"nokeys": []},
        [pub(RSA1, "k1")],
        jwks(),
        jwks({"kty": "oct", "k": "c2VjcmV0", "kid": "k1"}),
        jwks(dict(RSA1.as_dict(private=True)) | {"kid": "k1"}),
        jwks(pub(RSA1, "k1") | {"use": "enc"}),
        b" " * (MAX_BODY_BYTES + 1),
    ],
    ids=["not-json", "keys-str", "no-keys", "array", "empty", "oct", "private", "enc", "big"],
)
def test_remote_bad_jwks_is_failure(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller, body: object
) -> None:
    upstream = serve(rsps, JWKS_URL, body)
    source = remote(http)
    with pytest.raises(KeysUnavailable, match="idp.example.com"):
        source.get("k1")
    assert upstream.calls == 1
    assert source.fetch_count == 1


def test_remote_filters_entries(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    first = pub(RSA1, "dup")
    body = jwks(
        "not-an-object",
        {"kty": "oct", "k": "c2VjcmV0", "kid": "oct"},
        dict(RSA2.as_dict(private=True)) | {"kid": "private"},
        pub(RSA2, "enc") | {"use": "enc"},
        pub(RSA2, "wrap") | {"key_ops": ["wrapKey"]},
        pub(RSA2, None) | {"kid": 42},
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
        {"kty": "PQ", "kid": "future"},
        first,
        pub(RSA2, "dup"),
        pub(EC1, "ec") | {"use": "sig"},
        pub(ED1, "ed") | {"key_ops": ["verify"]},
    )
    serve(rsps, JWKS_URL, body)
    source = remote(http)
    for kid in ("oct", "private", "enc", "wrap", "broken", "future", "42"):
        assert source.get(kid) is None, kid
    dup = source.get("dup")
    assert dup is not None and dup.as_dict() == first
    assert isinstance(source.get("ec"), ECKey)
    assert isinstance(source.get("ed"), OKPKey)
    assert source.get(None) is None


def test_remote_shared_cache_single_fetch(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    cache = SimpleCache()
    a = remote(http, cache=cache)
    b = remote(http, cache=cache)
    assert a.get("k1") is not None
    assert b.get("k1") is not None
    assert upstream.calls == 1
    assert (a.fetch_count, b.fetch_count) == (1, 0)
    # after the TTL, one worker refreshes and the other picks its result up
    clock.shift(301)
    assert a.get("k1") is not None
    assert b.get("k1") is not None
    assert upstream.calls == 2
    # a third worker arriving later still shares it
    clock.shift(100)
    c = remote(http, cache=cache)
    assert c.get("k1") is not None
    assert upstream.calls == 2


def test_remote_shared_cache_rotation(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    cache = SimpleCache()
    a = remote(http, cache=cache)
    b = remote(http, cache=cache)
    assert a.get("k1") is not None and b.get("k1") is not None
    upstream.body = jwks(pub(RSA1, "k1"), pub(RSA2, "k2"))
    clock.shift(31)
    assert a.get("k2") is not None
    assert upstream.calls == 2
    assert b.get("k2") is not None  # from the newer shared entry
    assert upstream.calls == 2


def test_remote_stale_shared_entry_ignored(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    cache = SimpleCache()
    assert remote(http, cache=cache).get("k1") is not None
    clock.shift(301)
    assert remote(http, cache=cache).get("k1") is not None
    assert upstream.calls == 2


class BrokenCache(SimpleCache):
    def get(self, key: str) -> Any:
        raise ConnectionError("redis down")

    def set(self, key: str, value: Any, timeout: int | timedelta | None = None) -> bool:
        raise ConnectionError("redis down")


def test_remote_broken_shared_cache(
    rsps: responses.RequestsMock,
    http: HttpClient,
    clock: time_machine.Traveller,
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = remote(http, cache=BrokenCache())
    assert source.get("k1") is not None
    assert upstream.calls == 1
    assert any("shared cache" in r.getMessage() for r in caplog.records)


def test_remote_rejects_negative_settings(http: HttpClient) -> None:
    with pytest.raises(ValueError):
        remote(http, ttl=-1)


# -- DiscoveredJWKS ----------------------------------------------------------------------------


def metadata(issuer: str = ISSUER, jwks_uri: str = JWKS_URL) -> dict[str, Any]:
    return {"issuer": issuer, "jwks_uri": jwks_uri, "token_endpoint": ISSUER + "oauth/token"}


def test_discovery_happy_path(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    disco = serve(rsps, DISCOVERY_URL, metadata())
    keys = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = DiscoveredJWKS(ISSUER, http=http)
    assert source.metadata is None
    assert disco.calls == 0
    assert isinstance(source.get("k1"), RSAKey)
    for _ in range(10):
        assert source.get("k1") is not None
    assert (disco.calls, keys.calls) == (1, 1)
    assert source.get("nope") is None  # one refetch for the unknown kid, not a discovery
    assert (disco.calls, keys.calls) == (1, 2)
    assert source.metadata is not None and source.metadata["issuer"] == ISSUER
    # metadata refreshed after the TTL
    clock.shift(301)
    assert source.get("k1") is not None
    assert (disco.calls, keys.calls) == (2, 3)


def test_discovery_issuer_mismatch(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    serve(rsps, DISCOVERY_URL, metadata(issuer="https://idp.example.com"))
    keys = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = DiscoveredJWKS(ISSUER, http=http)
    with pytest.raises(KeysUnavailable) as info:
        source.get("k1")
    assert "'https://idp.example.com'" in str(info.value)
    assert f"'{ISSUER}'" in str(info.value)
    assert keys.calls == 0
    assert source.metadata is None


@pytest.mark.parametrize(
    "meta",
    [
        metadata(jwks_uri="http://idp.example.com/jwks"),
        metadata(jwks_uri="ftp://idp.example.com/jwks"),
        {"issuer": ISSUER},
        {"issuer": ISSUER, "jwks_uri": ["https://idp.example.com/jwks"]},
        [metadata()],
    ],
    ids=["http", "ftp", "missing", "list", "array"],
)
def test_discovery_bad_jwks_uri(
    rsps: responses.RequestsMock,
    http: HttpClient,
    clock: time_machine.Traveller,
    meta: object,
) -> None:
    serve(rsps, DISCOVERY_URL, meta)
    source = DiscoveredJWKS(ISSUER, http=http)
    with pytest.raises(KeysUnavailable):
        source.get("k1")


def test_discovery_insecure_http_allowed(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    serve(rsps, DISCOVERY_URL, metadata(jwks_uri="http://idp.example.com/jwks"))
    serve(rsps, "http://idp.example.com/jwks", jwks(pub(RSA1, "k1")))
    source = DiscoveredJWKS(ISSUER, http=http, allow_insecure_http=True)
    assert source.get("k1") is not None


def test_discovery_loopback_http(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    issuer = "http://127.0.0.1:5001"
    serve(rsps, issuer + "/.well-known/openid-configuration", metadata(issuer, issuer + "/jwks"))
    serve(rsps, issuer + "/jwks", jwks(pub(EC1, "e")))
    assert DiscoveredJWKS(issuer, http=http).get("e") is not None


def test_discovery_rfc8414_fallback(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    issuer = "https://idp.example.com/tenant1"
    oidc = serve(rsps, issuer + "/.well-known/openid-configuration", "missing", status=404)
    oauth = serve(
        rsps,
        "https://idp.example.com/.well-known/oauth-authorization-server/tenant1",
        metadata(issuer),
    )
    serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = DiscoveredJWKS(issuer, http=http)
    assert source.get("k1") is not None
    assert (oidc.calls, oauth.calls) == (1, 1)


def test_discovery_failure_not_cached(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    disco = serve(rsps, DISCOVERY_URL, "oops", status=500)
    serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = DiscoveredJWKS(ISSUER, http=http)
    with pytest.raises(KeysUnavailable, match="500"):
        source.get("k1")
    with pytest.raises(KeysUnavailable):
        source.get("k1")
    assert disco.calls == 1  # at most one retry per second
    clock.shift(1.5)
    disco.status, disco.body = 200, metadata()
    assert source.get("k1") is not None
    assert disco.calls == 2


def test_discovery_keeps_last_good_metadata(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    disco = serve(rsps, DISCOVERY_URL, metadata())
    keys = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    source = DiscoveredJWKS(ISSUER, http=http)
    assert source.get("k1") is not None
    disco.status = 503
    clock.shift(301)
    assert source.get("k1") is not None
    assert disco.calls == 1 + 3  # the 503 was retried by the HTTP client
    assert keys.calls == 2
    assert source.metadata is not None


def test_discovery_cold_concurrent(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    disco = serve(rsps, DISCOVERY_URL, metadata())
    keys = serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    disco.delay = keys.delay = 0.03
    source = DiscoveredJWKS(ISSUER, http=http)
    results = run_threads(30, lambda i: source.get("k1"))
    assert all(isinstance(r, RSAKey) for r in results)
    assert (disco.calls, keys.calls) == (1, 1)


def test_discovery_jwks_uri_change(
    rsps: responses.RequestsMock, http: HttpClient, clock: time_machine.Traveller
) -> None:
    disco = serve(rsps, DISCOVERY_URL, metadata())
    serve(rsps, JWKS_URL, jwks(pub(RSA1, "k1")))
    serve(rsps, "https://idp.example.com/keys2", jwks(pub(RSA2, "k2")))
    source = DiscoveredJWKS(ISSUER, http=http)
    assert source.get("k1") is not None
    disco.body = metadata(jwks_uri="https://idp.example.com/keys2")
    clock.shift(301)
    assert source.get("k2") is not None
    assert source.get("k1") is None
    assert source.jwks is not None and source.jwks.url.endswith("/keys2")
