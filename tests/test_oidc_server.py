"""Against a real OpenID Provider: panva's certified ``oidc-provider``, started on loopback.

``tests/oidc_server/server.js`` issues JWT access tokens for resource indicators by client
credentials, plain or DPoP-bound. IdGuard is configured with nothing but the issuer URL and
the audience: discovery, JWKS and verification all run against the real server. ``make
test`` installs the server (``npm ci`` in ``tests/oidc_server``); without node these tests
are skipped, saying so.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import time_machine
from flask import Flask

from flask_idguard.testing import DPoPKey

from .conftest import build_app

SERVER_DIR = Path(__file__).parent / "oidc_server"
API = "https://api.test"
OTHER_API = "https://other-api.test"
CLIENT = {"client_id": "idguard-tests", "client_secret": "idguard-tests-secret"}
START_TIMEOUT = 20.0


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[str]:
    """Start the OpenID Provider on a free loopback port; yield its issuer URL."""
    node = shutil.which("node")
    if node is None:
        pytest.skip(
            "SKIPPED: node is not installed, so the tests against a real OpenID Provider "
            "(oidc-provider) cannot run. Install Node.js >= 20 and run `make test`."
        )
    if not (SERVER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(
            "oidc-provider is not installed: run `make test` (or `npm ci` in tests/oidc_server)."
        )
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            [node, "server.js"],
            cwd=SERVER_DIR,
            stdout=subprocess.PIPE,
            stderr=errors,
            env={**os.environ, "NODE_ENV": "test"},
        )
        try:
            yield _wait_until_listening(proc, errors)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck server
                proc.kill()
                proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()


def _wait_until_listening(proc: subprocess.Popen[bytes], errors: Any) -> str:
    """The issuer the server announces once it accepts connections."""
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([proc.stdout], [], [], max(remaining, 0))
        chunk = os.read(proc.stdout.fileno(), 1) if ready else b""
        if not chunk:
            errors.seek(0)
            raise RuntimeError(
                "the OpenID Provider did not start: "
                + errors.read().decode("utf-8", "replace")[-2000:]
            )
        line += chunk
    word, issuer = line.decode().split()
    assert word == "listening"
    return issuer


@pytest.fixture(scope="session")
def token_endpoint(oidc_server: str) -> str:
    metadata = requests.get(f"{oidc_server}/.well-known/openid-configuration", timeout=5).json()
    assert metadata["issuer"] == oidc_server
    return str(metadata["token_endpoint"])


def get_token(
    token_endpoint: str, *, resource: str = API, key: DPoPKey | None = None
) -> dict[str, Any]:
    """Client credentials at the real token endpoint; with ``key``, a DPoP-bound token."""
    headers = {"DPoP": key.proof("POST", token_endpoint)} if key is not None else {}
    data = {"grant_type": "client_credentials", "resource": resource, "scope": "read:a read:b"}
    r = requests.post(token_endpoint, data={**data, **CLIENT}, headers=headers, timeout=5)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def make_oidc_app(oidc_server: str) -> Any:
    def make(**config: Any) -> Flask:
        return build_app(IDGUARD_ISSUER=oidc_server, IDGUARD_AUDIENCE=API, **config)

    return make


def dpop_get(app: Flask, token: str, proof: str | None, path: str = "/all") -> Any:
    headers = {"Authorization": f"DPoP {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return app.test_client().get(path, base_url="https://api.test", headers=headers)


def test_plain_token_is_accepted(make_oidc_app: Any, token_endpoint: str) -> None:
    issued = get_token(token_endpoint)
    assert issued["token_type"] == "Bearer"
    app = make_oidc_app()
    r = app.test_client().get("/all", headers={"Authorization": f"Bearer {issued['access_token']}"})
    assert r.status_code == 200, r.json
    claims = r.json["claims"]
    assert (claims["client_id"], claims["aud"], claims["scope"]) == (
        "idguard-tests",
        API,
        "read:a read:b",
    )


def test_dpop_bound_token_is_accepted_with_its_proof(
    make_oidc_app: Any, token_endpoint: str
) -> None:
    key = DPoPKey()
    issued = get_token(token_endpoint, key=key)
    assert issued["token_type"] == "DPoP"
    token = issued["access_token"]
    app = make_oidc_app()
    r = dpop_get(app, token, key.proof("GET", "https://api.test/all", token))
    assert r.status_code == 200, r.json
    assert r.json["claims"]["cnf"] == {"jkt": key.jkt}
    r = app.test_client().get("/all", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.json["error_description"] == (
        "DPoP-bound token requires the DPoP authentication scheme, not Bearer"
    )


def test_tampered_token_is_rejected(make_oidc_app: Any, token_endpoint: str) -> None:
    token = get_token(token_endpoint)["access_token"]
    head, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    r = (
        make_oidc_app()
        .test_client()
        .get("/all", headers={"Authorization": f"Bearer {head}.{payload}.{flipped}"})
    )
    assert r.status_code == 401
    assert r.headers.getlist("WWW-Authenticate")[0] == (
        'Bearer error="invalid_token", error_description="JWT signature is invalid."'
    )


def test_expired_token_is_rejected(make_oidc_app: Any, token_endpoint: str) -> None:
    issued = get_token(token_endpoint)
    app = make_oidc_app()
    auth = {"Authorization": f"Bearer {issued['access_token']}"}
    assert app.test_client().get("/all", headers=auth).status_code == 200
    with time_machine.travel(time.time() + issued["expires_in"] + 10, tick=False):
        r = app.test_client().get("/all", headers=auth)
    assert r.status_code == 401
    assert r.json["error_description"].startswith("JWT is expired.")


def test_token_for_another_audience_is_rejected(make_oidc_app: Any, token_endpoint: str) -> None:
    token = get_token(token_endpoint, resource=OTHER_API)["access_token"]
    r = make_oidc_app().test_client().get("/all", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.json["error_description"] == (
        f'Unexpected \'aud\' value "{OTHER_API}"; expected one of ["{API}"].'
    )


def test_stale_or_replayed_proofs_are_rejected(make_oidc_app: Any, token_endpoint: str) -> None:
    key = DPoPKey()
    token = get_token(token_endpoint, key=key)["access_token"]
    app = make_oidc_app()
    stale = key.proof("GET", "https://api.test/all", token, now=time.time() - 400)
    r = dpop_get(app, token, stale)
    assert r.status_code == 400
    assert r.json == {
        "error": "invalid_dpop_proof",
        "error_description": 'DPoP proof "iat" is outside the acceptable range',
    }
    assert r.headers.getlist("WWW-Authenticate")[1].startswith('DPoP error="invalid_dpop_proof"')
    proof = key.proof("GET", "https://api.test/all", token)
    assert dpop_get(app, token, proof).status_code == 200
    replayed = dpop_get(app, token, proof)
    assert replayed.status_code == 400
    assert replayed.json["error_description"].startswith('DPoP proof "jti" has already been used')


def test_required_mode_and_nonces_with_real_tokens(make_oidc_app: Any, token_endpoint: str) -> None:
    app = make_oidc_app(IDGUARD_DPOP="required", IDGUARD_DPOP_NONCE=True)
    plain = get_token(token_endpoint)["access_token"]
    r = app.test_client().get("/all", headers={"Authorization": f"Bearer {plain}"})
    assert r.status_code == 400
    assert r.headers.getlist("WWW-Authenticate")[0].startswith("DPoP algs=")
    key = DPoPKey()
    token = get_token(token_endpoint, key=key)["access_token"]
    r = dpop_get(app, token, key.proof("GET", "https://api.test/all", token))
    assert r.status_code == 401 and r.json["error"] == "use_dpop_nonce"
    nonce = r.headers["DPoP-Nonce"]
    r = dpop_get(app, token, key.proof("GET", "https://api.test/all", token, nonce=nonce))
    assert r.status_code == 200
