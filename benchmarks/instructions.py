"""Instructions per request under callgrind: a deterministic companion to bench_requests.py.

Wall-clock ratios on a small shared VM move by several per cent between runs. Instruction
counts do not: this script runs the same request loop under ``valgrind --tool=callgrind``
twice (``--short`` and ``--long`` requests) per variant and reports the difference divided
by the extra requests, which cancels start-up and key loading. Keys and the token are made
once up front and passed to every child, so key generation never enters the counts.

    $ python benchmarks/instructions.py            # needs valgrind (apt-get install valgrind)

Variants: a bare view (no IdGuard) without and with the ``Authorization`` header, an
IdGuard app whose view is unprotected (the hooks only), and an ``@requires_auth`` view with
a repeated token; then the Clerk rows: a bare view receiving a browser's Clerk session cookies
(a production document navigation with a same-origin ``Referer``), a Clerk app's unprotected
view, and a Clerk ``@requires_auth`` view (``CLERK_JWT_KEY``, authorized parties set); a fresh
Clerk session token each request, against Clerk's Python SDK (``clerk-backend-api``).
``--machine``: a repeated Clerk session token in the header against a repeated API key and
M2M token on routes that accept them.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

VARIANTS = (
    "bare-noheader", "bare", "hooks", "guard", "fresh", "pyjwt",
    "bare-cookie", "clerk-hooks", "clerk-guard", "clerk-fresh", "clerk-sdk",
)  # fmt: skip
#: Clerk machine tokens (``--machine``): a repeated session token in the header, then a
#: repeated API key and M2M token on routes that accept them (the Backend API stubbed).
MACHINE_VARIANTS = ("clerk-session-header", "clerk-api-key", "clerk-m2m")
MACHINE_TOKENS = {
    "clerk-api-key": ("api_key", "ak_bench_1"),
    "clerk-m2m": ("m2m_token", "mt_bench_1"),
}
CLERK_PK = "pk_live_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA"  # clerk.inspired.puma-74.lcl.dev
CLERK_FAPI = "clerk.inspired.puma-74.lcl.dev"


def child(mode: str, n: int, fixture: str) -> None:
    """The measured process: one warm-up request, then ``n`` identical requests (the heap
    built before them frozen out of the cyclic collector's way, for every variant alike)."""
    from flask import Flask
    from flask import jsonify

    from flask_idguard import IdGuard
    from flask_idguard import requires_auth

    with open(fixture) as fh:
        f = json.load(fh)
    app = Flask("instructions")
    if mode in ("hooks", "guard", "fresh"):
        app.config.update(
            IDGUARD_ISSUER=f["iss"], IDGUARD_AUDIENCE=f["aud"], IDGUARD_PUBLIC_KEYS=f["jwks"]
        )
        IdGuard(app)
    elif mode.startswith("clerk-") and mode != "clerk-sdk":
        app.config.update(
            CLERK_PUBLISHABLE_KEY=CLERK_PK,
            CLERK_SECRET_KEY="sk_live_instructions",
            CLERK_JWT_KEY=f["pem"],
            CLERK_AUTHORIZED_PARTIES=["https://example.com"],
            CLERK_MACHINE_TOKEN_CACHE_TTL=3600,  # callgrind is slow: one API call per run
        )
        IdGuard(app)

    def view() -> Any:
        return jsonify(ok=True)

    guarded = mode in ("guard", "fresh", "clerk-guard", "clerk-fresh", "clerk-session-header")
    if mode == "pyjwt":
        view = pyjwt_view(f)
    if mode == "clerk-sdk":
        view = clerk_sdk_view(f["pem"])
    if mode in MACHINE_TOKENS:
        token_type, token = MACHINE_TOKENS[mode]
        stub_backend_api(token_type, token)
        view = requires_auth(accepts_token=token_type)(view)
    app.add_url_rule("/v", "v", requires_auth(view) if guarded else view)
    client = app.test_client(use_cookies=False)
    sent: list[dict[str, str]]
    if mode == "bare-noheader":
        sent = [{}]
    elif mode in ("bare-cookie", "clerk-hooks", "clerk-guard"):
        sent = [f["cookie_headers"]]
    elif mode in MACHINE_TOKENS:
        sent = [{"Authorization": "Bearer " + MACHINE_TOKENS[mode][1]}]
    elif mode == "clerk-session-header":
        sent = [{"Authorization": "Bearer " + f["session"]}]
    elif mode in ("fresh", "pyjwt"):  # an access token never seen before, each time
        sent = [{"Authorization": "Bearer " + t} for t in f["fresh"]]
    elif mode in ("clerk-fresh", "clerk-sdk"):  # a token never seen before, each time
        sent = [{"Authorization": "Bearer " + t} for t in f["clerk_fresh"]]
    else:
        sent = [{"Authorization": "Bearer " + f["token"]}]
    base_url = "https://example.com" if "cookie" in mode or "clerk" in mode else None
    assert client.get("/v", headers=sent[-1], base_url=base_url).status_code == 200  # warm-up
    # The start-up heap is long-lived: freeze it, so that whether a full collection of it
    # happens to fall in the measured requests (a swing of ~10%) does not decide the count.
    gc.collect()
    gc.freeze()
    for i in range(n):
        headers = sent[i % len(sent)]
        assert client.get("/v", headers=headers, base_url=base_url).status_code == 200


def pyjwt_view(f: dict[str, Any]) -> Any:
    """The hand-rolled PyJWT decorator of ``bench_requests.py`` on a bare view."""
    from bench_requests import pyjwt_required
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(f["pem"].encode())

    def view() -> Any:
        return {"ok": True}

    return pyjwt_required(key, f["aud"], f["iss"])(view)  # type: ignore[arg-type]


def clerk_sdk_view(pem: str) -> Any:
    """Clerk's Python SDK (``clerk-backend-api``) deciding the request, networkless."""
    from clerk_backend_api.security import authenticate_request
    from clerk_backend_api.security.types import AuthenticateRequestOptions
    from flask import request

    options = AuthenticateRequestOptions(jwt_key=pem, authorized_parties=["https://example.com"])

    def view() -> Any:
        state = authenticate_request(request, options)  # type: ignore[arg-type]  # .headers.get() is all it reads
        return ({"ok": True}, 200) if state.is_signed_in else ({}, 401)

    return view


def stub_backend_api(token_type: str, token: str) -> None:
    """The Backend API's verify endpoint answering for ``token`` (once: it is remembered)."""
    import responses

    from flask_idguard.providers.clerk.machine_api import ENDPOINTS

    path, _ = ENDPOINTS[token_type]
    body = {"id": "id_1", "subject": "mch_1" if token_type == "m2m_token" else "user_1",
            "scopes": ["read"], "claims": {"k": "v"}, "revoked": False, "expired": False,
            "expiration": None}  # fmt: skip
    responses.start()
    responses.add(responses.POST, "https://api.clerk.com" + path, json=body)


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
            env={**os.environ, "PYTHONHASHSEED": "0"},  # the same hashes, run after run
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
    parser.add_argument(
        "--clerk", action="store_true", help="only the Clerk rows (bare-cookie, clerk-*)"
    )
    parser.add_argument(
        "--machine",
        action="store_true",
        help="only the Clerk machine-token rows (clerk-session-header, clerk-api-key, clerk-m2m)",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, n, fixture = args.child
        child(mode, int(n), fixture)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    from bench_requests import mint

    from flask_idguard.testing import TestIssuer

    issuer = TestIssuer()
    claims = {"jti": "j", "scope": "a b", "permissions": ["p"], "client_id": "c", "sid": "s"}
    now = int(time.time())

    def clerk_token(n: int) -> str:
        return issuer.token(
            {
                "iss": f"https://{CLERK_FAPI}",
                "sub": f"user_{n}",
                "sid": f"sess_{n}",
                "iat": now,
                "azp": "https://example.com",
                "nbf": now - 10,
            },  # fmt: skip
            expires_in=3600,
            omit=("aud",),  # Clerk's session tokens have none
        )

    session = clerk_token(0)
    fixture = {
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "jwks": issuer.jwks(),
        "token": issuer.token(claims, expires_in=3600),
        "pem": issuer.public_pem(),
        "session": session,
        "clerk_fresh": [clerk_token(n) for n in range(args.long + 1)],
        "fresh": [mint(issuer, n) for n in range(args.long + 1)],
        "cookie_headers": {
            "Sec-Fetch-Dest": "document",
            "Referer": "https://example.com/",
            "Cookie": f"__client_uat={now - 60}; __session={session}",
        },
    }
    per_request: dict[str, float] = {}
    variants = [m for m in VARIANTS if not args.clerk or "cookie" in m or "clerk" in m]
    if args.machine:
        variants = list(MACHINE_VARIANTS)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(fixture, fh)
    try:
        for mode in variants:
            low = count(mode, args.short, fh.name)
            high = count(mode, args.long, fh.name)
            per_request[mode] = (high - low) / (args.long - args.short)
    finally:
        os.unlink(fh.name)
    if args.machine:
        return machine_report(per_request)
    print("| variant | instructions per request | x its base (bare, same header or cookies) |")
    print("|---|---:|---:|")
    for mode in variants:
        if mode == "clerk-fresh":
            base = per_request["clerk-sdk"]
        elif mode == "fresh":
            base = per_request["pyjwt"]
        elif "clerk" in mode or "cookie" in mode:
            base = per_request["bare-cookie"]
        else:
            base = per_request["bare"]
        ratio = per_request[mode] / base
        print(f"| {mode} | {per_request[mode]:,.0f} | {ratio:.3f} |")
    if not args.clerk:
        fresh = per_request["fresh"] / per_request["pyjwt"]
        print(f"\nfresh token / the hand-rolled PyJWT decorator: {fresh:.3f} (target <= 0.88)")
        guard = per_request["guard"] / per_request["bare"]
        print(f"repeated token / same request to a bare view: {guard:.3f} (target <= 1.04)")
        print(
            f"repeated token / bare view without the header: "
            f"{per_request['guard'] / per_request['bare-noheader']:.3f}"
        )
    clerk = per_request["clerk-guard"] / per_request["bare-cookie"]
    print(f"Clerk session cookie / same request to a bare view: {clerk:.3f} (target <= 1.10)")
    fresh = per_request["clerk-fresh"] / per_request["clerk-sdk"]
    print(f"Clerk fresh session token / clerk-backend-api: {fresh:.3f} (target <= 0.85)")
    return 0


def machine_report(per_request: dict[str, float]) -> int:
    """The machine-token rows against a repeated session token in the header."""
    session = per_request["clerk-session-header"]
    print("| variant | instructions per request | x repeated session token |")
    print("|---|---:|---:|")
    for mode in MACHINE_VARIANTS:
        print(f"| {mode} | {per_request[mode]:,.0f} | {per_request[mode] / session:.3f} |")
    worst = max(per_request[m] for m in MACHINE_TOKENS) / session
    print(f"\nrepeated API key or M2M token / repeated session token: {worst:.3f} (target <= 1.2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
