"""Apps for the hardening tests: every decorator, and a view that reads every ``current_auth``
attribute and ``has()``; the configurations the property tests run through."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import Flask
from flask import Response
from flask import jsonify

from flask_idguard import IdGuard
from flask_idguard import claim_check
from flask_idguard import claim_equals
from flask_idguard import claim_includes
from flask_idguard import current_auth
from flask_idguard import has_permission
from flask_idguard import has_role
from flask_idguard import requires_auth
from flask_idguard import scopes_include
from flask_idguard.testing import ClerkTestInstance
from flask_idguard.testing import TestIssuer

API_URL = "https://api.clerk.test"
#: The app's origin in every request (the test client's base URL).
ORIGIN = "https://app.test"
SIGN_IN = "https://accounts.example/sign-in"
NAMESPACE = "https://ns.example/"

#: The has() questions the inspecting view asks.
HAS_ARGS: tuple[dict[str, Any], ...] = (
    {"permission": "org:billing:manage"},
    {"role": "org:admin"},
    {"role": "admin"},
    {"scope": "read:a"},
    {"feature": "o:export"},
    {"plan": "u:pro"},
    {"reverification": "strict_mfa"},
    {"reverification": {"level": "second_factor", "after_minutes": 10}},
    {"permission": "p", "role": "r", "feature": "f", "plan": "pl", "reverification": "lax"},
)


def inspect() -> Response:
    """Every attribute of ``current_auth``, ``has()`` and ``get_token()``, as JSON."""
    auth = current_auth
    answer = {
        "status": auth.status,
        "signed_in": bool(auth),
        "provider": auth.provider,
        "reason": auth.reason,
        "message": auth.message,
        "failure": auth.failure,
        "claims": dict(auth.claims),
        "token": auth.token,
        "token_type": auth.token_type,
        "scopes": sorted(auth.scopes),
        "permissions": sorted(auth.permissions),
        "roles": sorted(auth.roles),
        "org": [auth.org_id, auth.org_role, auth.org_slug, sorted(auth.org_permissions)],
        "session": [auth.session_status, auth.user_id, auth.session_id],
        "actor": None if auth.actor is None else dict(auth.actor),
        "fva": auth.factor_verification_age,
        "custom": dict(auth.custom_claims),
        "headers": list(auth.headers),
        "redirect": auth.redirect,
        "scheme": auth.scheme,
        "has": [auth.has(**args) for args in HAS_ARGS],
        "get_token": auth.get_token(),
        "repr": repr(auth),
    }
    json.dumps(answer)  # whatever the claims hold, they serialise
    return jsonify(answer)


#: Each protected view: path → decorator applied to :func:`inspect`.
GUARDS: dict[str, Any] = {
    "/required": requires_auth,
    "/required-no-redirect": requires_auth(redirect=False),
    "/optional": requires_auth(optional=True),
    "/pass-invalid": requires_auth(optional=True, pass_invalid=True),
    "/scoped": requires_auth(scopes="read:a read:b"),
    "/any-scope": scopes_include(["read:a", "read:b"], match="any"),
    "/permission": has_permission("org:billing:manage"),
    "/role": has_role("admin"),
    "/equals": claim_equals("tier", "gold"),
    "/includes": claim_includes("groups", ["a", 1, True, None]),
    "/check": claim_check(lambda c: c.get("age", 0) >= 18),
}
#: Clerk's organization sync paths, and the view that reads the state without a guard.
PATHS = ("/inspect", "/orgs/acme", "/orgs/acme/settings", "/me", *GUARDS)


def build(config: Mapping[str, Any]) -> Flask:
    """An app with ``config``, the inspecting view at every path of :data:`PATHS`."""
    app = Flask("idguard-hardening")
    app.config.update(config, TESTING=True)  # an exception fails the test with its traceback
    IdGuard(app)
    methods = ["GET", "POST", "HEAD", "OPTIONS", "PUT"]
    app.add_url_rule("/inspect", "inspect", inspect, methods=methods)
    app.add_url_rule("/orgs/<path:rest>", "orgs", lambda rest: inspect(), methods=methods)
    app.add_url_rule("/me", "me", lambda: inspect(), methods=methods)
    for path, guard in GUARDS.items():
        app.add_url_rule(path, path, guard(inspect), methods=methods)
    return app


@dataclass
class Setup:
    """One configuration: its app and who signs its tokens."""

    name: str
    app: Flask
    #: The OIDC/Auth0 issuer, or None.
    issuer: TestIssuer | None = None
    #: The Clerk instance, or None.
    clerk: ClerkTestInstance | None = None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "clerk" if self.clerk is not None else "token"


def _validators() -> dict[str, Any]:
    return {"tier": "gold", "groups": lambda value, claims, header: "a" in value}


def oidc_setups(issuer: TestIssuer) -> list[Setup]:
    """OIDC with and without authorized parties, strict, validators, each DPoP mode; Auth0."""
    base = {
        "IDGUARD_ISSUER": issuer.issuer,
        "IDGUARD_AUDIENCE": issuer.audience,
        "IDGUARD_PUBLIC_KEYS": issuer.jwks(),
        "IDGUARD_SIGN_IN_URL": SIGN_IN,
    }
    variants: dict[str, dict[str, Any]] = {
        "oidc": {},
        "oidc-parties-strict-validators": {
            "IDGUARD_AUTHORIZED_PARTIES": ["client-a"],
            "IDGUARD_STRICT": True,
            "IDGUARD_VALIDATORS": _validators(),
            "IDGUARD_MAX_TOKEN_AGE": 3600,
        },
        "oidc-dpop-required-nonce": {"IDGUARD_DPOP": "required", "IDGUARD_DPOP_NONCE": True},
        "oidc-dpop-disabled-query-form": {
            "IDGUARD_DPOP": "disabled",
            "IDGUARD_DPOP_REJECT_BOUND_BEARER": True,
            "IDGUARD_ALLOW_QUERY_TOKEN": True,
            "IDGUARD_ALLOW_FORM_TOKEN": True,
        },
    }
    setups = [
        Setup(n, build({**base, **v}), issuer=issuer, config={**base, **v})
        for n, v in variants.items()
    ]
    auth0 = {
        "AUTH0_ISSUER": issuer.issuer,
        "AUTH0_PUBLIC_KEY": issuer.jwks(),
        "AUTH0_AUDIENCE": issuer.audience,
        "AUTH0_CLAIMS_NAMESPACE": NAMESPACE,
        "AUTH0_STRICT": True,
    }
    setups.append(Setup("auth0-namespace-strict", build(auth0), issuer=issuer))
    return setups


def clerk_setups(prod: ClerkTestInstance, dev: ClerkTestInstance) -> list[Setup]:
    """Clerk production, development, satellites, a proxy, organization sync, authorized
    parties; and Clerk next to an OIDC issuer."""
    org_sync = {
        "organization_patterns": ["/orgs/:slug", "/orgs/:slug/(.*)"],
        "personal_account_patterns": ["/me"],
    }
    variants: list[tuple[str, ClerkTestInstance, dict[str, Any]]] = [
        ("clerk-prod", prod, {"CLERK_SIGN_IN_URL": SIGN_IN}),
        (
            "clerk-prod-parties-org-sync",
            prod,
            {"CLERK_AUTHORIZED_PARTIES": [ORIGIN], "CLERK_ORGANIZATION_SYNC_OPTIONS": org_sync},
        ),
        ("clerk-dev", dev, {"CLERK_AUTHORIZED_PARTIES": ["http://localhost:3000", ORIGIN]}),
        (
            "clerk-dev-satellite",
            dev,
            {"CLERK_IS_SATELLITE": True, "CLERK_DOMAIN": "app.test", "CLERK_SIGN_IN_URL": SIGN_IN},
        ),
        ("clerk-prod-satellite-autosync", prod, {"CLERK_IS_SATELLITE": True,
                                                  "CLERK_DOMAIN": "app.test",
                                                  "CLERK_SATELLITE_AUTO_SYNC": True}),
        ("clerk-prod-proxy", prod, {"CLERK_PROXY_URL": "/__clerk"}),
        ("clerk-dev-proxy-org-sync", dev, {"CLERK_PROXY_URL": "https://app.test/__clerk",
                                           "CLERK_ORGANIZATION_SYNC_OPTIONS": org_sync}),
    ]  # fmt: skip
    return [
        Setup(name, build(instance.config(CLERK_API_URL=API_URL, **extra)), clerk=instance)
        for name, instance, extra in variants
    ]


def mixed_setup(clerk: ClerkTestInstance, issuer: TestIssuer) -> Setup:
    """Clerk and an OIDC issuer (DPoP allowed) in one app."""
    config = clerk.config(
        CLERK_API_URL=API_URL,
        IDGUARD_ISSUER=issuer.issuer,
        IDGUARD_AUDIENCE=issuer.audience,
        IDGUARD_PUBLIC_KEYS=issuer.jwks(),
    )
    return Setup("clerk-and-oidc", build(config), issuer=issuer, clerk=clerk)
