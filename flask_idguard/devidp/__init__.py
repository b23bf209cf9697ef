"""A local identity provider for development and tests: Clerk and Auth0, offline.

``DevIdP`` emulates a Clerk instance (the Frontend API's handshake, dev browser and sign-in
pages; the Backend API's users, sessions and handshake payloads), an Auth0 tenant (client
credentials, the Management API's users) and an OIDC issuer, with real RS256 keys and
sessions whose tokens expire, so the handshake runs for real. The library never imports this
package; run it with ``python -m flask_idguard.devidp``, serve it from tests with
:meth:`DevIdP.serve`, or mount :attr:`DevIdP.app` inside an app.
"""

from __future__ import annotations

from .config import DevIdPConfig
from .seed import DEFAULT_SEED
from .seed import Seed
from .seed import SeedError
from .server import DevIdP

__all__ = ["DEFAULT_SEED", "DevIdP", "DevIdPConfig", "Seed", "SeedError"]
