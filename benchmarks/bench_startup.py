"""Import time of ``flask_idguard`` over Flask, the heaviest modules it imports, and the cold
start: from process start to the first answered request.

* **Import time**: fresh interpreters (bytecode compiled first), ``--runs`` of each,
  interleaved: ``import flask`` alone, ``import flask_idguard`` alone, and
  ``import flask_idguard`` after ``import flask`` in the same process. Reported: the medians,
  and *over Flask* both ways (difference of medians, and the median of the in-process
  difference).
* **Heaviest modules**: ``python -X importtime -c "import flask_idguard"``, minus what
  ``import flask`` imports; the top 15 by self time (median over three runs), and the self
  time summed per top-level package: what to make lazy.
* **Cold start** (``cold_start_child.py``): wall clock from just before the process is
  spawned until the first request through the test client is answered, for a bare Flask app,
  an OIDC issuer found by discovery + JWKS over HTTP on loopback (a ``TestIssuer`` serving
  its endpoints in this process), the same issuer with static keys, and Clerk with
  ``CLERK_JWT_KEY``. Median of ``--runs``, split into interpreter start, imports, app set-up
  and the first request.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_startup.py              # 15 runs of each
    PYTHONPATH=. python benchmarks/bench_startup.py --quick      # 5 runs of each
    PYTHONPATH=. python benchmarks/bench_startup.py --json startup.json
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench_fixtures import bearer_claims
from bench_fixtures import clerk_config
from bench_fixtures import clerk_headers
from bench_fixtures import clerk_session_token
from bench_fixtures import token_config

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUICK_BUDGET = 60.0
TOP = 15
TIMER = (
    "import time; {pre}; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
)
IMPORTTIME_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")


class BenchError(RuntimeError):
    """A child process failed: the figures would be meaningless."""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def python(args: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}{done.stdout[-1000:]}")
    return done


# -- import time -------------------------------------------------------------------------------


def import_times(runs: int, env: dict[str, str]) -> dict[str, Any]:
    """Seconds of each import program per run, interleaved; medians and the differences."""
    programs = {
        "flask": TIMER.format(pre="pass", module="flask"),
        "flask_idguard": TIMER.format(pre="pass", module="flask_idguard"),
        "over_flask": TIMER.format(pre="import flask", module="flask_idguard"),
    }
    for program in programs.values():  # warm the file cache and the bytecode
        python(["-c", program], env)
    samples: dict[str, list[float]] = {name: [] for name in programs}
    for _ in range(runs):
        for name, program in programs.items():
            samples[name].append(float(python(["-c", program], env).stdout))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return {
        "samples_s": samples,
        "median_s": medians,
        "over_flask_by_difference_s": medians["flask_idguard"] - medians["flask"],
        "over_flask_in_process_s": medians["over_flask"],
    }


def parse_importtime(stderr: str) -> dict[str, tuple[int, int]]:
    """``{module: (self us, cumulative us)}`` from ``-X importtime`` output."""
    found = {}
    for line in stderr.splitlines():
        match = IMPORTTIME_LINE.match(line)
        if match:
            found[match.group(4)] = (int(match.group(1)), int(match.group(2)))
    return found


def heavy_modules(env: dict[str, str]) -> dict[str, Any]:
    """The modules ``import flask_idguard`` adds to ``import flask``, by self time."""
    flask_only = set(
        parse_importtime(python(["-X", "importtime", "-c", "import flask"], env).stderr)
    )
    runs = [
        parse_importtime(python(["-X", "importtime", "-c", "import flask_idguard"], env).stderr)
        for _ in range(3)
    ]
    modules = sorted(set(runs[0]) - flask_only)
    self_us = {m: statistics.median(r.get(m, (0, 0))[0] for r in runs) for m in modules}
    cumulative_us = {m: statistics.median(r.get(m, (0, 0))[1] for r in runs) for m in modules}
    per_package: dict[str, float] = defaultdict(float)
    for module, spent in self_us.items():
        per_package[module.split(".")[0]] += spent
    top = sorted(modules, key=lambda m: self_us[m], reverse=True)[:TOP]
    return {
        "modules_added": len(modules),
        "self_us_total": sum(self_us.values()),
        "top": [
            {"module": m, "self_us": self_us[m], "cumulative_us": cumulative_us[m]} for m in top
        ],
        "per_package_us": dict(sorted(per_package.items(), key=lambda kv: -kv[1])),
    }


# -- cold start --------------------------------------------------------------------------------


@contextlib.contextmanager
def cold_fixtures(directory: str) -> Iterator[dict[str, tuple[str, str]]]:
    """One fixture file per cold-start mode; the discovery issuer served while in use."""
    from flask_idguard.testing import TestIssuer

    issuer = TestIssuer(alg="RS256")
    now = int(time.time())
    with issuer.serve() as served:
        bearer = {"Authorization": f"Bearer {served.token(bearer_claims(served, 0, now))}"}
        cookies = clerk_headers(clerk_session_token(issuer, now), now - 60)
        discovery = {"IDGUARD_ISSUER": served.issuer, "IDGUARD_AUDIENCE": served.audience}
        fixtures = {
            "bare Flask app, no IdGuard": ("bare", {}, bearer, 200),
            "OIDC, keys by discovery + JWKS (loopback HTTP)": ("idguard", discovery, bearer, 200),
            "OIDC, static keys (IDGUARD_PUBLIC_KEYS)": (
                "idguard",
                token_config(served),
                bearer,
                200,
            ),
            "Clerk, CLERK_JWT_KEY, session cookie": (
                "idguard",
                clerk_config(issuer.public_pem()),
                cookies,
                200,
            ),
        }
        paths = {}
        for n, (name, (mode, config, headers, status)) in enumerate(fixtures.items()):
            path = os.path.join(directory, f"cold-{n}.json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump({"config": config, "headers": headers, "status": status}, fh)
            paths[name] = (mode, path)
        yield paths


def cold_once(target: tuple[str, str], env: dict[str, str]) -> dict[str, float]:
    """One child run of ``target`` (mode, fixture path): the wall-clock time of each step."""
    mode, path = target
    spawned = time.time()
    done = python([str(HERE / "cold_start_child.py"), mode, path], env)
    marks = json.loads(done.stdout)["marks"]
    return {
        "interpreter": marks["main"] - spawned,
        "import_flask": marks["flask_imported"] - marks["main"],
        "import_idguard": marks["idguard_imported"] - marks["flask_imported"],
        "app_setup": marks["app_ready"] - marks["idguard_imported"],
        "first_request": marks["answered"] - marks["app_ready"],
        "total": marks["answered"] - spawned,
    }


def cold_starts(runs: int, env: dict[str, str]) -> dict[str, dict[str, float]]:
    """Median of each step per mode over ``runs`` interleaved runs."""
    with tempfile.TemporaryDirectory(prefix="idguard-cold-") as directory:
        with cold_fixtures(directory) as modes:
            samples: dict[str, list[dict[str, float]]] = {name: [] for name in modes}
            for target in modes.values():  # warm-up
                cold_once(target, env)
            for _ in range(runs):
                for name, target in modes.items():
                    samples[name].append(cold_once(target, env))
    return {
        name: {step: statistics.median(s[step] for s in runs_) for step in runs_[0]}
        for name, runs_ in samples.items()
    }


# -- report ------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def print_report(imports: dict[str, Any], heavy: dict[str, Any], cold: dict[str, Any]) -> None:
    median = imports["median_s"]
    print("Import time (fresh interpreter, bytecode compiled, median):")
    print(f"  import flask                          {ms(median['flask']):>7} ms")
    print(f"  import flask_idguard                  {ms(median['flask_idguard']):>7} ms")
    print(
        f"  over Flask (difference of medians)    {ms(imports['over_flask_by_difference_s']):>7} ms"
    )
    print(f"  over Flask (after import flask)       {ms(imports['over_flask_in_process_s']):>7} ms")
    print("  target (issue 15): <= 60 ms over Flask")
    print(
        f"\nModules import flask_idguard adds to import flask: {heavy['modules_added']}, "
        f"{heavy['self_us_total'] / 1000:.1f} ms self time (-X importtime, median of 3)"
    )
    print("| module | self ms | cumulative ms |\n|---|---:|---:|")
    for entry in heavy["top"]:
        self_ms, cumulative_ms = entry["self_us"] / 1000, entry["cumulative_us"] / 1000
        print(f"| {entry['module']} | {self_ms:.2f} | {cumulative_ms:.2f} |")
    print(
        "Self time per top-level package: "
        + ", ".join(
            f"{name} {spent / 1000:.1f} ms"
            for name, spent in list(heavy["per_package_us"].items())[:8]
        )
    )
    print("\nCold start: process spawn to the first answered request (median, ms)")
    steps = ("interpreter", "import_flask", "import_idguard", "app_setup", "first_request", "total")
    print("| mode | " + " | ".join(steps) + " |")
    print("|---|" + "---:|" * len(steps))
    for name, timing in cold.items():
        print(f"| {name} | " + " | ".join(ms(timing[s]) for s in steps) + " |")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="runs of each program (15)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument("--quick", action="store_true", help="smoke run: --runs 5")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 5
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = parse_args(argv)
    env = child_env()
    compileall.compile_dir(str(ROOT / "flask_idguard"), quiet=1)
    print(f"Python {platform.python_version()}, Flask {version('Flask')}; {os.cpu_count()} CPUs")
    try:
        imports = import_times(args.runs, env)
        heavy = heavy_modules(env)
        cold = cold_starts(args.runs, env)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print_report(imports, heavy, cold)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            result = {"python": platform.python_version(), "runs": args.runs}
            json.dump({**result, "imports": imports, "heavy": heavy, "cold": cold}, fh, indent=1)
    elapsed = time.perf_counter() - started
    print(f"\n{elapsed:.1f} s")
    return 0 if not args.quick or elapsed < QUICK_BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
