"""DPoP (RFC 9449): proof checks (:mod:`.proof`), ``htu`` normalisation (:mod:`.htu`), the
``jti`` replay cache (:mod:`.replay`) and server nonces (:mod:`.nonces`)."""

from __future__ import annotations

from .htu import URLError
from .htu import normalize_url
from .nonces import NonceIssuer
from .proof import DEFAULT_ALGORITHMS
from .proof import MODES
from .proof import DPoPError
from .proof import DPoPPolicy
from .proof import Mode
from .proof import ath
from .proof import proof_algorithms
from .replay import InProcessReplayCache
from .replay import SharedReplayCache

__all__ = [
    "DEFAULT_ALGORITHMS",
    "MODES",
    "DPoPError",
    "DPoPPolicy",
    "InProcessReplayCache",
    "Mode",
    "NonceIssuer",
    "SharedReplayCache",
    "URLError",
    "ath",
    "normalize_url",
    "proof_algorithms",
]
