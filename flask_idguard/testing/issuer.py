"""A token issuer for tests: real keys, real signatures, no network.

:class:`TestIssuer` holds signing keys, publishes them as a JWKS with an OpenID Connect discovery
document, and mints signed JWTs, well-formed or deliberately hostile. Its endpoints can be served
through the ``responses`` library (:meth:`TestIssuer.mock`) or by a real HTTP server on loopback
(:meth:`TestIssuer.serve`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any

from joserfc import jwk

from ._crypto import SUPPORTED_ALGORITHMS as SUPPORTED_ALGORITHMS
from ._crypto import Key
from ._crypto import SupportsJkt
from ._crypto import b64url
from ._crypto import check_algorithm
from ._crypto import compact_json
from ._crypto import generate_key
from ._server import DISCOVERY_PATH
from ._server import JWKS_PATH
from ._server import Answer
from ._server import loopback
from ._server import mock_endpoints

if TYPE_CHECKING:
    import responses
    from flask.testing import FlaskClient

__all__ = ["TestIssuer", "b64url"]


class TestIssuer:
    """A fake identity provider that signs real tokens with keys it generates.

    ``alg`` chooses the first key: ``RS256``/``RS384``/``RS512`` and ``PS256``/``PS384``/``PS512``
    (RSA 2048), ``ES256`` (P-256), ``ES384`` (P-384), ``ES512`` (P-521), ``EdDSA`` or ``Ed25519``
    (Ed25519). ``kid`` defaults to a random ``test-key-<hex>``. ``audience`` becomes the ``aud``
    claim of minted tokens (``None`` leaves it out).

    Attributes: ``issuer``, ``audience``, ``alg`` and ``kid`` (of the default signing key),
    ``discovery_calls`` and ``jwks_calls`` (requests served), ``jwks_max_age`` (the
    ``Cache-Control: max-age`` of served documents, ``None`` for no header) and ``fail_with``
    (an HTTP status or an exception: while set, both endpoints fail with it).
    """

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(
        self,
        issuer: str = "https://issuer.test/",
        *,
        audience: str | list[str] | None = "https://api.test",
        alg: str = "RS256",
        kid: str | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.discovery_calls = 0
        self.jwks_calls = 0
        self.jwks_max_age: int | None = 300
        self.fail_with: int | Exception | None = None
        self._keys: dict[str, Key] = {}
        self._published: list[str] = []
        self._lock = threading.Lock()
        self._default = self.add_key(alg, kid=kid)

    def __repr__(self) -> str:
        return f"TestIssuer(issuer={self.issuer!r}, alg={self.alg!r}, kid={self.kid!r})"

    @property
    def kid(self) -> str:
        """The ``kid`` of the default signing key."""
        return self._default

    @property
    def alg(self) -> str:
        """The algorithm of the default signing key."""
        return self._keys[self._default].alg

    @property
    def discovery_url(self) -> str:
        """``<issuer>/.well-known/openid-configuration``."""
        return self.issuer.rstrip("/") + DISCOVERY_PATH

    @property
    def jwks_uri(self) -> str:
        """``<issuer>/.well-known/jwks.json``, as announced by :meth:`discovery`."""
        return self.issuer.rstrip("/") + JWKS_PATH

    # -- keys ---------------------------------------------------------------------------------

    def add_key(
        self, alg: str | None = None, *, kid: str | None = None, make_default: bool = False
    ) -> str:
        """Generate and publish another key (``alg`` defaults to :attr:`alg`); return its kid.

        With ``make_default`` it becomes the key that signs tokens by default: key rotation.
        """
        alg = alg if alg is not None else self.alg
        check_algorithm(alg)
        kid = kid if kid is not None else f"test-key-{secrets.token_hex(4)}"
        if kid in self._keys:
            raise ValueError(f"kid {kid!r} is already used")
        self._keys[kid] = Key(kid, alg, generate_key(alg))
        self._published.append(kid)
        if make_default:
            self._default = kid
        return kid

    def remove_key(self, kid: str) -> None:
        """Stop publishing key ``kid``. It can still sign, so its tokens can be shown to fail."""
        if kid not in self._published:
            raise KeyError(kid)
        self._published.remove(kid)

    def _key(self, kid: str | None) -> Key:
        try:
            return self._keys[kid if kid is not None else self._default]
        except KeyError:
            raise KeyError(f"no key with kid {kid!r}") from None

    def jwks(self) -> dict[str, Any]:
        """The public JWKS, ``{"keys": [...]}``, each key with ``kid``, ``alg`` and ``use``."""
        return {"keys": [self._keys[kid].jwk() for kid in self._published]}

    def key_set(self) -> jwk.KeySet:
        """The published public keys as a :class:`joserfc.jwk.KeySet`."""
        return jwk.KeySet([self._keys[kid].public_jwk() for kid in self._published])

    def public_pem(self, kid: str | None = None) -> str:
        """The SubjectPublicKeyInfo PEM of key ``kid`` (default: the default key)."""
        return self._key(kid).public_pem().decode("ascii")

    def discovery(self) -> dict[str, Any]:
        """A minimal OpenID Connect discovery document for :attr:`issuer`."""
        base = self.issuer.rstrip("/")
        algs = sorted({self._keys[kid].alg for kid in self._published})
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri,
            "authorization_endpoint": base + "/authorize",
            "token_endpoint": base + "/oauth/token",
            "userinfo_endpoint": base + "/userinfo",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algs,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "name", "email"],
        }

    # -- tokens -------------------------------------------------------------------------------

    def claims(
        self,
        claims: Mapping[str, object] | None = None,
        *,
        expires_in: int = 300,
        omit: Iterable[str] = (),
        now: float | None = None,
    ) -> dict[str, object]:
        """The payload :meth:`token` would sign: default claims, then ``claims``, minus ``omit``."""
        issued = int(time.time() if now is None else now)
        payload: dict[str, object] = {"iss": self.issuer, "sub": "user_123"}
        if self.audience is not None:
            payload["aud"] = self.audience
        payload["iat"] = issued
        payload["exp"] = issued + expires_in
        payload.update(claims or {})
        for name in omit:
            payload.pop(name, None)
        return payload

    def token(
        self,
        claims: Mapping[str, object] | None = None,
        *,
        header: Mapping[str, object] | None = None,
        kid: str | None = None,
        expires_in: int = 300,
        omit: Iterable[str] = (),
        now: float | None = None,
        dpop: SupportsJkt | str | None = None,
    ) -> str:
        """Mint a signed compact JWT.

        With ``dpop`` (a :class:`~flask_idguard.testing.DPoPKey` or a thumbprint), the token
        is DPoP-bound: ``cnf: {"jkt": ...}`` (RFC 9449 §6.1).

        The payload holds ``iss``, ``sub="user_123"``, ``aud`` (unless the audience is ``None``),
        ``iat`` and ``exp=iat+expires_in`` (``now`` defaults to the current time), updated by
        ``claims``; names in ``omit`` are then removed. The header is
        ``{"alg": <key's alg>, "typ": "JWT", "kid": <kid>}`` updated by ``header``, where a
        ``None`` value removes a member. The key ``kid`` (default: the default key) always signs
        with its own algorithm, whatever the header claims, so hostile headers
        (``{"alg": "none"}``, ``{"jku": ...}``) can be tested.
        """
        key = self._key(kid)
        hdr: dict[str, object] = {"alg": key.alg, "typ": "JWT", "kid": key.kid}
        for name, value in (header or {}).items():
            if value is None:
                hdr.pop(name, None)
            else:
                hdr[name] = value
        payload = self.claims(claims, expires_in=expires_in, omit=omit, now=now)
        if dpop is not None:
            payload["cnf"] = {"jkt": dpop if isinstance(dpop, str) else dpop.jkt}
        return self.sign_raw(hdr, payload, kid=key.kid)

    def authorized(
        self, client: FlaskClient, claims: Mapping[str, object] | None = None, **kwargs: Any
    ) -> FlaskClient:
        """``client`` sending ``Authorization: Bearer <token>`` with every request; the token is
        :meth:`token`'s (same arguments). Returns the client, for chaining."""
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.token(claims, **kwargs)}"
        return client

    def sign_raw(
        self,
        header: bytes | Mapping[str, object],
        payload: bytes | object,
        *,
        kid: str | None = None,
        b64: Callable[[bytes], str] | None = None,
    ) -> str:
        """Sign arbitrary segments, for malformed tokens.

        ``header`` and ``payload`` given as bytes are used verbatim; anything else is JSON-encoded
        (so the payload may be a list, a string, a number...). ``b64`` replaces the unpadded
        base64url encoder for all three segments. The key ``kid`` signs the encoded
        ``header.payload`` with its own algorithm.
        """
        return self._key(kid).sign_compact(header, payload, b64 or b64url)

    def hs256_with_public_key(self, claims: Mapping[str, object] | None = None) -> str:
        """The algorithm confusion attack: ``alg: HS256``, HMAC keyed with the default key's PEM.

        A verifier that lets the token pick the algorithm would accept it.
        """
        header = compact_json({"alg": "HS256", "typ": "JWT", "kid": self.kid})
        signing_input = f"{b64url(header)}.{b64url(compact_json(self.claims(claims)))}"
        secret = self.public_pem().encode("ascii")
        mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(mac)}"

    def unsigned(self, claims: Mapping[str, object] | None = None, *, alg: str = "none") -> str:
        """An unsecured JWT, ``header.payload.``: empty signature, header ``alg`` set to ``alg``."""
        header = compact_json({"alg": alg, "typ": "JWT", "kid": self.kid})
        return f"{b64url(header)}.{b64url(compact_json(self.claims(claims)))}."

    # -- serving ------------------------------------------------------------------------------

    def _respond(self, document: str) -> Answer:
        with self._lock:
            if document == "discovery":
                self.discovery_calls += 1
            else:
                self.jwks_calls += 1
        failure = self.fail_with
        if isinstance(failure, Exception):
            return failure
        headers = {"Content-Type": "application/json"}
        if failure is not None:
            return failure, headers, compact_json({"error": "simulated failure"})
        if self.jwks_max_age is not None:
            headers["Cache-Control"] = f"max-age={self.jwks_max_age}"
        body = self.discovery() if document == "discovery" else self.jwks()
        return 200, headers, compact_json(body)

    def mock(self, rsps: responses.RequestsMock | None = None) -> responses.RequestsMock:
        """Serve discovery and the JWKS through ``responses``; return the mock.

        The callbacks answer with the *current* :meth:`discovery` and :meth:`jwks`, so key
        rotation shows, and honour :attr:`fail_with` and :attr:`jwks_max_age`. URLs are taken
        from :attr:`issuer` now. Without ``rsps``, a new ``RequestsMock`` is created and started;
        the caller stops it (or use :meth:`mocked`).
        """
        routes = {self.discovery_url: "discovery", self.jwks_uri: "jwks"}
        return mock_endpoints(self._respond, routes, rsps)

    @contextmanager
    def mocked(self) -> Iterator[responses.RequestsMock]:
        """Like :meth:`mock`, as a context manager that starts and stops its own mock."""
        import responses

        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            self.mock(rsps)
            yield rsps

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[TestIssuer]:
        """Serve discovery and the JWKS over real HTTP on ``host`` (a loopback address).

        While serving, :attr:`issuer` is ``http://<host>:<port>/`` (tokens minted meanwhile carry
        it); it is restored on exit. ``port=0`` picks a free port. Other paths answer 404;
        :attr:`fail_with` applies (an exception is answered with a 503).
        """
        original = self.issuer
        try:
            with loopback(host, port, self._respond) as url:
                self.issuer = url
                yield self
        finally:
            self.issuer = original
