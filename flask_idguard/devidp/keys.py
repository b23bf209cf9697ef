"""Signing keys: the Clerk instance's and the Auth0 tenant's RSA keys, and JWS signing."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

__all__ = ["SigningKey"]

#: Clerk's token category header (``cat``) is not a registered JWS header.
_REGISTRY = JWSRegistry(header_registry={"cat": HeaderParameter("Clerk token category", "str")})


class SigningKey:
    """An RS256 key pair with a ``kid``: signs tokens, publishes its public JWK."""

    def __init__(self, key: RSAKey) -> None:
        if key.kid is None or not key.is_private:
            raise ValueError("a signing key needs a kid and its private part")
        self.key = key

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        kid = kid or "ins_" + secrets.token_hex(12)
        return cls(RSAKey.generate_key(2048, parameters={"kid": kid}, private=True))

    @classmethod
    def from_pem(cls, pem: str, kid: str) -> SigningKey:
        return cls(RSAKey.import_key(pem, parameters={"kid": kid}))

    @property
    def kid(self) -> str:
        assert self.key.kid is not None
        return self.key.kid

    def private_pem(self) -> str:
        return self.key.as_pem(private=True).decode("ascii")

    def public_pem(self) -> str:
        return self.key.as_pem(private=False).decode("ascii")

    def public_jwk(self) -> dict[str, Any]:
        """The public JWK as Clerk's and Auth0's JWKS list it."""
        return {**self.key.as_dict(private=False), "alg": "RS256", "use": "sig"}

    def sign(self, claims: Mapping[str, Any], **header: str) -> str:
        """A compact JWS of ``claims`` (RS256, this key's ``kid``, ``typ: JWT``)."""
        fields = {"alg": "RS256", "kid": self.kid, "typ": "JWT", **header}
        return jwt.encode(fields, dict(claims), self.key, registry=_REGISTRY)
