"""Throughput under gunicorn and wrk: IdGuard's views against a bare Flask view, on loopback.

gunicorn serves ``gunicorn_app.py`` with ``--workers`` sync workers (default 4) on a free
loopback port; ``wrk`` (Debian package ``wrk``) loads one row at a time, the rows
interleaved over ``--rounds`` rounds with the order rotated by one each round. Every row of
a group receives the same headers: the Clerk group a browser's document navigation with a
valid session (``__session`` + ``__client_uat``), the bearer group one valid access token.
The table reports the median requests per second, the min-max over rounds, the ratio of the
medians to the group's bare view, and the median of the per-round ratios (each row against
the bare view of the same round: a drift of the machine's speed between rounds cancels).
It also reports what the workers themselves spent: their CPU time (``/proc``) per request
answered, which wrk's share of the two cores does not blur. The targets are judged on the
per-round ratios. Before timing, every protected row must answer 200 with its credentials
and 401 without. See ``docs/performance.rst``.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_gunicorn.py            # 5 rounds x 5 rows x 3 s
    PYTHONPATH=. python benchmarks/bench_gunicorn.py --quick    # 2 rounds x 5 rows x 1 s
    PYTHONPATH=. python benchmarks/bench_gunicorn.py --json out.json --workers 2
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench_fixtures import bearer_claims
from bench_fixtures import clerk_headers
from bench_fixtures import clerk_session_token
from bench_fixtures import median_ratio
from bench_fixtures import token_config

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BOOT_TIMEOUT = 60.0
#: ``--quick`` fails when the whole run takes longer than this.
QUICK_BUDGET = 60.0
TARGET_RATIO = 0.95
WRK_MISSING = (
    "wrk is not installed. Install it with `apt-get install wrk` (Debian, Ubuntu), "
    "`brew install wrk` (macOS), or build it from https://github.com/wg/wrk."
)
GUNICORN_MISSING = (
    "gunicorn is not installed in this Python. Install the bench extra: pip install -e '.[bench]'"
)


class BenchError(RuntimeError):
    """The server or a row misbehaved: the numbers would be meaningless."""


@dataclass(frozen=True)
class Row:
    name: str
    path: str
    group: str  # "clerk" or "bearer": the rows of a group get the same headers
    protected: bool = False
    baseline: bool = False


ROWS = (
    Row("Bare Flask view, same Clerk cookies (ignored)", "/bare/view", "clerk", baseline=True),
    Row("IdGuard Clerk @requires_auth, session cookie", "/clerk/protected", "clerk", True),
    Row("IdGuard Clerk unprotected view, session cookie", "/clerk/open", "clerk"),
    Row("Bare Flask view, same bearer token (ignored)", "/bare/view", "bearer", baseline=True),
    Row("IdGuard OIDC @requires_auth, repeated token", "/token/protected", "bearer", True),
)


# -- the server ----------------------------------------------------------------------------------


def make_fixture(directory: str) -> tuple[str, dict[str, dict[str, str]]]:
    """Keys for the server (a JSON file) and the headers of each row group."""
    from flask_idguard.testing import TestIssuer

    issuer = TestIssuer(alg="RS256")  # Clerk accepts RSA keys only
    now = int(time.time())
    path = os.path.join(directory, "fixture.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"public_pem": issuer.public_pem(), "token_config": token_config(issuer)}, fh)
    bearer = issuer.token(bearer_claims(issuer, 0, now), expires_in=3600)
    headers = {
        "clerk": clerk_headers(clerk_session_token(issuer, now), now - 60),
        "bearer": {"Authorization": f"Bearer {bearer}"},
    }
    return path, headers


def control_socket_option() -> bool:
    """Whether this gunicorn has a control socket (recent versions) that can be turned off."""
    found = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"], capture_output=True, text=True, check=False
    )
    return "--no-control-socket" in found.stdout


def gunicorn_command(workers: int) -> list[str]:
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers)]
    command += ["--worker-class", "sync", "--bind", "127.0.0.1:0", "--preload"]
    command += ["--error-logfile", "-", "--log-level", "info", "--pythonpath", str(HERE)]
    if control_socket_option():  # not one shared ~/.gunicorn/gunicorn.ctl for every run
        command.append("--no-control-socket")
    return [*command, "gunicorn_app:application"]


def wait_for_boot(proc: subprocess.Popen[bytes], log: str, workers: int) -> int:
    """The port gunicorn listens on, once every worker booted; BenchError if it cannot boot."""
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        text = Path(log).read_text(encoding="utf-8", errors="replace")
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with status {proc.returncode}:\n{text[-4000:]}")
        if "Worker failed to boot" in text:
            raise BenchError(f"a gunicorn worker failed to boot:\n{text[-4000:]}")
        port = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
        if port and text.count("Booting worker with pid") >= workers:
            return int(port.group(1))
        time.sleep(0.1)
    raise BenchError(f"gunicorn did not boot in {BOOT_TIMEOUT:.0f} s:\n{text[-4000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn and its workers (their own process group), politely then not."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def workers_cpu(master: int) -> float:
    """CPU seconds (user + system) the master's worker processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat.rpartition(")")[2].split()  # after "pid (comm)": state, ppid, ...
        if int(fields[1]) == master:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@contextlib.contextmanager
