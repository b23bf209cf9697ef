"""DPoP for tests: a client key pair that signs proofs (RFC 9449 §4).

Pair it with :meth:`TestIssuer.token(dpop=key) <flask_idguard.testing.TestIssuer.token>`
to mint a token bound to the key (``cnf.jkt``)::

    key = DPoPKey()
    token = idguard_issuer.token(dpop=key)
    proof = key.proof("GET", "http://localhost/me", token=token)
    client.get("/me", headers={"Authorization": f"DPoP {token}", "DPoP": proof})
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from joserfc.jwk import JWKRegistry

from ..core.dpop import ath
from ._crypto import Key
from ._crypto import check_algorithm
from ._crypto import generate_key

__all__ = ["DPoPKey"]


class DPoPKey:
    """A DPoP client key (``ES256`` by default; any algorithm :class:`TestIssuer` knows).

    Attributes: ``alg``, ``jwk`` (the public JWK put in proofs) and ``jkt`` (its RFC 7638
    thumbprint, the ``cnf.jkt`` of tokens bound to it).
    """

    __test__ = False

    def __init__(self, alg: str = "ES256") -> None:
        check_algorithm(alg)
        self.alg = alg
        self._key = Key("dpop", alg, generate_key(alg))
        public = self._key.public_jwk()
        self.jwk: dict[str, Any] = dict(public.as_dict(private=False))
        self.jwk.pop("kid", None)
        self.jwk.pop("use", None)
        self.jwk.pop("alg", None)
        self.jkt: str = public.thumbprint()

    def __repr__(self) -> str:
        return f"DPoPKey(alg={self.alg!r}, jkt={self.jkt!r})"

    def proof(
        self,
        method: str,
        url: str,
        token: str | None = None,
        nonce: str | None = None,
        *,
        header: Mapping[str, object] | None = None,
        now: float | None = None,
        **overrides: object,
    ) -> str:
        """A signed proof for ``method`` ``url``: fresh ``jti``, ``iat`` now (or ``now``).

        With ``token``, the proof carries its ``ath``; with ``nonce``, the server nonce.
        ``overrides`` replace claims (``htu=...``, ``iat=...``; ``None`` removes one) and
        ``header`` replaces header members likewise (``{"typ": "JWT"}``, ``{"jwk": None}``),
        for hostile proofs. The key always signs with its own algorithm.
        """
        hdr: dict[str, object] = {"typ": "dpop+jwt", "alg": self.alg, "jwk": dict(self.jwk)}
        claims: dict[str, object] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time() if now is None else now),
        }
        if token is not None:
            claims["ath"] = ath(token)
        if nonce is not None:
            claims["nonce"] = nonce
        for target, changes in ((hdr, header or {}), (claims, overrides)):
            for name, value in changes.items():
                if value is None:
                    target.pop(name, None)
                else:
                    target[name] = value
        return self.sign_raw(hdr, claims)

    def sign_raw(self, header: bytes | Mapping[str, object], payload: bytes | object) -> str:
        """Sign arbitrary segments (bytes verbatim, anything else as JSON) with this key."""
        return self._key.sign_compact(header, payload)

    def private_jwk(self) -> dict[str, Any]:
        """The key pair as a private JWK: what a proof must never carry."""
        pem = self._key.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return dict(JWKRegistry.import_key(pem, self.jwk["kty"]).as_dict(private=True))
