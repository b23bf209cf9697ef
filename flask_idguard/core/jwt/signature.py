"""Signature checks: the header rules, the key by exact ``kid``, the algorithm bound to the key;
and :func:`verify`, signature before claims."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from typing import NamedTuple

from joserfc.jwk import Key
from joserfc.jws import JWSRegistry

from ..keys import KeySource
from .algorithms import ASYMMETRIC_ALGORITHMS
from .claims import check_claims
from .claims import check_validators
from .parse import TokenError
from .parse import Unverified
from .parse import decode_unverified
from .parse import shown
from .policy import Policy

__all__ = ["KEY_MATERIAL_HEADERS", "VerifiedToken", "check_signature", "verify", "verify_signature"]

#: Header members that carry or point at key material. Keys come only from the
#: configured key set, so a token that brings its own is refused outright.
KEY_MATERIAL_HEADERS = ("jku", "x5u", "x5c", "jwk")

_ALG_MODELS = {name: JWSRegistry.algorithms[name] for name in ASYMMETRIC_ALGORITHMS}


class VerifiedToken(NamedTuple):
    """A token whose signature and claims passed the policy."""

    token: str
    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    kid: str | None

    def __repr__(self) -> str:  # the token is a credential: never in a log line
        return f"VerifiedToken(header={self.header!r}, claims={self.claims!r}, kid={self.kid!r})"


def _check_header(header: Mapping[str, Any], policy: Policy) -> str:
    """Return the header's ``alg`` after the checks that need no key."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in policy.algorithms:
        allowed = ",".join(sorted(policy.algorithms))
        raise TokenError(
            "token-invalid-algorithm",
            f"Invalid JWT algorithm {shown(alg)}. Supported: {allowed}.",
            alg=alg,
        )
    if "crit" in header:
        raise TokenError(
            "token-invalid-header",
            "The JWT header lists critical extensions (crit) that are not understood.",
        )
    for name in KEY_MATERIAL_HEADERS:
        if name in header:
            raise TokenError(
                "token-invalid-header",
                f'The JWT header carries "{name}": keys come only from the configured key set.',
            )
    if policy.typ is not None:
        typ = header.get("typ")
        if typ is None:
            ok = None in policy.typ
        else:  # an array or object is refused before any set lookup (unhashable)
            ok = isinstance(typ, str) and typ.lower() in policy.typ_lowered
        if not ok:
            expected = ", ".join(sorted(t for t in policy.typ if t is not None))
            raise TokenError(
                "token-invalid",
                f"Invalid JWT type {'undefined' if typ is None else shown(typ)}. "
                f'Expected "{expected}".',
                typ=typ,
            )
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenError("jwk-kid-mismatch", "The JWT kid header is not a string.")
    return alg


#: (key, alg) pairs found to fit: a key object is immutable, so it is checked once.
#: Holding the key keeps its ``id`` from being reused; bounded, cleared when full.
_FITTING: dict[tuple[int, str], Key] = {}
_FITTING_MAX = 256


def _check_key(key: Key, alg: str) -> None:
    if _FITTING.get((id(key), alg)) is key:
        return
    _check_key_once(key, alg)
    if len(_FITTING) >= _FITTING_MAX:
        _FITTING.clear()
    _FITTING[(id(key), alg)] = key


def _check_key_once(key: Key, alg: str) -> None:
    model = _ALG_MODELS[alg]
    key_alg = key.alg
    if key.key_type != model.key_type or (key_alg is not None and key_alg != alg):
        raise TokenError(
            "token-invalid-algorithm",
            f"Invalid JWT algorithm {shown(alg)}: the key with this kid is for another algorithm.",
            alg=alg,
        )
    check = getattr(model, "check_key", None)
    if check is not None:
        try:
            check(key)
        except Exception as exc:
            raise TokenError(
                "token-invalid-algorithm",
                f"Invalid JWT algorithm {shown(alg)}: the key with this kid does not fit it.",
                alg=alg,
            ) from exc


def check_signature(parsed: Unverified, key: Key, alg: str) -> None:
    """Check that ``key`` fits ``alg`` and signed ``parsed``; raise :class:`TokenError` if not.

    ``alg`` must be one of :data:`ASYMMETRIC_ALGORITHMS` (the caller's allow-list check).
    """
    _check_key(key, alg)
    try:
        valid = _ALG_MODELS[alg].verify(parsed.signing_input, parsed.signature, key)
    except Exception as exc:
        raise TokenError(
            "token-verification-failed", f"Error verifying JWT signature. {type(exc).__name__}"
        ) from exc
    if not valid:
        raise TokenError("token-invalid-signature", "JWT signature is invalid.")


def verify_signature(p: Unverified, keys: KeySource, policy: Policy) -> str | None:
    """Check the header (alg allow-list, no key material, typ), find the key by ``kid`` and
    check the signature; return the kid.

    Claims are not looked at: :func:`verify` adds them, and a handshake token (Clerk) is
    checked with this step alone.
    """
    alg = _check_header(p.header, policy)
    kid = p.header.get("kid")
    key = keys.get(kid)
    if key is None:
        raise TokenError(
            "jwk-kid-mismatch",
            "Unable to find a signing key that matches the JWT kid"
            + (f" {shown(kid)}." if kid is not None else " (the token has no kid)."),
            kid=kid,
        )
    check_signature(p, key, alg)
    return kid


def verify(
    token: str,
    keys: KeySource,
    policy: Policy,
    *,
    now: float | None = None,
    parsed: Unverified | None = None,
) -> VerifiedToken:
    """Verify ``token`` against ``keys`` and ``policy``; signature before claims.

    Raises :class:`TokenError` for any token that must not be trusted, and
    :class:`~flask_idguard.core.keys.KeysUnavailable` when no key set can be had.
    """
    p = parsed if parsed is not None else decode_unverified(token, max_bytes=policy.max_token_bytes)
    kid = verify_signature(p, keys, policy)
    check_claims(p.claims, policy, time.time() if now is None else now)
    if policy.validators:
        check_validators(p.header, p.claims, policy)
    return VerifiedToken(token, p.header, p.claims, kid)
