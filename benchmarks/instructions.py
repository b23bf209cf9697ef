"""Instructions per request under callgrind: a deterministic companion to bench_requests.py.

Wall-clock ratios on a small shared VM move by several per cent between runs. Instruction
counts do not: this script runs the same request loop under ``valgrind --tool=callgrind``
twice (``--short`` and ``--long`` requests) per variant and reports the difference divided
by the extra requests, which cancels start-up and key loading. Keys and the token are made
once up front and passed to every child, so key generation never enters the counts.

    $ python benchmarks/instructions.py            # needs valgrind (apt-get install valgrind)

Variants: a bare view (no IdGuard) without and with the ``Authorization`` header, an
IdGuard app whose view is unprotected (the hooks only), and an ``@requires_auth`` view with
a repeated token.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Any

VARIANTS = ("bare-noheader", "bare", "hooks", "guard")


def child(mode: str, n: int, fixture: str) -> None:
    """The measured process: one warm-up request, then ``n`` identical requests."""
    from flask import Flask
    from flask import jsonify

    from flask_idguard import IdGuard
    from flask_idguard import requires_auth

    with open(fixture) as fh:
        f = json.load(fh)
    app = Flask("instructions")
    if mode in ("hooks", "guard"):
        app.config.update(
            IDGUARD_ISSUER=f["iss"], IDGUARD_AUDIENCE=f["aud"], IDGUARD_PUBLIC_KEYS=f["jwks"]
        )
        IdGuard(app)

    def view() -> Any:
        return jsonify(ok=True)

    app.add_url_rule("/v", "v", requires_auth(view) if mode == "guard" else view)
    client = app.test_client()
    headers = {} if mode == "bare-noheader" else {"Authorization": "Bearer " + f["token"]}
    for _ in range(n + 1):
        assert client.get("/v", headers=headers).status_code == 200


def count(mode: str, n: int, fixture: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        proc = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--child",
                mode,
                str(n),
                fixture,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{proc.stderr}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=100)
    parser.add_argument("--long", type=int, default=600)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, n, fixture = args.child
        child(mode, int(n), fixture)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    from flask_idguard.testing import TestIssuer

    issuer = TestIssuer()
    claims = {"jti": "j", "scope": "a b", "permissions": ["p"], "client_id": "c", "sid": "s"}
    fixture = {
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "jwks": issuer.jwks(),
        "token": issuer.token(claims, expires_in=3600),
    }
    per_request: dict[str, float] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(fixture, fh)
    try:
        for mode in VARIANTS:
            low = count(mode, args.short, fh.name)
            high = count(mode, args.long, fh.name)
            per_request[mode] = (high - low) / (args.long - args.short)
    finally:
        os.unlink(fh.name)
    print("| variant | instructions per request | x bare (same header) |")
    print("|---|---:|---:|")
    for mode in VARIANTS:
        ratio = per_request[mode] / per_request["bare"]
        print(f"| {mode} | {per_request[mode]:,.0f} | {ratio:.3f} |")
    guard = per_request["guard"] / per_request["bare"]
    print(f"\nrepeated token / same request to a bare view: {guard:.3f} (target <= 1.10)")
    print(
        f"repeated token / bare view without the header: "
        f"{per_request['guard'] / per_request['bare-noheader']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
