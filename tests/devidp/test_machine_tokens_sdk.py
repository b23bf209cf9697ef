"""Wire compatibility of the local identity provider's machine tokens: Clerk's own
``@clerk/backend`` 3.25.0 creates, verifies and revokes M2M tokens and API keys on it, and
authenticates requests carrying them (``tests/differential/devidp_machines.mjs``).

Needs ``make differential-deps``; skipped without it, and failed instead when ``CI`` is set.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from flask_idguard.devidp import DevIdP

from ..clerk.test_differential import NODE_DIR
from ..clerk.test_differential import clerk_backend_node


def run_sdk(idp: DevIdP) -> dict[str, dict[str, Any]]:
    node, env = clerk_backend_node("@clerk/backend's machine tokens against the provider")
    job = {
        "env": {k: v for k, v in idp.env().items() if k.startswith("CLERK_")},
        "machineSecretKey": "ak_devidp_machine_secret",
        "appUrl": "http://127.0.0.1:3000/api/machine",
        "userId": "user_alice",
    }
    proc = subprocess.run(
        [node, "devidp_machines.mjs"], cwd=NODE_DIR, input=json.dumps(job), capture_output=True,
        text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    steps: list[dict[str, Any]] = json.loads(proc.stdout)["steps"]
    by_step: dict[str, dict[str, Any]] = {}
    for entry in steps:
        by_step.setdefault(entry["step"], {}).update(entry)
    return by_step


def test_clerks_sdk_on_the_providers_machine_tokens(provider: DevIdP) -> None:
    steps = run_sdk(provider)
    errors = {name: s["error"] for name, s in steps.items() if s.get("error")}
    assert errors == {}
    assert steps["m2m-verify"]["subject"] == "mch_devidp_machine"
    assert steps["m2m-verify"]["claims"] == {"env": "sdk"}
    m2m = steps["m2m-request"]
    assert (m2m["status"], m2m["tokenType"], m2m["machineId"]) == (
        "signed-in",
        "m2m_token",
        "mch_devidp_machine",
    )
    assert steps["m2m-request-as-api-key"]["reason"] == "token-type-mismatch"
    revoked = steps["m2m-request-revoked"]
    assert (revoked["status"], revoked["reason"]) == ("signed-out", "token-invalid")
    assert revoked["message"] == "Machine token not found (code=token-invalid, status=404)"
    jwt = steps["m2m-jwt-request"]
    assert (jwt["status"], jwt["machineId"]) == ("signed-in", "mch_devidp_machine")
    key = steps["api-key-request"]
    assert (key["status"], key["userId"], key["scopes"], key["claims"]) == (
        "signed-in",
        "user_alice",
        ["read"],
        {"team": "t"},
    )
    assert steps["api-key-request-revoked"]["reason"] == "token-invalid"
