"""Auth0 discovery through the app (spec §8.1 item 7; node ``discovery.test.ts`` cases)."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from flask_idguard.testing import TestIssuer

from .conftest import bearer
from .conftest import build_app

DOMAIN = "tenant.auth0.test"
ISSUER = f"https://{DOMAIN}/"
OIDC = ISSUER + ".well-known/openid-configuration"
RFC8414 = ISSUER + ".well-known/oauth-authorization-server"


def _doc(tenant: TestIssuer, **changes: Any) -> dict[str, Any]:
    doc = tenant.discovery()
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


@pytest.mark.parametrize(
    ("oidc", "rfc8414", "status", "calls"),
    [
        ("doc", None, 200, (1, 0)),
        (404, "doc", 200, (1, 1)),  # RFC 8414 location when the OIDC document is missing
        (500, "doc", 503, (1, 0)),  # a server error is an outage: no fallback
        (404, 404, 503, (1, 1)),  # both missing
        (b"<html>", None, 503, (1, 0)),  # not JSON
        ({"jwks_uri": "https://x/j"}, None, 503, (1, 0)),  # no issuer
        ("no-jwks-uri", None, 503, (1, 0)),
        ("other-issuer", None, 401, (1, 0)),  # names another issuer: not an outage
    ],
    ids=[
        "openid-configuration",
        "oauth-authorization-server-fallback",
        "500-no-fallback",
        "both-404",
        "not-json",
        "missing-issuer",
        "missing-jwks-uri",
        "issuer-mismatch",
    ],
)
def test_discovery_outcomes(
    idguard_responses: responses.RequestsMock,
    oidc: Any,
    rfc8414: Any,
    status: int,
    calls: tuple[int, int],
) -> None:
    tenant = TestIssuer(ISSUER, audience="https://api")
    documents = {
        "doc": _doc(tenant),
        "no-jwks-uri": _doc(tenant, jwks_uri=None),
        "other-issuer": _doc(tenant, issuer="https://other.test/"),
    }
    counted: dict[str, responses.BaseResponse] = {}
    for name, url, answer in (("oidc", OIDC, oidc), ("rfc8414", RFC8414, rfc8414)):
        if answer is None:
            continue
        if isinstance(answer, int):
            counted[name] = idguard_responses.get(url, status=answer, json={"error": "x"})
        elif isinstance(answer, bytes):
            counted[name] = idguard_responses.get(url, body=answer)
        else:
            counted[name] = idguard_responses.get(
                url, json=documents[answer] if isinstance(answer, str) else answer
            )
    idguard_responses.get(tenant.jwks_uri, json=tenant.jwks())
    app = build_app(AUTH0_DOMAIN=DOMAIN, AUTH0_AUDIENCE="https://api")
    r = app.test_client().get("/me", headers=bearer(tenant.token()))
    assert r.status_code == status
    seen = tuple(counted[n].call_count if n in counted else 0 for n in ("oidc", "rfc8414"))
    assert seen == calls
