"""DPoP (RFC 9449): the proof checks and the per-request decision.
 :class:`DPoPPolicy` holds a provider's mode and
limits; :meth:`DPoPPolicy.check_request` takes what a request carried (scheme, token,
``DPoP`` header values, method, URL, the token's verified claims) and either returns the
proof's thumbprint or raises :class:`DPoPError` carrying the RFC error code, a stable
``reason`` and the description the client sees (Auth0's api-js wording where it has one).
Proof checks run in RFC 9449 §4.3 order and reuse :mod:`flask_idguard.core.jwt`'s strict parser
and signature check, so a proof is parsed exactly like an access token.
"""

from __future__ import annotations

import base64
import hashlib
import math
import time
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Literal

from joserfc.jwk import JWKRegistry
from joserfc.jwk import Key

from ..jwt import ASYMMETRIC_ALGORITHMS
from ..jwt import TokenError
from ..jwt import Unverified
from ..jwt import check_algorithms
from ..jwt import check_signature
from ..jwt import decode_unverified
from ..jwt import is_number
from .htu import URLError
from .htu import normalize_url

__all__ = [
    "DEFAULT_ALGORITHMS",
    "MODES",
    "DPoPError",
    "DPoPPolicy",
    "Mode",
    "ath",
    "proof_algorithms",
]

Mode = Literal["allowed", "required", "disabled"]
MODES: tuple[Mode, ...] = ("allowed", "required", "disabled")

#: Proof algorithms accepted by default: every asymmetric algorithm the verification core
#: supports, ES256 first (the one every DPoP client implements). Order is the ``algs=`` order.
DEFAULT_ALGORITHMS: tuple[str, ...] = ("ES256",) + tuple(sorted(ASYMMETRIC_ALGORITHMS - {"ES256"}))

#: Proofs are small (a header with a public key, five claims); larger ones are refused unread.
MAX_PROOF_BYTES = 8 * 1024

_PROOF_TYPES = frozenset({"dpop+jwt", "application/dpop+jwt"})
_KEY_TYPES = frozenset({"EC", "RSA", "OKP"})
#: JWK members that only a private (or symmetric) key has.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

ErrorCode = Literal["invalid_dpop_proof", "invalid_token", "invalid_request", "use_dpop_nonce"]


class DPoPError(Exception):
    """A request that fails DPoP: ``error`` is the RFC code, ``reason`` is stable.

    ``bare`` marks a "no information" answer (RFC 6750 §3.1): the challenge carries no
    error attributes. ``scheme`` is the challenge that carries them when not bare.
    """

    def __init__(
        self,
        error: ErrorCode,
        reason: str,
        message: str,
        *,
        bare: bool = False,
        scheme: Literal["bearer", "dpop"] = "dpop",
    ) -> None:
        super().__init__(message)
        self.error = error
        self.reason = reason
        self.message = message
        self.bare = bare
        self.scheme = scheme

    def __repr__(self) -> str:
        return f"DPoPError({self.error!r}, {self.reason!r}, {self.message!r})"


def _proof_error(reason: str, message: str) -> DPoPError:
    return DPoPError("invalid_dpop_proof", reason, message)


def _token_error(reason: str, message: str) -> DPoPError:
    return DPoPError("invalid_token", reason, message)


