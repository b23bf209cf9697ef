"""The algorithms a key set may be configured with, and the one check of a configured list."""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["ASYMMETRIC_ALGORITHMS", "check_algorithms"]

#: Algorithms a key set may be configured with: asymmetric signatures only.
ASYMMETRIC_ALGORITHMS = frozenset(
    {
        "RS256", "RS384", "RS512",
        "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512",
        "EdDSA", "Ed25519",
    }
)  # fmt: skip


def check_algorithms(values: Collection[str], *, what: str = "") -> frozenset[str]:
    """Validate a configured algorithm list (asymmetric only, not empty) and freeze it.

    ``what`` names the list's use in the message (``" for DPoP proofs"``).

    :raises ValueError: naming the refused values.
    """
    algs = frozenset(values)
    bad = sorted(a for a in algs if a not in ASYMMETRIC_ALGORITHMS)
    if bad or not algs:
        raise ValueError(
            f"{bad or 'an empty list'} cannot be used{what}: only asymmetric algorithms are "
            f"accepted ({', '.join(sorted(ASYMMETRIC_ALGORITHMS))}). HS* and none are refused "
            "because a public key must never be usable as an HMAC secret."
        )
    return algs
