"""Memory of the verified-token caches under a million distinct valid tokens, and its GC cost.

Two scenarios, each in a fresh interpreter, through an IdGuard app and the Flask test client:

* **bearer**: ``--tokens`` distinct access tokens (Ed25519, ``jti`` differs), each sent once
  to an ``@requires_auth`` view; the provider's verified-token cache holds 4096 entries.
* **clerk**: ``--tokens`` distinct session-cookie requests (a browser's document navigation)
  to a Clerk ``@requires_auth`` view. Clerk signs with RSA only and minting an RS256 token
  takes ~0.4 ms, so ``--clerk-tokens`` distinct session tokens (default 8192) are minted
  and cycled, each request with a different ``__client_uat``: every ``Cookie`` header is
  distinct, a token comes back only after 8191 others (long evicted from the 4096-entry
  verified cache, so every request is verified), and all three Clerk caches fill and
  churn: the remembered decisions (2048), the verified tokens (4096) and the parse cache
  (4 MiB).

For each: traced bytes kept after filling the caches from empty (tracemalloc, the bytes per
entry and the allocation sites), the resident memory along the run and its peak, the
cache sizes (bounded), and the time the cyclic garbage collector takes with the caches
empty and full (``gc.callbacks``). See ``docs/performance.rst``.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_memory.py                 # 1,000,000 tokens each
    PYTHONPATH=. python benchmarks/bench_memory.py --quick         # 20,000 tokens each
    PYTHONPATH=. python benchmarks/bench_memory.py --only bearer --tokens 200000 --json m.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from importlib.metadata import version
from typing import Any

from bench_fixtures import bearer_claims
from bench_fixtures import clerk_config
from bench_fixtures import clerk_headers
from bench_fixtures import clerk_session_token
from bench_fixtures import memory_status
from bench_fixtures import token_config
from flask import Flask
from flask.testing import FlaskClient

from flask_idguard import IdGuard
from flask_idguard import requires_auth
from flask_idguard.testing import TestIssuer

#: Entries each scenario's caches are filled with under tracemalloc: the capacity of the
#: smallest entry-bounded cache the scenario fills (no eviction yet).
FILL = {"bearer": 4096, "clerk": 2048}
#: Requests of one repeated credential timed for the GC cost, with the caches empty and full.
REPEATED = 20_000
SAMPLES = 20
QUICK_BUDGET = 60.0

Headers = Mapping[str, str]


class BenchError(RuntimeError):
    """A request was not answered 200: the figures would describe something else."""


# -- measuring -------------------------------------------------------------------------------


@dataclass
class GCClock:
    """Time spent in the cyclic garbage collector, per generation, from ``gc.callbacks``.

    CPU time of this thread: on a shared machine, time the process spends descheduled would
    otherwise land in whichever collection it interrupts."""

    seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    counts: list[int] = field(default_factory=lambda: [0, 0, 0])
    _start: float = 0.0

    def __call__(self, phase: str, info: Mapping[str, int]) -> None:
        if phase == "start":
            self._start = time.thread_time()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.thread_time() - self._start
            self.counts[generation] += 1

    def reading(self) -> tuple[list[float], list[int]]:
        return list(self.seconds), list(self.counts)

    def since(self, before: tuple[list[float], list[int]]) -> dict[str, Any]:
        seconds = [now - then for now, then in zip(self.seconds, before[0], strict=True)]
        counts = [now - then for now, then in zip(self.counts, before[1], strict=True)]
        return {"gc_seconds": sum(seconds), "per_generation_s": seconds, "collections": counts}


def full_collection_ms() -> float:
    """The median CPU time of a full collection (``gc.collect()``), in milliseconds."""
    times = []
    for _ in range(5):
        start = time.thread_time()
        gc.collect()
        times.append((time.thread_time() - start) * 1000)
    return statistics.median(times)


def send(client: FlaskClient, path: str, requests: Iterator[Headers], count: int) -> None:
    for _ in range(count):
        response = client.get(path, headers=next(requests))
        if response.status_code != 200:
            raise BenchError(f"{path} answered {response.status_code}: {response.data[:300]!r}")


def gc_cost(client: FlaskClient, path: str, repeated: Headers, clock: GCClock) -> dict[str, Any]:
    """A full collection's time, and the GC time of ``REPEATED`` requests of one credential."""
    collect_ms = full_collection_ms()
    before = clock.reading()
    start = time.perf_counter()
    send(client, path, iter(lambda: repeated, None), REPEATED)
    elapsed = time.perf_counter() - start
    during = clock.since(before)
    return {"full_collection_ms": collect_ms, "requests": REPEATED, "seconds": elapsed, **during}