def ath(token: str) -> str:
    """``base64url(SHA-256(token))``: the ``ath`` claim of a proof sent with ``token``."""
    digest = hashlib.sha256(token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _embedded_key(header: Mapping[str, Any]) -> Key:
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or not all(isinstance(k, str) for k in jwk):
        raise _proof_error("dpop-proof-jwk-invalid", "Missing or invalid jwk in DPoP proof header")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise _proof_error(
            "dpop-proof-jwk-private",
            "DPoP proof header must not contain private key material",
        )
    kty = jwk.get("kty")
    if not isinstance(kty, str) or kty not in _KEY_TYPES:
        raise _proof_error("dpop-proof-jwk-invalid", "Missing or invalid jwk in DPoP proof header")
    try:
        key = JWKRegistry.import_key(jwk)
    except Exception as exc:
        raise _proof_error(
            "dpop-proof-jwk-invalid", "Missing or invalid jwk in DPoP proof header"
        ) from exc
    if key.is_private:  # pragma: no cover - the member check above catches these first
        raise _proof_error(
            "dpop-proof-jwk-private",
            "DPoP proof header must not contain private key material",
        )
    return key


@dataclass(frozen=True)
class DPoPPolicy:
    """A provider's DPoP rules. Built once at ``init_app``; immutable.

    ``reject_bound_bearer`` makes ``disabled`` refuse a DPoP-bound token sent as Bearer
    instead of accepting it without its proof (Auth0's SDKs accept it: a downgrade).
    ``nonce_check(value) -> bool`` and ``replay_check(key, ttl) -> bool`` are the server
    nonce and ``jti`` replay hooks (see :mod:`.replay` and :mod:`.nonces`).
    """

    mode: Mode = "allowed"
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    iat_offset: float = 300.0
    iat_leeway: float = 30.0
    reject_bound_bearer: bool = False
    nonce_check: Callable[[object], bool] | None = None
    replay_check: Callable[[str, float], bool] | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        check_algorithms(self.algorithms, what=" for DPoP proofs")
        for name in ("iat_offset", "iat_leeway"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0")

    @property
    def offers_bearer(self) -> bool:
        return self.mode != "required"

    @property
    def offers_dpop(self) -> bool:
        return self.mode != "disabled"

    def check_scheme(self, scheme: str) -> None:
        """Before the token is verified: is this scheme usable in this mode at all?"""
        if scheme == "dpop" and self.mode == "disabled":
            raise DPoPError(
                "invalid_request",
                "dpop-scheme-disabled",
                "The DPoP authentication scheme is not accepted by this API; use Bearer.",
                bare=True,
            )
        if scheme != "dpop" and self.mode == "required":
            raise DPoPError(
                "invalid_request",
                "dpop-scheme-required",
                "This API requires DPoP: send 'Authorization: DPoP <token>' with a DPoP proof.",
                bare=True,
            )

    def check_request(
        self,
        *,
        scheme: str,
        token: str,
        claims: Mapping[str, Any],
        proofs: Sequence[str],
        method: str,
        url: str,
        now: float | None = None,
    ) -> str | None:
        """After the token is verified: the DPoP decision, then the proof when one is due.

        ``scheme`` is ``"dpop"`` or anything else for Bearer (header, query or form);
        ``proofs`` are the request's ``DPoP`` header values. Returns the proof key's
        thumbprint when a proof was verified, None when none was due.
        """
        cnf = claims.get("cnf")
        bound = isinstance(cnf, dict) and "jkt" in cnf
        if self.mode == "disabled":
            if bound and self.reject_bound_bearer:
                raise DPoPError(
                    "invalid_token",
                    "dpop-bound-token-refused",
                    "DPoP-bound tokens are not accepted by this API (DPoP is disabled).",
                    scheme="bearer",
                )
            return None
        if scheme != "dpop":
            if proofs and not bound:
                raise DPoPError(
                    "invalid_request",
                    "dpop-proof-with-bearer",
                    "DPoP proof requires the DPoP authentication scheme, not Bearer",
                    scheme="bearer",
                )
            if bound:
                raise DPoPError(
                    "invalid_token",
                    "dpop-bound-token-as-bearer",
                    "DPoP-bound token requires the DPoP authentication scheme, not Bearer",
                    scheme="bearer",
                )
            return None
        jkt = _confirmation(cnf)
        if not proofs or not any(proofs):
            raise DPoPError(
                "invalid_request",
                "dpop-proof-missing",
                "The DPoP scheme needs a DPoP proof header.",
                bare=True,
            )
        self.verify_proof(proofs, token=token, jkt=jkt, method=method, url=url, now=now)
        return jkt

    def verify_proof(
        self,
        proofs: Sequence[str],
        *,
        token: str | None,
        jkt: str | None,
        method: str,
        url: str,
        now: float | None = None,
    ) -> str:
        """Check the proof in RFC 9449 §4.3 order and return its key's thumbprint.

        With a ``token`` the proof's ``ath`` must be its hash, with ``jkt`` the key must hash
        to it (a resource server); without them (an authorization server's token endpoint,
        §5) neither applies.
        """
        if len(proofs) != 1 or "," in proofs[0]:
            raise _proof_error("dpop-proof-multiple", "Multiple DPoP proofs are not allowed")
        request_url = _normalized(url, "request")
        parsed, key = self._signed_proof(proofs[0])
        claims = parsed.claims
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise _proof_error("dpop-proof-jti", '"jti" claim must be a string')
        self._check_time(claims.get("iat"), time.time() if now is None else now)
        self._check_target(claims, method, request_url)
        if self.nonce_check is not None and not self.nonce_check(claims.get("nonce")):
            raise DPoPError(
                "use_dpop_nonce",
                "dpop-nonce-required",
                "Resource server requires nonce in DPoP proof",
            )
        if token is not None:
            proof_ath = claims.get("ath")
            if not isinstance(proof_ath, str):
                raise _proof_error("dpop-proof-ath", '"ath" claim must be a string')
            if proof_ath != ath(token):
                raise _proof_error("dpop-proof-ath-mismatch", 'DPoP proof "ath" mismatch')
        thumbprint = key.thumbprint()
        if jkt is not None and thumbprint != jkt:
            raise _token_error("dpop-binding-mismatch", "JWT Access Token confirmation mismatch")
        if self.replay_check is not None:
            replay_key = f"{thumbprint}\x00{jti}\x00{request_url}"
            if not self.replay_check(replay_key, self.iat_offset + self.iat_leeway):
                raise _proof_error(
                    "dpop-proof-replayed",
                    'DPoP proof "jti" has already been used; send a new proof with each request',
                )
        return thumbprint

    def _signed_proof(self, proof: str) -> tuple[Unverified, Key]:
        """The parsed proof and its embedded key: ``typ``, ``alg``, ``crit``, ``jwk``, signature."""
        try:
            parsed = decode_unverified(proof.strip(), max_bytes=MAX_PROOF_BYTES)
        except TokenError as exc:
            raise _proof_error("dpop-proof-malformed", "Failed to verify DPoP proof") from exc
        header = parsed.header
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _PROOF_TYPES:
            raise _proof_error("dpop-proof-typ", 'DPoP proof "typ" header must be "dpop+jwt"')
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise _proof_error(
                "dpop-proof-alg",
                f'DPoP proof "alg" is not allowed; use one of {" ".join(self.algorithms)}',
            )
        if "crit" in header:
            raise _proof_error("dpop-proof-crit", "DPoP proof lists critical extensions (crit)")
        key = _embedded_key(header)
        try:
            check_signature(parsed, key, alg)
        except TokenError as exc:
            raise _proof_error("dpop-proof-signature", "Failed to verify DPoP proof") from exc
        return parsed, key

    def _check_time(self, iat: object, now: float) -> None:
        if not is_number(iat):
            raise _proof_error("dpop-proof-iat", '"iat" claim must be a number')
        if not (now - self.iat_offset <= iat <= now + self.iat_leeway):
            raise _proof_error(
                "dpop-proof-iat-range", 'DPoP proof "iat" is outside the acceptable range'
            )

    @staticmethod
    def _check_target(claims: Mapping[str, Any], method: str, request_url: str) -> None:
        htm = claims.get("htm")
        if not isinstance(htm, str):
            raise _proof_error("dpop-proof-htm", '"htm" claim must be a string')
        if htm.upper() != method.upper():
            raise _proof_error("dpop-proof-htm-mismatch", 'DPoP proof "htm" mismatch')
        htu = claims.get("htu")
        if not isinstance(htu, str):
            raise _proof_error("dpop-proof-htu", '"htu" claim must be a string')
        if _normalized(htu, "proof") != request_url:
            raise _proof_error("dpop-proof-htu-mismatch", 'DPoP proof "htu" mismatch')


def _normalized(url: str, source: Literal["request", "proof"]) -> str:
    try:
        return normalize_url(url, source)
    except URLError as exc:
        if source == "request":
            raise DPoPError("invalid_request", "dpop-request-url-invalid", exc.message) from exc
        raise _proof_error("dpop-proof-htu-invalid", exc.message) from exc


def _confirmation(cnf: object) -> str:
    """The ``cnf.jkt`` of a token presented with the DPoP scheme."""
    if cnf is None:
        raise _token_error("dpop-binding-missing", "JWT Access Token has no jkt confirmation claim")
    if not isinstance(cnf, dict):
        raise _token_error("dpop-binding-invalid", 'Invalid "cnf" confirmation claim structure')
    jkt = cnf.get("jkt")
    if jkt is None and "jkt" not in cnf:
        raise _token_error("dpop-binding-missing", "JWT Access Token has no jkt confirmation claim")
    if not isinstance(jkt, str):
        raise _token_error("dpop-binding-invalid", 'Malformed "jkt" confirmation claim')
    if not jkt:
        raise _token_error("dpop-binding-invalid", 'Invalid "jkt" confirmation claim')
    return jkt


def proof_algorithms(values: Collection[str]) -> tuple[str, ...]:
    """A configured proof algorithm list, validated, in :data:`DEFAULT_ALGORITHMS` order."""
    algs = check_algorithms(values, what=" for DPoP proofs")
    return tuple(a for a in DEFAULT_ALGORITHMS if a in algs)
