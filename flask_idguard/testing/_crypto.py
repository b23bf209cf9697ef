"""Keys, JWS signatures and encodings shared by :class:`TestIssuer` and :class:`DPoPKey`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import Protocol
from typing import TypeAlias

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc import jwk
from joserfc.jwk import KeyParameters

from ..core.jwt import ASYMMETRIC_ALGORITHMS

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}
#: The algorithms a :class:`TestIssuer` key can have: every one the library verifies.
SUPPORTED_ALGORITHMS = tuple(sorted(ASYMMETRIC_ALGORITHMS))


class SupportsJkt(Protocol):
    """What :meth:`TestIssuer.token` needs of a DPoP key: its RFC 7638 thumbprint."""

    @property
    def jkt(self) -> str: ...


def b64url(data: bytes) -> str:
    """Encode ``data`` as unpadded base64url (RFC 7515 §2), the encoding of JWT segments."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compact_json(value: object) -> bytes:
    """``value`` as JSON without whitespace, UTF-8 encoded."""
    return json.dumps(value, separators=(",", ":")).encode()


def check_algorithm(alg: str) -> None:
    """Raise :exc:`ValueError` unless ``alg`` is in :data:`SUPPORTED_ALGORITHMS`."""
    if alg not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"unsupported alg {alg!r}; use one of {', '.join(SUPPORTED_ALGORITHMS)}")


def generate_key(alg: str) -> PrivateKey:
    """A new private key for ``alg``: RSA 2048, the algorithm's EC curve, or Ed25519."""
    if alg[:2] in ("RS", "PS"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg in _CURVES:
        return ec.generate_private_key(_CURVES[alg])
    return ed25519.Ed25519PrivateKey.generate()


def sign(alg: str, key: PrivateKey, data: bytes) -> bytes:
    """The JWS signature of ``data`` by ``key`` with ``alg``."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    digest = _HASHES[alg[2:]]()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        # JWS wants the fixed-size r || s form (RFC 7518 §3.4), not DER.
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest)))
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if alg.startswith("PS"):
        pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        return key.sign(data, pss, digest)
    return key.sign(data, padding.PKCS1v15(), digest)


@dataclass(frozen=True)
class Key:
    """A private key with its ``kid`` and algorithm."""

    kid: str
    alg: str
    private: PrivateKey

    def public_pem(self) -> bytes:
        """The SubjectPublicKeyInfo PEM of the public key."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def public_jwk(self) -> jwk.Key:
        """The public key as a joserfc key with ``kid``, ``alg`` and ``use``."""
        params: KeyParameters = {"kid": self.kid, "alg": self.alg, "use": "sig"}
        pem = self.public_pem()
        key: jwk.Key  # annotated: joserfc's ``Self`` is Any to mypy for Python 3.10
        if isinstance(self.private, rsa.RSAPrivateKey):
            key = jwk.RSAKey.import_key(pem, params)
        elif isinstance(self.private, ec.EllipticCurvePrivateKey):
            key = jwk.ECKey.import_key(pem, params)
        else:
            key = jwk.OKPKey.import_key(pem, params)
        return key

    def jwk(self) -> dict[str, Any]:
        """The public JWK as a dict, ``kty``, ``kid``, ``use`` and ``alg`` first."""
        exported = self.public_jwk().as_dict(private=False)
        return {"kty": exported["kty"], "kid": self.kid, "use": "sig", "alg": self.alg, **exported}

    def sign_compact(
        self,
        header: bytes | Mapping[str, object],
        payload: bytes | object,
        encode: Callable[[bytes], str] = b64url,
    ) -> str:
        """A compact JWS of the segments (bytes verbatim, anything else as JSON), signed."""
        raw_header = header if isinstance(header, bytes) else compact_json(dict(header))
        raw_payload = payload if isinstance(payload, bytes) else compact_json(payload)
        signing_input = f"{encode(raw_header)}.{encode(raw_payload)}"
        signature = sign(self.alg, self.private, signing_input.encode("ascii"))
        return f"{signing_input}.{encode(signature)}"