# -- the scenarios ---------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    app: Flask
    path: str
    requests: Iterator[Headers]  # distinct credentials, minted as they are asked for
    repeated: Headers  # one credential, for the GC timing
    caches: Callable[[], dict[str, int]]  # the caches' current sizes
    capacity: dict[str, str]


def providers(app: Flask) -> tuple[Any, ...]:
    return tuple(app.extensions["idguard"].providers)


def bearer_scenario() -> Scenario:
    issuer = TestIssuer(alg="EdDSA")  # ~50 us a token: a million in under a minute
    app = Flask("memory-bearer")
    app.config.update(token_config(issuer), IDGUARD_ALGORITHMS=["EdDSA"])
    IdGuard(app)
    app.add_url_rule("/p", "p", requires_auth(lambda: {"ok": True}))
    now = int(time.time())

    def requests() -> Iterator[Headers]:
        n = 0
        while True:
            n += 1
            token = issuer.token(bearer_claims(issuer, n, now), expires_in=3600)
            yield {"Authorization": f"Bearer {token}"}

    cache = getattr(providers(app)[0], "_cache", None)
    repeated = {"Authorization": f"Bearer {issuer.token(bearer_claims(issuer, 0, now))}"}
    return Scenario(
        "bearer",
        app,
        "/p",
        requests(),
        repeated,
        lambda: {} if cache is None else {"verified tokens": len(cache)},
        {"verified tokens": "4096 entries (core/cache.py VerifiedCache)"},
    )


def clerk_caches(app: Flask) -> Callable[[], dict[str, int]]:
    """The sizes of the Clerk provider's caches (an empty dict for names no longer there)."""
    from flask_idguard.providers.clerk import verify

    provider = providers(app)[0]
    decisions = getattr(provider, "decisions", None)
    verified = getattr(getattr(provider, "verifier", None), "_verified", None)
    parsed = getattr(verify, "PARSED", None)

    def sizes() -> dict[str, int]:
        found = {}
        if decisions is not None:
            found["remembered decisions"] = len(decisions)
        if verified is not None:
            found["verified tokens"] = len(verified)
        if parsed is not None:
            found["parsed tokens"] = len(parsed)
            found["parsed tokens, bytes"] = parsed.bytes
        return found

    return sizes