def gunicorn(workers: int, fixture: str, directory: str) -> Iterator[tuple[int, int]]:
    """Run gunicorn serving ``gunicorn_app``; yield its port and its master's pid; stop it on
    the way out."""
    log = os.path.join(directory, "gunicorn.log")
    env = dict(os.environ, IDGUARD_BENCH_FIXTURE=fixture)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    with open(log, "wb") as out:  # gunicorn's log and any traceback of a failed boot
        proc = subprocess.Popen(
            gunicorn_command(workers),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() reaches every worker
        )
    try:
        yield wait_for_boot(proc, log, workers), proc.pid
    finally:
        stop(proc)


# -- checks and load -----------------------------------------------------------------------------


def fetch(port: int, path: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=dict(headers))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def check_rows(port: int, headers: Mapping[str, Mapping[str, str]]) -> None:
    """Every row answers ``{"ok": true}`` with its headers; protected rows 401 without."""
    for row in ROWS:
        status, body = fetch(port, row.path, headers[row.group])
        if status != 200 or json.loads(body or b"null") != {"ok": True}:
            raise BenchError(f"{row.name}: {row.path} answered {status} {body[:300]!r}")
        if row.protected:
            anonymous = {k: v for k, v in headers[row.group].items() if k == "Host"}
            status, body = fetch(port, row.path, anonymous)
            if status != 401:
                raise BenchError(
                    f"{row.name}: without credentials {row.path} answered {status}, not 401"
                )


