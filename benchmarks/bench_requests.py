"""Request-level benchmark: flask-idguard against a bare Flask view and two peers.

Everything runs in ONE process, single-threaded, through the Flask test client, so the
ratios printed at the end are comparable even on a noisy machine (the absolute numbers
are not). See ``benchmarks/README.rst`` for what each row measures.

Method: every cell (one row) is calibrated once to take about ``--target`` seconds; then
the cells run round-robin, ``--rounds`` times, the order rotated by one each round; the
table reports the median requests per second with the min-max over the rounds. A target's
ratio is the median over rounds of the two cells' ratio within each round.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_requests.py            # 7 rounds, 0.3 s per cell
    PYTHONPATH=. python benchmarks/bench_requests.py --quick    # smoke run, well under 30 s
    PYTHONPATH=. python benchmarks/bench_requests.py --json out.json --profile 20000
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import platform
import pstats
import ssl
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from functools import wraps
from importlib.metadata import version
from typing import Any
from typing import TypeVar

import jwt as pyjwt
import responses
from bench_fixtures import median_ratio
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask
from flask import g
from flask import jsonify
from flask import request
from flask.testing import FlaskClient

from flask_idguard import IdGuard
from flask_idguard import requires_auth
from flask_idguard.core.cache import VerifiedCache
from flask_idguard.providers.token import TokenProvider
from flask_idguard.testing import TestIssuer

F = TypeVar("F", bound=Callable[..., Any])
Headers = Mapping[str, str]

#: Capacity of flask-idguard's verified-token cache (``core.cache.VerifiedCache``).
VERIFIED_CACHE_SIZE = 4096
#: Distinct fresh tokens minted before timing. The fresh-token rows cycle through them; a
#: cycle longer than the cache capacity means a token comes back only after more than
#: 4096 other tokens were verified and inserted, so the FIFO cache has evicted it: every
#: fresh-token request is a real verification. (Minting ~0.25 ms each: ~1.3 s.)
FRESH_POOL = 5000
#: Simulated round-trip time of the identity provider in the cold-start scenarios, so
#: concurrent requests really overlap the fetch.
IDP_LATENCY = 0.05
COLD_THREADS = 50
#: ``--quick`` fails when the whole run takes longer than this.
QUICK_BUDGET = 30.0
FLOOD_REQUESTS = 1000
FLOOD_THREADS = 20

BARE = "Bare view, Flask app without IdGuard"
BARE_HEADER = "Bare view, Flask app without IdGuard, same header (ignored)"
BARE_IDGUARD = "Bare view, IdGuard app, no Authorization header"
REPEATED = "IdGuard @requires_auth, repeated token"
FRESH = "IdGuard @requires_auth, fresh token"
PYJWT = "Hand-rolled PyJWT decorator, fresh token"
AUTHLIB = "Authlib ResourceProtector (RFC 9068), fresh token"
BARE_COOKIE = "Bare view, Flask app without IdGuard, same Clerk cookies (ignored)"
CLERK = "IdGuard Clerk provider @requires_auth, repeated session cookie"
CLERK_FRESH = "IdGuard Clerk provider @requires_auth, fresh session token"
CLERK_SDK = "clerk-backend-api authenticate_request, fresh session token"
ROWS = (
    BARE, BARE_HEADER, BARE_IDGUARD, REPEATED, FRESH, PYJWT, AUTHLIB, BARE_COOKIE, CLERK,
    CLERK_FRESH, CLERK_SDK,
)  # fmt: skip
#: Clerk's test-suite publishable key (production instance, no handshake for valid cookies).
CLERK_PK = "pk_live_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA"
CLERK_FAPI = "clerk.inspired.puma-74.lcl.dev"

PACKAGES = (
    "Flask", "Werkzeug", "PyJWT", "Authlib", "joserfc", "cryptography", "responses",
    "clerk-backend-api",
)  # fmt: skip


class BenchError(RuntimeError):
    """A request did not get the expected answer: the numbers would be meaningless."""


# -- tokens ------------------------------------------------------------------------------------


def make_claims(issuer: TestIssuer, n: int) -> dict[str, object]:
    """Twelve claims shaped like an Auth0 access token; ``jti`` makes the token distinct.

    ``client_id``/``jti``/``iat``/``sub`` and the ``at+jwt`` header (see :func:`mint`) are what
    Authlib's RFC 9068 validator requires; the same tokens serve every row.
    """
    now = int(time.time())
    return {
        "iss": issuer.issuer,
        "sub": "user_2abcDEFghiJKLmnoPQRstuVWxyz",
        "aud": issuer.audience,
        "azp": "https://app.example.com",
        "client_id": "client_abc123",
        "exp": now + 3600,
        "iat": now,
        "nbf": now - 5,
        "jti": f"jti-{n:08d}",
        "sid": "sess_2abcDEF",
        "scope": "read:users write:users",
        "permissions": ["read:users", "write:users"],
    }


def mint(issuer: TestIssuer, n: int, *, kid: str | None = None) -> str:
    header: dict[str, object] = {"typ": "at+jwt"}
    if kid is not None:
        header["kid"] = kid  # the default key still signs: an unknown kid for the verifier
    return issuer.token(make_claims(issuer, n), header=header, expires_in=3600)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def tampered(token: str) -> str:
    head, payload, sig = token.split(".")
    return f"{head}.{payload}.{sig[:10]}{'A' if sig[10] != 'A' else 'B'}{sig[11:]}"


# -- apps --------------------------------------------------------------------------------------


def idguard_app(issuer: TestIssuer, *, static_keys: bool) -> Flask:
    """``/bare`` (unprotected) and ``/protected``; keys static (networkless) or discovered."""
    app = Flask("bench-idguard")
    app.config["IDGUARD_ISSUER"] = issuer.issuer
    app.config["IDGUARD_AUDIENCE"] = issuer.audience
    if static_keys:
        app.config["IDGUARD_PUBLIC_KEYS"] = issuer.jwks()
    IdGuard(app)

    @app.get("/bare")
    def bare() -> Any:
        return {"ok": True}

    @app.get("/protected")
    @requires_auth
    def protected() -> Any:
        return {"ok": True}

    return app


def clerk_app(issuer: TestIssuer) -> Flask:
    """``/clerk``: a Clerk-protected view, keys from ``CLERK_JWT_KEY`` (networkless)."""
    app = Flask("bench-clerk")
    app.config.update(
        CLERK_PUBLISHABLE_KEY=CLERK_PK,
        CLERK_SECRET_KEY="sk_live_bench",
        CLERK_JWT_KEY=issuer.public_pem(),
        CLERK_AUTHORIZED_PARTIES=["https://example.com"],
    )
    IdGuard(app)

    @app.get("/clerk")
    @requires_auth
    def protected() -> Any:
        return {"ok": True}

    return app


def clerk_session_token(issuer: TestIssuer, n: int) -> str:
    """A Clerk session token (valid for an hour), distinct for each ``n``."""
    now = int(time.time())
    claims = {"iss": f"https://{CLERK_FAPI}", "sub": f"user_{n}", "sid": f"sess_{n}", "iat": now,
              "azp": "https://example.com", "nbf": now - 10, "exp": now + 3600}  # fmt: skip
    return issuer.token(claims, expires_in=3600, omit=("aud",))  # Clerk's have no aud


def clerk_sdk_app(issuer: TestIssuer) -> Flask:
    """``/clerk-sdk``: Clerk's Python SDK (``clerk-backend-api``) deciding each request with
    ``authenticate_request``, networkless (``jwt_key``), as its docs show for a backend."""
    from clerk_backend_api.security import authenticate_request
    from clerk_backend_api.security.types import AuthenticateRequestOptions

    options = AuthenticateRequestOptions(
        jwt_key=issuer.public_pem(), authorized_parties=["https://example.com"]
    )
    app = Flask("bench-clerk-sdk")

    @app.get("/clerk-sdk")
    def protected() -> Any:
        state = authenticate_request(request, options)  # type: ignore[arg-type]  # .headers.get() is all it reads
        if not state.is_signed_in:
            return {"error": state.reason and state.reason.name}, 401
        return {"ok": True}

    return app


def clerk_cookies(issuer: TestIssuer) -> dict[str, str]:
    """A browser's document navigation with a valid Clerk session (valid for an hour), from
    another page of the same site."""
    now = int(time.time())
    token = clerk_session_token(issuer, 1)
    return {
        "Host": "example.com",
        "Sec-Fetch-Dest": "document",
        "Referer": "http://example.com/",
        "Cookie": f"__client_uat={now - 60}; __session={token}",
    }


def pyjwt_required(public_key: RSAPublicKey, audience: str, issuer: str) -> Callable[[F], F]:
    """The decorator people write by hand: read the header, ``jwt.decode``, 401 on failure."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token:
                return jsonify(error="missing"), 401
            try:
                g.claims = pyjwt.decode(
                    token,
                    key=public_key,
                    algorithms=["RS256"],
                    audience=audience,
                    issuer=issuer,
                    leeway=5,
                )
            except pyjwt.InvalidTokenError:
                return jsonify(error="invalid"), 401
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def authlib_protector(issuer: TestIssuer) -> Any:
    """Authlib's ResourceProtector with the RFC 9068 JWT validator over a pre-imported KeySet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from authlib.integrations.flask_oauth2 import ResourceProtector  # type: ignore[import-untyped]
        from authlib.oauth2.rfc9068 import JWTBearerTokenValidator  # type: ignore[import-untyped]
    if "authlib.jose" in sys.modules:
        raise BenchError("importing authlib.oauth2.rfc9068 imported authlib.jose")
    keyset = issuer.key_set()

    class Validator(JWTBearerTokenValidator):  # type: ignore[misc]
        def get_jwks(self) -> Any:
            return keyset  # imported once: no per-request JWKS parsing

    protector = ResourceProtector()
    protector.register_token_validator(
        Validator(issuer=issuer.issuer, resource_server=issuer.audience)
    )
    return protector


def peers_app(issuer: TestIssuer) -> Flask:
    """A Flask app without IdGuard: the bare view and the two peer decorators."""
    app = Flask("bench-peers")
    audience = issuer.audience
    assert isinstance(audience, str)
    public_key = load_pem_public_key(issuer.public_pem().encode())
    assert isinstance(public_key, RSAPublicKey)
    require_jwt = pyjwt_required(public_key, audience, issuer.issuer)
    require_oauth: Callable[[Callable[..., Any]], Callable[..., Any]] = authlib_protector(issuer)()

    @app.get("/bare")
    def bare() -> Any:
        return {"ok": True}

    @app.get("/pyjwt")
    @require_jwt
    def pyjwt_view() -> Any:
        return {"ok": True}

    @app.get("/authlib")
    @require_oauth
    def authlib_view() -> Any:
        return {"ok": True}

    return app


# -- cells -------------------------------------------------------------------------------------


class RequestLoop:
    """``loop(n)``: n GETs of ``path``, cycling through ``headers``; each must answer 200.

    Every row uses this same loop, with a one-element ``headers`` for the bare and
    repeated-token rows, so the loop's own cost is identical everywhere.
    """

    def __init__(self, client: FlaskClient, path: str, headers: Sequence[Headers]) -> None:
        self.client = client
        self.path = path
        self.headers = headers
        #: Index in ``headers`` of the next request's headers.
        self.position = 0

    def __call__(self, n: int) -> None:
        get = self.client.get
        path = self.path
        headers = self.headers
        size = len(headers)
        i = self.position
        for _ in range(n):
            response = get(path, headers=headers[i])
            if response.status_code != 200:
                raise BenchError(f"GET {path}: {response.status_code} {response.get_data()!r}")
            i += 1
            if i == size:
                i = 0
        self.position = i


@dataclass
class Cell:
    name: str
    run: RequestLoop
    n: int = 0


def expect(client: FlaskClient, path: str, headers: Headers, status: int) -> None:
    got = client.get(path, headers=headers).status_code
    if got != status:
        raise BenchError(f"GET {path}: expected {status}, got {got}")


def build_cells(issuer: TestIssuer, fresh: Sequence[Headers]) -> tuple[list[Cell], Flask]:
    guarded = idguard_app(issuer, static_keys=True)
    peers = peers_app(issuer)
    idguard_client = guarded.test_client()
    peers_client = peers.test_client()
    repeated = [bearer(mint(issuer, -1))]

    # Correctness first: every protected row rejects a forged signature and a missing token.
    bad = bearer(tampered(mint(issuer, -2)))
    for client, path in ((idguard_client, "/protected"), (peers_client, "/pyjwt")):
        expect(client, path, bad, 401)
        expect(client, path, {}, 401)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expect(peers_client, "/authlib", bad, 401)
        expect(peers_client, "/authlib", {}, 401)

    cells = [
        Cell(BARE, RequestLoop(peers_client, "/bare", [{}])),
        Cell(BARE_HEADER, RequestLoop(peers_client, "/bare", repeated)),
        Cell(BARE_IDGUARD, RequestLoop(idguard_client, "/bare", [{}])),
        Cell(REPEATED, RequestLoop(idguard_client, "/protected", repeated)),
        Cell(FRESH, RequestLoop(idguard_client, "/protected", fresh)),
        Cell(PYJWT, RequestLoop(peers_client, "/pyjwt", fresh)),
        Cell(AUTHLIB, RequestLoop(peers_client, "/authlib", fresh)),
    ]
    # Cookies go in the header as a browser sends them (the test client's jar would drop them).
    session = [clerk_cookies(issuer)]
    clerk_client = clerk_app(issuer).test_client(use_cookies=False)
    expect(clerk_client, "/clerk", {"Cookie": "__client_uat=0", "Accept": "application/json"}, 401)
    clerk_fresh = [bearer(clerk_session_token(issuer, n)) for n in range(FRESH_POOL)]
    sdk_client = clerk_sdk_app(issuer).test_client(use_cookies=False)
    bad_clerk = bearer(tampered(clerk_session_token(issuer, -1)))
    for client, path in ((clerk_client, "/clerk"), (sdk_client, "/clerk-sdk")):
        expect(client, path, bad_clerk, 401)
    cells += [
        Cell(BARE_COOKIE, RequestLoop(peers.test_client(use_cookies=False), "/bare", session)),
        Cell(CLERK, RequestLoop(clerk_client, "/clerk", session)),
        Cell(CLERK_FRESH, RequestLoop(clerk_client, "/clerk", clerk_fresh)),
        Cell(CLERK_SDK, RequestLoop(sdk_client, "/clerk-sdk", clerk_fresh)),
    ]
    for cell in cells:
        cell.run(1)
    return cells, guarded


def calibrate(run: Callable[[int], None], target: float) -> int:
    """The iteration count that makes ``run`` take about ``target`` seconds."""
    n = 1
    while True:
        start = time.perf_counter()
        run(n)
        elapsed = time.perf_counter() - start
        if elapsed >= target / 5:
            return max(1, round(n * target / elapsed))
        n *= 3


class GCClock:
    """Time spent in the cyclic garbage collector (``gc.callbacks``), added up until read."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: Mapping[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started

    def take(self) -> float:
        """The time added up since the last call."""
        total, self.total = self.total, 0.0
        return total


