"""Testing helpers: mint real signed tokens and fake an identity provider's endpoints.

:class:`TestIssuer` generates keys, serves an OpenID Connect discovery document and JWKS (through
``responses`` or a real loopback HTTP server) and signs tokens, including hostile ones. The pytest
plugin in :mod:`flask_idguard.testing.plugin` provides it as the ``idguard_issuer`` fixture.
:class:`ClerkTestInstance` signs Clerk session tokens and signs test clients in (``idguard_clerk``);
the ``idguard_devidp`` fixture runs the local identity provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from .clerk import ClerkTestInstance
    from .dpop import DPoPKey
    from .issuer import TestIssuer
    from .issuer import b64url

__all__ = ["ClerkTestInstance", "DPoPKey", "TestIssuer", "b64url"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that loading the pytest plugin stays cheap.
    if name == "ClerkTestInstance":
        from . import clerk

        return clerk.ClerkTestInstance
    if name == "DPoPKey":
        from . import dpop

        return dpop.DPoPKey
    if name in __all__:
        from . import issuer

        return getattr(issuer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