def wrk(
    args: argparse.Namespace, url: str, headers: Mapping[str, str], seconds: int
) -> tuple[float, int]:
    """Requests per second ``wrk`` reached and requests answered; BenchError on any non-2xx
    answer or socket error."""
    command = [args.wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise BenchError(f"wrk failed ({out.returncode}): {out.stderr or out.stdout}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    done = re.search(r"(\d+) requests in", out.stdout)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out.stdout)
    if rate is None or done is None or bad is not None:
        raise BenchError(f"wrk against {url}:\n{out.stdout}")
    return float(rate.group(1)), int(done.group(1))


@dataclass
class Samples:
    """Per row, one value per round: requests per second, worker CPU microseconds per request."""

    rps: dict[str, list[float]]
    cpu_us: dict[str, list[float]]


def measure(
    args: argparse.Namespace, port: int, master: int, headers: Mapping[str, Mapping[str, str]]
) -> Samples:
    """One sample per row per round, the rows interleaved and the order rotated each round."""
    base = f"http://127.0.0.1:{port}"
    for row in ROWS:  # warm-up: every worker verifies and remembers once, outside the timing
        wrk(args, base + row.path, headers[row.group], args.warmup)
    samples = Samples({row.name: [] for row in ROWS}, {row.name: [] for row in ROWS})
    for r in range(args.rounds):
        shift = r % len(ROWS)
        for row in ROWS[shift:] + ROWS[:shift]:
            before = workers_cpu(master)
            rate, answered = wrk(args, base + row.path, headers[row.group], args.duration)
            spent = workers_cpu(master) - before
            samples.rps[row.name].append(rate)
            samples.cpu_us[row.name].append(spent / answered * 1e6)
    return samples


# -- report --------------------------------------------------------------------------------------


def paired(values: Mapping[str, list[float]], row: Row, baseline: Row) -> float:
    """The row's value over its bare view's, per round (:func:`bench_fixtures.median_ratio`)."""
    return median_ratio(values[row.name], values[baseline.name])


def summarise(samples: Samples) -> list[dict[str, Any]]:
    baselines = {r.group: r for r in ROWS if r.baseline}
    table = []
    for row in ROWS:
        bare = baselines[row.group]
        rps = samples.rps[row.name]
        ratio = paired(samples.rps, row, bare)
        table.append(
            {
                "row": row.name,
                "path": row.path,
                "median_rps": statistics.median(rps),
                "min_rps": min(rps),
                "max_rps": max(rps),
                "ratio_of_medians": statistics.median(rps)
                / statistics.median(samples.rps[bare.name]),
                "ratio_to_bare": ratio,
                "cpu_us_per_request": statistics.median(samples.cpu_us[row.name]),
                "cpu_ratio_to_bare": paired(samples.cpu_us, row, bare),
                "target_met": None if row.baseline else ratio >= TARGET_RATIO,
            }
        )
    return table


def versions() -> dict[str, str]:
    found = {"Python": platform.python_version()}
    for package in ("Flask", "Werkzeug", "gunicorn", "flask-idguard"):
        with contextlib.suppress(PackageNotFoundError):
            found[package] = version(package)
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    found["wrk"] = (wrk_version.stdout or wrk_version.stderr).split(" [")[0].removeprefix("wrk ")
    return found


def print_report(args: argparse.Namespace, table: list[dict[str, Any]]) -> None:
    print(", ".join(f"{k} {v}" for k, v in versions().items()) + f"; {os.cpu_count()} CPUs")
    print(
        f"gunicorn {args.workers} sync workers (--preload) on loopback; wrk -t{args.threads} "
        f"-c{args.connections}, {args.duration} s per cell, {args.rounds} rounds interleaved\n"
    )
    width = max(len(r.name) for r in ROWS)
    print(
        f"| {'row':<{width}} | median req/s |       min-max | x bare | x bare, per round "
        "| worker CPU us/req | x bare, per round |"
    )
    print(f"|{'-' * (width + 2)}|-------------:|--------------:|-------:|------------------:"
          "|------------------:|------------------:|")  # fmt: skip
    for line in table:
        spread = f"{line['min_rps']:,.0f}-{line['max_rps']:,.0f}"
        print(
            f"| {line['row']:<{width}} | {line['median_rps']:>12,.0f} | {spread:>13} "
            f"| {line['ratio_of_medians']:>6.3f} | {line['ratio_to_bare']:>17.3f} "
            f"| {line['cpu_us_per_request']:>17.1f} | {line['cpu_ratio_to_bare']:>17.3f} |"
        )
    print(
        f"\nTargets (issue 15, design.md section 8): throughput >= {TARGET_RATIO} x bare "
        "(median of the per-round ratios)"
    )
    for line in table:
        if line["target_met"] is not None:
            verdict = "met" if line["target_met"] else "NOT MET"
            print(
                f"  [{verdict}] {line['row']}: {line['ratio_to_bare']:.3f} "
                f"(worker CPU per request {line['cpu_ratio_to_bare']:.3f} x bare)"
            )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (4)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--duration", type=int, default=3, help="seconds per cell (3)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up seconds per row (1)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--wrk", default="wrk", help="the wrk executable (wrk)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds of 1 s cells")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup = 2, 1, 1
    counts = (args.workers, args.rounds, args.connections, args.threads, args.duration, args.warmup)
    if min(counts) < 1:
        parser.error("--workers, --rounds, --connections, --threads, --duration, --warmup >= 1")
    if args.connections < args.threads:
        parser.error("wrk needs at least as many --connections as --threads")
    return args


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="idguard-gunicorn-") as directory:
        fixture, headers = make_fixture(directory)
        with gunicorn(args.workers, fixture, directory) as (port, master):
            check_rows(port, headers)
            samples = measure(args, port, master, headers)
            check_rows(port, headers)  # still right after the load
    table = summarise(samples)
    if args.json:
        result = {"versions": versions(), "args": vars(args), "samples_rps": samples.rps,
                  "samples_worker_cpu_us": samples.cpu_us}  # fmt: skip
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({**result, "table": table}, fh, indent=1)
    return table


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = parse_args(argv)
    if shutil.which(args.wrk) is None:
        print(WRK_MISSING, file=sys.stderr)
        return 2
    if importlib.util.find_spec("gunicorn") is None:
        print(GUNICORN_MISSING, file=sys.stderr)
        return 2
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so gunicorn is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        table = run(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print_report(args, table)
    if args.quick:
        elapsed = time.perf_counter() - started
        print(f"\nsmoke run: {elapsed:.1f} s (budget {QUICK_BUDGET:.0f} s)")
        return 0 if elapsed < QUICK_BUDGET else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
