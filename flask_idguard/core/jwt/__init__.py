"""JSON Web Tokens: strict parsing, the verification policy, signature and claim checks.

:func:`verify` either returns the :class:`VerifiedToken` or raises :class:`TokenError` carrying
one stable ``reason`` and a human ``message``; :class:`~flask_idguard.core.keys.KeysUnavailable`
when no key set can be had.
"""

from __future__ import annotations

from .algorithms import ASYMMETRIC_ALGORITHMS
from .algorithms import check_algorithms
from .claims import check_claims
from .claims import check_validators
from .claims import is_number
from .claims import json_equal
from .parse import MAX_JSON_DEPTH
from .parse import MAX_TOKEN_BYTES
from .parse import TokenError
from .parse import Unverified
from .parse import decode_unverified
from .parse import shown
from .policy import Policy
from .policy import Validator
from .signature import KEY_MATERIAL_HEADERS
from .signature import VerifiedToken
from .signature import check_signature
from .signature import verify
from .signature import verify_signature

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "KEY_MATERIAL_HEADERS",
    "MAX_JSON_DEPTH",
    "MAX_TOKEN_BYTES",
    "Policy",
    "TokenError",
    "Unverified",
    "Validator",
    "VerifiedToken",
    "check_algorithms",
    "check_claims",
    "check_signature",
    "check_validators",
    "decode_unverified",
    "is_number",
    "json_equal",
    "shown",
    "verify",
    "verify_signature",
]
