"""The identity provider's instance: configuration, seed, state, keys and secret key."""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .config import DevIdPConfig
from .keys import SigningKey
from .seed import DEFAULT_SEED
from .seed import Seed
from .store import Store
from .store import User

__all__ = ["Instance"]

logger = logging.getLogger("flask_idguard.devidp")


class Instance:
    """The identity provider's state: configuration, users and sessions, keys and secret.

    What the views read; :class:`~.server.DevIdP` adds the app and the server.
    """

    def __init__(
        self,
        config: DevIdPConfig | None = None,
        *,
        seed: Seed | None = None,
        state_file: str | Path | None = None,
    ) -> None:
        self.config = config or DevIdPConfig()
        #: The seed it started from (demo users' passwords are printed from it).
        self.seed = seed or DEFAULT_SEED
        self.store = Store(self.seed)
        self.state_file = Path(state_file) if state_file is not None else None
        state = self._read_state()
        prefix = "sk_live_" if self.config.production else "sk_test_"
        self.secret_key: str = state.get("secret_key") or prefix + secrets.token_urlsafe(24)
        self.clerk_key = self._key(state, "clerk", "ins_" + secrets.token_hex(12))
        self.auth0_key = self._key(state, "auth0", "devidp-" + secrets.token_hex(6))
        #: Signs its webhooks (``CLERK_WEBHOOK_SIGNING_SECRET``; :mod:`.webhooks` sends them).
        self.webhook_secret: str = state.get("webhook_secret") or "whsec_" + base64.b64encode(
            secrets.token_bytes(24)
        ).decode("ascii")
        for data in state.get("users", []):
            user = User(**data)
            self.store.users.setdefault(user.id, user)
        self.save()

    # state file ----------------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any]:
        if self.state_file is None or not self.state_file.exists():
            return {}
        data = json.loads(self.state_file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(
                f"{self.state_file} is not a state file of the local identity provider"
            )
        return data

    def _key(self, state: dict[str, Any], name: str, kid: str) -> SigningKey:
        saved = state.get(f"{name}_key")
        if isinstance(saved, dict):
            return SigningKey.from_pem(saved["pem"], saved["kid"])
        return SigningKey.generate(kid)

    def save(self) -> None:
        """Keep the keys, the secret key and the users in the state file, if there is one."""
        if self.state_file is None:
            return
        with self.store.lock:
            data = {
                "secret_key": self.secret_key,
                "webhook_secret": self.webhook_secret,
                "clerk_key": {"kid": self.clerk_key.kid, "pem": self.clerk_key.private_pem()},
                "auth0_key": {"kid": self.auth0_key.kid, "pem": self.auth0_key.private_pem()},
                "users": [asdict(u) for u in self.store.users.values()],
            }
        self.state_file.write_text(json.dumps(data, indent=2), encoding="utf-8")

    def env(self) -> dict[str, str]:
        """The configuration keys an app pastes into ``.env`` to trust this provider."""
        c = self.config
        m2m = next(iter(self.store.m2m_clients.values()), None)
        env = {
            "CLERK_PUBLISHABLE_KEY": c.publishable_key,
            "CLERK_SECRET_KEY": self.secret_key,
            "CLERK_PROXY_URL": c.frontend_api_url,
            "CLERK_API_URL": c.base_url,
            "CLERK_SIGN_IN_URL": c.base_url + "/sign-in",
            "CLERK_WEBHOOK_SIGNING_SECRET": self.webhook_secret,
            "AUTH0_DOMAIN": c.base_url,
            "AUTH0_AUDIENCE": c.audience,
            "IDGUARD_ISSUER": c.oidc_issuer,
            "IDGUARD_AUDIENCE": c.audience,
        }
        if m2m is not None:
            env["AUTH0_CLIENT_ID"] = m2m.client_id
            env["AUTH0_CLIENT_SECRET"] = m2m.client_secret
        return env
