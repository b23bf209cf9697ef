"""Key sets: the interface the verification core uses, and the configured (static) set.

Remote sets live in :mod:`.jwks` (a JWKS URL) and :mod:`.discovery` (OIDC discovery).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol
from typing import cast

from joserfc.jwk import ECKey
from joserfc.jwk import Key
from joserfc.jwk import KeySet
from joserfc.jwk import OKPKey
from joserfc.jwk import RSAKey
from joserfc.jwk import import_key

__all__ = ["KeyIndex", "KeySource", "KeysUnavailable", "StaticKeySet", "import_public_jwk"]

logger = logging.getLogger("flask_idguard")

_ASYMMETRIC_KTY = ("RSA", "EC", "OKP")
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_SIGNING_OKP_CURVES = frozenset({"Ed25519", "Ed448"})


class KeysUnavailable(Exception):
    """No usable key set: the identity provider cannot be reached and nothing (fresh enough) is
    cached."""


class KeySource(Protocol):
    """Where verification finds the key for a token's ``kid``."""

    def get(self, kid: str | None) -> Key | None:
        """The key whose ``kid`` equals ``kid`` exactly, or ``None``.

        :raises KeysUnavailable: when no key set can be had.
        """
        ...


def import_public_jwk(entry: object) -> Key:
    """Import one JWK dict as a public RSA/EC/OKP signature key, or raise ValueError."""
    if not isinstance(entry, Mapping):
        raise ValueError("a JWK must be a JSON object")
    kty = entry.get("kty")
    if kty == "oct":
        raise ValueError("symmetric ('oct') keys are not allowed")
    if kty not in _ASYMMETRIC_KTY:
        raise ValueError(f"unsupported key type {kty!r}")
    if _PRIVATE_MEMBERS.intersection(entry):
        raise ValueError("private keys are not allowed; give the public key")
    kid = entry.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise ValueError("'kid' must be a string")
    use = entry.get("use")
    if use is not None and use != "sig":
        raise ValueError(f"key use {use!r} is not 'sig'")
    key_ops = entry.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise ValueError("'key_ops' does not allow 'verify'")
    try:
        key = import_key(cast("dict[str, Any]", dict(entry)))
    except Exception as exc:
        raise ValueError(f"invalid {kty} key: {type(exc).__name__}") from None
    _check_public_key(key)
    return key


def _check_public_key(key: object) -> None:
    if not isinstance(key, (RSAKey, ECKey, OKPKey)):
        raise ValueError("only RSA, EC and OKP public keys are allowed")
    if key.is_private:
        raise ValueError("private keys are not allowed; give the public key")
    if isinstance(key, OKPKey) and key.curve_name not in _SIGNING_OKP_CURVES:
        raise ValueError(f"OKP curve {key.curve_name} cannot verify signatures")


@dataclass(frozen=True, slots=True)
class KeyIndex:
    """Keys by ``kid``, plus the lone kid-less key when the set is exactly one such key."""

    by_kid: Mapping[str, Key]
    single: Key | None

    @classmethod
    def build(cls, keys: Sequence[Key]) -> KeyIndex:
        by_kid: dict[str, Key] = {}
        for key in keys:
            kid = key.kid
            if kid is not None and kid not in by_kid:
                by_kid[kid] = key
        single = keys[0] if len(keys) == 1 and keys[0].kid is None else None
        return cls(by_kid, single)

    def find(self, kid: str | None) -> Key | None:
        if kid is not None:
            key = self.by_kid.get(kid)
            if key is not None:
                return key
        return self.single


# -- static ------------------------------------------------------------------------------------


class StaticKeySet:
    """A configured set of public keys; never fetches, never raises :class:`KeysUnavailable`."""

    def __init__(self, keys: Sequence[Key]) -> None:
        keys = list(keys)
        if not keys:
            raise ValueError("the key set is empty")
        seen: set[str] = set()
        for key in keys:
            _check_public_key(key)
            kid = key.kid
            if kid is not None:
                if kid in seen:
                    raise ValueError(f"duplicate kid {kid!r} in the key set")
                seen.add(kid)
        self.keys: tuple[Key, ...] = tuple(keys)
        self._index = KeyIndex.build(keys)

    @classmethod
    def from_pem(cls, pem: str | bytes, *, kid: str | None = None) -> StaticKeySet:
        """One public key from a PEM (SPKI public key or X.509 certificate)."""
        data = pem.encode() if isinstance(pem, str) else pem
        if b"PRIVATE KEY" in data:
            raise ValueError("a private key PEM was given; give the public key")
        params: dict[str, str] = {"kid": kid} if kid is not None else {}
        for key_cls in (RSAKey, ECKey, OKPKey):
            try:
                key: Key = key_cls.import_key(data, cast(Any, params or None))
            except Exception:
                continue
            return cls([key])
        raise ValueError("not a PEM-encoded RSA, EC or OKP public key")

    @classmethod
    def from_jwks(cls, data: Mapping[str, object]) -> StaticKeySet:
        """Keys from a JWKS (``{"keys": [...]}``) or a single JWK dict."""
        if not isinstance(data, Mapping):
            raise ValueError("a JWKS must be a JSON object")
        entries = data["keys"] if "keys" in data else [data]
        if not isinstance(entries, list):
            raise ValueError("the JWKS 'keys' member must be a list")
        keys: list[Key] = []
        for i, entry in enumerate(entries):
            try:
                keys.append(import_public_jwk(entry))
            except ValueError as exc:
                raise ValueError(f"JWKS key #{i}: {exc}") from None
        return cls(keys)

    @classmethod
    def from_keyset(cls, ks: KeySet) -> StaticKeySet:
        """Keys from a joserfc :class:`~joserfc.jwk.KeySet`."""
        return cls(list(ks.keys))

    def get(self, kid: str | None) -> Key | None:
        """The key for ``kid``; the lone kid-less key when the set is one such key."""
        return self._index.find(kid)