def clerk_scenario(distinct_tokens: int) -> Scenario:
    issuer = TestIssuer(alg="RS256")
    app = Flask("memory-clerk")
    app.config.update(clerk_config(issuer.public_pem()))
    IdGuard(app)
    app.add_url_rule("/p", "p", requires_auth(lambda: {"ok": True}))
    now = int(time.time())
    pool = [clerk_session_token(issuer, now, session=f"sess_{i}") for i in range(distinct_tokens)]

    def requests() -> Iterator[Headers]:
        n = 0
        while True:
            # A different __client_uat each time round the pool: every Cookie header differs.
            # It stays before the tokens' iat, as a browser's would.
            yield clerk_headers(pool[n % len(pool)], now - 60 - n // len(pool))
            n += 1

    repeated = clerk_headers(clerk_session_token(issuer, now, session="sess_r"), now - 30)
    return Scenario(
        "clerk",
        app,
        "/p",
        requests(),
        repeated,
        clerk_caches(app),
        {
            "remembered decisions": "2048 entries (clerk/remembered.py)",
            "verified tokens": "4096 entries (clerk/verify.py, VerifiedCache)",
            "parsed tokens": "4 MiB (clerk/verify.py PARSED, SizedLRU)",
        },
    )


# -- running ---------------------------------------------------------------------------------


def fill_traced(scenario: Scenario, client: FlaskClient, fill: int) -> dict[str, Any]:
    """Bytes the caches keep after ``fill`` distinct credentials, from empty, traced."""
    gc.collect()
    tracemalloc.start(1)
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.take_snapshot()
        base = tracemalloc.get_traced_memory()[0]
        send(client, scenario.path, scenario.requests, fill)
        gc.collect()
        kept, peak = tracemalloc.get_traced_memory()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
    sites = after.filter_traces(filters).compare_to(before.filter_traces(filters), "lineno")
    return {
        "entries": fill,
        "kept_bytes": kept - base,
        "bytes_per_entry": (kept - base) / fill,
        "traced_peak_bytes": peak - base,
        "sites": [
            {"where": f"{s.traceback[0].filename}:{s.traceback[0].lineno}", "bytes": s.size_diff}
            for s in sites[:8]
        ],
    }


def churn(scenario: Scenario, client: FlaskClient, count: int, clock: GCClock) -> dict[str, Any]:
    """``count`` more distinct credentials, untraced; RSS and cache sizes sampled along."""
    step = max(1, count // SAMPLES)
    samples, largest = [], dict(scenario.caches())
    before = clock.reading()
    start = time.perf_counter()
    done = 0
    while done < count:
        batch = min(step, count - done)
        send(client, scenario.path, scenario.requests, batch)
        done += batch
        sizes = scenario.caches()
        largest = {k: max(v, largest.get(k, 0)) for k, v in sizes.items()}
        samples.append({"requests": done, **memory_status(), "caches": sizes})
    elapsed = time.perf_counter() - start
    return {"requests": count, "seconds": elapsed, "largest_caches": largest,
            "samples": samples, **clock.since(before)}  # fmt: skip


def run_scenario(scenario: Scenario, tokens: int, clock: GCClock) -> dict[str, Any]:
    client = scenario.app.test_client(use_cookies=False)
    send(client, scenario.path, iter(lambda: scenario.repeated, None), 1)  # warm-up
    start_memory = memory_status()
    empty = gc_cost(client, scenario.path, scenario.repeated, clock)
    empty["caches"] = scenario.caches()
    fill = min(FILL[scenario.name], tokens)
    traced = fill_traced(scenario, client, fill)
    traced["caches"] = scenario.caches()
    rest = churn(scenario, client, tokens - fill, clock)
    full = gc_cost(client, scenario.path, scenario.repeated, clock)
    full["caches"] = scenario.caches()
    return {
        "tokens": tokens,
        "capacity": scenario.capacity,
        "memory_at_start": start_memory,
        "fill": traced,
        "churn": rest,
        "memory_at_end": memory_status(),
        "gc_caches_empty": empty,
        "gc_caches_full": full,
    }


# -- report ----------------------------------------------------------------------------------


def mib(value: float) -> str:
    return f"{value / 2**20:,.1f} MiB"


def print_scenario(name: str, result: Mapping[str, Any]) -> None:
    fill, rest = result["fill"], result["churn"]
    empty, full = result["gc_caches_empty"], result["gc_caches_full"]
    start, end = result["memory_at_start"], result["memory_at_end"]
    rate = rest["requests"] / rest["seconds"] if rest["seconds"] else 0.0
    print(f"\n{name}: {result['tokens']:,} distinct credentials ({rate:,.0f} req/s untraced)")
    print("| measure | value |\n|---|---:|")
    for cache, bound in result["capacity"].items():
        print(f"| {cache}: bound | {bound} |")
    for cache, size in rest["largest_caches"].items():
        print(f"| {cache}: largest seen | {size:,} |")
    print(f"| kept after {fill['entries']:,} distinct, from empty (tracemalloc) "
          f"| {mib(fill['kept_bytes'])} |")  # fmt: skip
    print(f"| per distinct credential | {fill['bytes_per_entry']:,.0f} B |")
    print(f"| traced peak while filling | {mib(fill['traced_peak_bytes'])} |")
    print(f"| RSS at start / end | {mib(start['rss'])} / {mib(end['rss'])} |")
    print(f"| peak RSS of the process so far | {mib(end['peak_rss'])} |")
    rss = [s["rss"] for s in rest["samples"]]
    if rss:
        print(f"| RSS range over the last {len(rss) // 2 or 1} samples | "
              f"{mib(min(rss[len(rss) // 2 :]))} - {mib(max(rss[len(rss) // 2 :]))} |")  # fmt: skip
    print(f"| full collection, caches empty / full | {empty['full_collection_ms']:.2f} ms / "
          f"{full['full_collection_ms']:.2f} ms |")  # fmt: skip
    print(f"| GC in {REPEATED:,} repeated requests, empty / full | "
          f"{empty['gc_seconds'] * 1000:.1f} ms ({empty['collections']}) / "
          f"{full['gc_seconds'] * 1000:.1f} ms ({full['collections']}) |")  # fmt: skip
    share = rest["gc_seconds"] / rest["seconds"] if rest["seconds"] else 0.0
    print(f"| GC (CPU) during the distinct run | {rest['gc_seconds']:.2f} s of "
          f"{rest['seconds']:.1f} s ({share:.1%}) |")  # fmt: skip
    per_collection = [
        f"gen {g}: {n:,} x {t / n * 1000:.2f} ms" if n else f"gen {g}: 0"
        for g, (t, n) in enumerate(zip(rest["per_generation_s"], rest["collections"], strict=True))
    ]
    print(f"| collections during the distinct run | {'; '.join(per_collection)} |")
    print("Where the kept bytes were allocated (top sites):")
    for site in fill["sites"]:
        print(f"  {site['bytes']:>10,} B  {site['where']}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens", type=int, default=1_000_000, help="distinct credentials")
    parser.add_argument("--clerk-tokens", type=int, default=8192,
                        help="distinct Clerk session tokens cycled (default 8192)")  # fmt: skip
    parser.add_argument("--only", choices=("bearer", "clerk"), help="run one scenario")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument("--quick", action="store_true", help="smoke run: --tokens 20000")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.tokens = 20_000
    if args.tokens < max(FILL.values()) or args.clerk_tokens <= 4096:
        parser.error("--tokens must be >= 4096 and --clerk-tokens > 4096 (the verified cache)")
    return args


def run_here(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run scenario ``name`` in this process and print its table."""
    makers: dict[str, Callable[[], Scenario]] = {
        "bearer": bearer_scenario,
        "clerk": lambda: clerk_scenario(args.clerk_tokens),
    }
    make = makers[name]
    clock = GCClock()
    gc.callbacks.append(clock)
    try:
        result = run_scenario(make(), args.tokens, clock)
    finally:
        gc.callbacks.remove(clock)
    print_scenario(name, result)
    return result


def run_child(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run scenario ``name`` in a fresh interpreter: neither scenario sees the other's heap."""
    with tempfile.TemporaryDirectory(prefix="idguard-memory-") as directory:
        out = os.path.join(directory, "result.json")
        command = [sys.executable, __file__, "--only", name, "--tokens", str(args.tokens)]
        command += ["--clerk-tokens", str(args.clerk_tokens), "--json", out, "--child"]
        sys.stdout.flush()
        if subprocess.run(command, check=False).returncode != 0:
            raise BenchError(f"the {name} scenario failed (its error is above)")
        with open(out, encoding="utf-8") as fh:
            result: dict[str, Any] = json.load(fh)[name]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = parse_args(argv)
    if not args.child:
        print(f"Python {platform.python_version()}, Flask {version('Flask')}, "
              f"cryptography {version('cryptography')}, joserfc {version('joserfc')}")  # fmt: skip
    results: dict[str, Any] = {}
    try:
        for name in ("bearer", "clerk"):
            if args.only == name:
                results[name] = run_here(name, args)
            elif args.only is None:
                results[name] = run_child(name, args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"python": platform.python_version(), "args": vars(args), **results}, fh)
    elapsed = time.perf_counter() - started
    if not args.child:
        print(f"\n{elapsed:.1f} s")
    return 0 if not args.quick or elapsed < QUICK_BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