def measure(
    cells: list[Cell], rounds: int, target: float
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Requests per second of every cell, one sample per round, interleaved and rotated; and
    the microseconds per request the garbage collector took in each sample."""
    for cell in cells:
        cell.n = calibrate(cell.run, target)
    samples: dict[str, list[float]] = {cell.name: [] for cell in cells}
    collector: dict[str, list[float]] = {cell.name: [] for cell in cells}
    clock = GCClock()
    gc.callbacks.append(clock)
    try:
        for r in range(rounds):
            shift = r % len(cells)
            for cell in cells[shift:] + cells[:shift]:
                gc.collect()
                clock.take()
                start = time.perf_counter()
                cell.run(cell.n)
                samples[cell.name].append(cell.n / (time.perf_counter() - start))
                collector[cell.name].append(clock.take() / cell.n * 1e6)
    finally:
        gc.callbacks.remove(clock)
    return samples, collector


def fresh_tokens_never_cached(app: Flask, fresh: Sequence[Headers], position: int) -> bool:
    """Spot check: the next tokens the fresh rows would send are not in the verified cache."""
    providers = app.extensions["idguard"].providers
    provider = next(p for p in providers if isinstance(p, TokenProvider))
    cache = provider._cache
    now = time.time()
    for k in range(64):
        token = fresh[(position + k) % len(fresh)]["Authorization"].split(" ", 1)[1]
        if cache.get(token, now) is not None:
            return False
    return True


# -- cold start --------------------------------------------------------------------------------


def _slow(callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def answer(req: Any) -> Any:
        time.sleep(IDP_LATENCY)
        return callback(req)

    return answer


def _mock_with_latency(issuer: TestIssuer, rsps: responses.RequestsMock) -> None:
    issuer.mock(rsps)
    for registered in rsps.registered():
        if isinstance(registered, responses.CallbackResponse):
            registered.callback = _slow(registered.callback)


def _parallel(client_app: Flask, path: str, batches: Sequence[Sequence[Headers]]) -> list[int]:
    """One thread per batch, released together; the status codes of every request."""
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(batches))

    def worker(batch: Sequence[Headers]) -> None:
        client = client_app.test_client()
        barrier.wait()
        got = [client.get(path, headers=h).status_code for h in batch]
        with lock:
            statuses.extend(got)

    threads = [threading.Thread(target=worker, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def cold_start(issuer: TestIssuer, fresh: Sequence[Headers]) -> dict[str, Any]:
    """50 threads at once at an app that has fetched nothing yet; keys come by discovery."""
    app = idguard_app(issuer, static_keys=False)
    issuer.discovery_calls = issuer.jwks_calls = 0
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _mock_with_latency(issuer, rsps)
        statuses = _parallel(app, "/protected", [[fresh[i]] for i in range(COLD_THREADS)])
    return {
        "threads": COLD_THREADS,
        "idp_latency_s": IDP_LATENCY,
        "discovery_fetches": issuer.discovery_calls,
        "jwks_fetches": issuer.jwks_calls,
        "ok_200": statuses.count(200),
        "met": issuer.discovery_calls == 1
        and issuer.jwks_calls == 1
        and statuses.count(200) == COLD_THREADS,
    }


def unknown_kid_flood(issuer: TestIssuer, fresh: Sequence[Headers]) -> dict[str, Any]:
    """After one good request, 1000 tokens with distinct unknown kids, within the cooldown."""
    flood = [
        bearer(mint(issuer, 10_000 + i, kid=f"unknown-kid-{i}")) for i in range(FLOOD_REQUESTS)
    ]
    app = idguard_app(issuer, static_keys=False)
    cooldown = float(app.config.get("IDGUARD_JWKS_COOLDOWN") or 30)
    issuer.discovery_calls = issuer.jwks_calls = 0
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _mock_with_latency(issuer, rsps)
        expect(app.test_client(), "/protected", fresh[0], 200)
        first = (issuer.discovery_calls, issuer.jwks_calls)
        per = FLOOD_REQUESTS // FLOOD_THREADS
        batches = [flood[i * per : (i + 1) * per] for i in range(FLOOD_THREADS)]
        start = time.perf_counter()
        statuses = _parallel(app, "/protected", batches)
        elapsed = time.perf_counter() - start
        expect(app.test_client(), "/protected", fresh[1], 200)
    extra_jwks = issuer.jwks_calls - first[1]
    extra_discovery = issuer.discovery_calls - first[0]
    return {
        "requests": FLOOD_REQUESTS,
        "threads": FLOOD_THREADS,
        "seconds": elapsed,
        "cooldown_s": cooldown,
        "initial_fetches": {"discovery": first[0], "jwks": first[1]},
        "extra_jwks_fetches": extra_jwks,
        "extra_discovery_fetches": extra_discovery,
        "rejected_401": statuses.count(401),
        "met": extra_jwks <= 1
        and extra_discovery == 0
        and statuses.count(401) == FLOOD_REQUESTS
        and elapsed < cooldown,
    }


# -- report ------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def summarise(
    samples: Mapping[str, list[float]], collector: Mapping[str, list[float]]
) -> dict[str, dict[str, float]]:
    return {
        name: {
            "median_rps": statistics.median(s),
            "min_rps": min(s),
            "max_rps": max(s),
            "median_us": 1e6 / statistics.median(s),
            "gc_us": statistics.median(collector[name]),
        }
        for name, s in samples.items()
    }


def per_round(samples: Mapping[str, list[float]], row: str, base: str) -> float:
    """``row``'s time per request over ``base``'s (the samples are requests per second)."""
    return median_ratio(samples[base], samples[row])


def targets(samples: Mapping[str, list[float]]) -> list[dict[str, Any]]:
    def goal(target: str, row: str, base: str, limit: float) -> dict[str, Any]:
        ratio = per_round(samples, row, base)
        return {"target": f"{target} <= {limit:.2f}", "ratio": ratio, "met": ratio <= limit}

    return [
        goal("repeated token / bare view (Flask app without IdGuard)", REPEATED, BARE, 1.10),
        goal("repeated token / the same request to a bare view", REPEATED, BARE_HEADER, 1.04),
        goal("fresh token / the hand-rolled PyJWT decorator", FRESH, PYJWT, 0.88),
        goal(
            "Clerk session cookie, repeated / a bare view, same cookies", CLERK, BARE_COOKIE, 1.10
        ),
        goal("Clerk session token, fresh / clerk-backend-api", CLERK_FRESH, CLERK_SDK, 0.85),
        {
            "target": "fresh token: IdGuard faster than Authlib ResourceProtector",
            "ratio": per_round(samples, FRESH, AUTHLIB),
            "met": per_round(samples, FRESH, AUTHLIB) < 1,
        },
    ]


def print_report(
    args: argparse.Namespace,
    stats: Mapping[str, Mapping[str, float]],
    goals: list[dict[str, Any]],
    cold: Mapping[str, Any],
    flood: Mapping[str, Any],
    never_cached: bool,
) -> None:
    print(
        f"Python {platform.python_version()} on {platform.machine()}; "
        + ", ".join(f"{p} {version(p)}" for p in PACKAGES)
    )
    print(
        f"{ssl.OPENSSL_VERSION}; RS256 (RSA 2048); rounds={args.rounds}, ~{args.target} s per "
        f"cell, interleaved; fresh tokens cycle through {FRESH_POOL} > {VERIFIED_CACHE_SIZE}\n"
    )
    width = max(len(r) for r in ROWS)
    print(f"| {'row':<{width}} | median req/s |       min-max | us/request | x bare | GC us |")
    print(f"|{'-' * (width + 2)}|-------------:|--------------:|-----------:|-------:|------:|")
    base = stats[BARE]["median_us"]
    for name in ROWS:
        s = stats[name]
        spread = f"{s['min_rps']:,.0f}-{s['max_rps']:,.0f}"
        print(
            f"| {name:<{width}} | {s['median_rps']:>12,.0f} | {spread:>13} "
            f"| {s['median_us']:>10.1f} | {s['median_us'] / base:>6.2f} | {s['gc_us']:>5.2f} |"
        )
    print()
    repeated_vs_header = stats[REPEATED]["median_us"] / stats[BARE_HEADER]["median_us"]
    header_vs_bare = stats[BARE_HEADER]["median_us"] / base
    repeated_vs_hooks = stats[REPEATED]["median_us"] / stats[BARE_IDGUARD]["median_us"]
    hooks_vs_bare = stats[BARE_IDGUARD]["median_us"] / base
    verification = stats[FRESH]["median_us"] - stats[REPEATED]["median_us"]
    print("Ratios of time per request (median):")
    print(f"  bare with the token header / bare        = {header_vs_bare:.3f}  (test client cost)")
    print(f"  repeated / bare with the token header    = {repeated_vs_header:.3f}  (IdGuard)")
    print(f"  repeated / bare (IdGuard app, no header) = {repeated_vs_hooks:.3f}")
    print(f"  bare IdGuard app / bare Flask app        = {hooks_vs_bare:.3f}")
    print(f"  fresh - repeated (verification cost)     = {verification:.1f} us")
    clerk_vs_cookie = stats[CLERK]["median_us"] / stats[BARE_COOKIE]["median_us"]
    print(f"  Clerk session / bare with the same cookies = {clerk_vs_cookie:.3f}")
    print()
    print("Targets (design.md section 8; each ratio the median of the per-round ratios):")
    for goal in goals:
        print(f"  [{verdict(goal['met'])}] {goal['target']}: ratio {goal['ratio']:.3f}")
    print(
        f"  [{verdict(cold['met'])}] cold start, {cold['threads']} concurrent requests: "
        f"{cold['discovery_fetches']} discovery fetch(es), {cold['jwks_fetches']} JWKS fetch(es) "
        f"(expect 1 and 1); {cold['ok_200']}/{cold['threads']} answered 200 "
        f"(IdP latency {cold['idp_latency_s'] * 1000:.0f} ms)"
    )
    print(
        f"  [{verdict(flood['met'])}] unknown-kid flood, {flood['requests']} distinct kids in "
        f"{flood['seconds']:.2f} s (cooldown {flood['cooldown_s']:.0f} s, {flood['threads']} "
        f"threads): {flood['extra_jwks_fetches']} JWKS fetch(es) beyond the first, "
        f"{flood['extra_discovery_fetches']} extra discovery fetch(es) (expect <= 1, 0); "
        f"{flood['rejected_401']}/{flood['requests']} answered 401"
    )
    print(
        f"  [{'ok' if never_cached else 'FAILED'}] spot check: fresh tokens were not in the "
        "verified-token cache when sent"
    )


def profile_repeated(issuer: TestIssuer, requests_count: int) -> None:
    """cProfile the repeated-token row; the top 15 cumulative entries under flask_idguard."""
    app = idguard_app(issuer, static_keys=True)
    run = RequestLoop(app.test_client(), "/protected", [bearer(mint(issuer, -3))])
    run(100)
    profiler = cProfile.Profile()
    profiler.enable()
    run(requests_count)
    profiler.disable()
    for title, restriction in (("under flask_idguard", "flask_idguard"), ("overall", "")):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        if restriction:
            stats.print_stats(restriction, 15)
        else:
            stats.print_stats(15)
        print(f"\ncProfile, repeated token, {requests_count} requests, top 15 cumulative {title}:")
        print(out.getvalue().split("\n", 4)[-1].rstrip())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument(
        "--target", type=float, default=0.3, help="seconds per cell per round (default 0.3)"
    )
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument("--quick", action="store_true", help="smoke run: --rounds 2 --target 0.05")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        default=0,
        help="also cProfile N repeated-token requests and print where the time goes",
    )
    parser.add_argument(
        "--no-verified-cache",
        action="store_true",
        help="diagnostic: IdGuard keeps no verified token or Clerk decision (VerifiedCache.put "
        "does nothing), to show what keeping them costs the fresh-token rows",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.target = 2, 0.05
    if args.rounds < 1 or args.target <= 0:
        parser.error("--rounds must be >= 1 and --target > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = parse_args(argv)
    if args.no_verified_cache:
        VerifiedCache.put = lambda self, *args, **kwargs: None  # type: ignore[method-assign]
        print("--no-verified-cache: nothing is kept; the repeated rows verify every request\n")
    issuer = TestIssuer(alg="RS256")
    fresh = [bearer(mint(issuer, i)) for i in range(FRESH_POOL)]
    cells, guarded = build_cells(issuer, fresh)
    samples, collector = measure(cells, args.rounds, args.target)
    fresh_cell = next(c for c in cells if c.name == FRESH)
    never_cached = fresh_tokens_never_cached(guarded, fresh, fresh_cell.run.position)
    cold = cold_start(issuer, fresh)
    flood = unknown_kid_flood(issuer, fresh)
    stats = summarise(samples, collector)
    goals = targets(samples)
    print_report(args, stats, goals, cold, flood, never_cached)
    if args.json:
        result = {
            "python": platform.python_version(),
            "versions": {p: version(p) for p in PACKAGES},
            "rounds": args.rounds,
            "target_s": args.target,
            "fresh_pool": FRESH_POOL,
            "iterations": {c.name: c.n for c in cells},
            "samples_rps": samples,
            "samples_gc_us": collector,
            "stats": stats,
            "targets": goals,
            "cold_start": cold,
            "unknown_kid_flood": flood,
            "fresh_never_cached": never_cached,
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
    if args.profile:
        profile_repeated(issuer, args.profile)
    ok = never_cached and cold["met"] and flood["met"]
    if args.quick:
        elapsed = time.perf_counter() - started
        within = elapsed < QUICK_BUDGET
        ok = ok and within
        status = "ok" if within else "TOO SLOW"
        print(f"\nsmoke run: {elapsed:.1f} s (budget {QUICK_BUDGET:.0f} s): {status}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
