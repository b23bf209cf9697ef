from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from collections.abc import Callable

import pytest
import requests
import responses
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc import jwk
from joserfc import jws
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.errors import InvalidKeyIdError

from flask_idguard.testing import TestIssuer
from flask_idguard.testing import b64url


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _parts(token: str) -> tuple[dict[str, object], object, bytes]:
    header, payload, signature = token.split(".")
    return json.loads(_b64decode(header)), json.loads(_b64decode(payload)), _b64decode(signature)


def _decode(issuer: TestIssuer, token: str, alg: str) -> dict[str, object]:
    if alg == "EdDSA":  # deprecated by RFC 9864: joserfc warns when verifying it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return jwt.decode(token, issuer.key_set(), algorithms=[alg]).claims
    return jwt.decode(token, issuer.key_set(), algorithms=[alg]).claims


ALGS_AND_KEYS = [
    ("RS256", "RSA", None),
    ("RS384", "RSA", None),
    ("RS512", "RSA", None),
    ("PS256", "RSA", None),
    ("PS384", "RSA", None),
    ("PS512", "RSA", None),
    ("ES256", "EC", "P-256"),
    ("ES384", "EC", "P-384"),
    ("ES512", "EC", "P-521"),
    ("Ed25519", "OKP", "Ed25519"),
    ("EdDSA", "OKP", "Ed25519"),
]


@pytest.mark.parametrize(("alg", "kty", "crv"), ALGS_AND_KEYS)
def test_token_verifies_for_each_alg(alg: str, kty: str, crv: str | None) -> None:
    issuer = TestIssuer(alg=alg)
    (key,) = issuer.jwks()["keys"]
    assert key["kty"] == kty
    assert key.get("crv") == crv
    assert (key["kid"], key["alg"], key["use"]) == (issuer.kid, alg, "sig")
    if kty == "RSA":
        assert len(_b64decode(key["n"])) == 256
    assert "d" not in key
    claims = _decode(issuer, issuer.token({"scope": "read"}), alg)
    assert claims["scope"] == "read"
    assert claims["iss"] == "https://issuer.test/"


def test_default_claims_and_header() -> None:
    issuer = TestIssuer(kid="k1")
    header, payload, _ = _parts(issuer.token(now=1_000, expires_in=60))
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "k1"}
    assert payload == {
        "iss": "https://issuer.test/",
        "sub": "user_123",
        "aud": "https://api.test",
        "iat": 1_000,
        "exp": 1_060,
    }


def test_now_defaults_to_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = TestIssuer()
    monkeypatch.setattr("time.time", lambda: 5_000.7)
    _, payload, _ = _parts(issuer.token())
    assert payload["iat"] == 5_000  # type: ignore[index]
    assert payload["exp"] == 5_300  # type: ignore[index]


def test_claims_override_and_omit() -> None:
    issuer = TestIssuer(audience=["a", "b"])
    _, payload, _ = _parts(issuer.token({"sub": "u_9", "exp": "soon"}, omit=["iat", "iss"]))
    assert payload == {"sub": "u_9", "aud": ["a", "b"], "exp": "soon"}
    _, payload, _ = _parts(TestIssuer(audience=None).token())
    assert "aud" not in payload  # type: ignore[operator]


def test_default_kid_is_random() -> None:
    first, second = TestIssuer(), TestIssuer()
    assert first.kid.startswith("test-key-") and len(first.kid) == len("test-key-") + 8
    assert first.kid != second.kid


def test_header_overrides_do_not_change_the_signature_algorithm() -> None:
    issuer = TestIssuer(alg="ES256")
    token = issuer.token(header={"alg": "none", "kid": None, "jku": "https://evil"})
    header, _, signature = _parts(token)
    assert header == {"alg": "none", "typ": "JWT", "jku": "https://evil"}
    assert len(signature) == 64  # still an ES256 signature
    # the signature is a valid ES256 one, made by the issuer's key
    public_key = serialization.load_pem_public_key(issuer.public_pem().encode())
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    signing_input = token.rsplit(".", 1)[0].encode()
    public_key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))


def test_unknown_kid_and_alg() -> None:
    issuer = TestIssuer()
    with pytest.raises(KeyError):
        issuer.token(kid="nope")
    with pytest.raises(ValueError, match="unsupported alg"):
        TestIssuer(alg="HS256")
    with pytest.raises(ValueError, match="already used"):
        issuer.add_key(kid=issuer.kid)


def test_rotation() -> None:
    issuer = TestIssuer(kid="old")
    new = issuer.add_key("ES256", kid="new", make_default=True)
    assert new == "new" and issuer.kid == "new" and issuer.alg == "ES256"
    assert [k["kid"] for k in issuer.jwks()["keys"]] == ["old", "new"]
    assert issuer.discovery()["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]
    _decode(issuer, issuer.token(), "ES256")
    old_token = issuer.token(kid="old")
    _decode(issuer, old_token, "RS256")
    issuer.remove_key("old")
    assert [k["kid"] for k in issuer.jwks()["keys"]] == ["new"]
    with pytest.raises(InvalidKeyIdError):
        _decode(issuer, old_token, "RS256")
    # a removed key still signs, and its PEM is still available
    assert issuer.token(kid="old").count(".") == 2
    assert issuer.public_pem("old").startswith("-----BEGIN PUBLIC KEY-----")
    with pytest.raises(KeyError):
        issuer.remove_key("old")
    extra = issuer.add_key()
    assert extra.startswith("test-key-") and issuer.kid == "new"


def test_wrong_key_fails_verification() -> None:
    issuer = TestIssuer(kid="a")
    other = TestIssuer(kid="a")
    with pytest.raises(BadSignatureError):
        _decode(issuer, other.token(), "RS256")


def test_public_pem_matches_jwks() -> None:
    issuer = TestIssuer(alg="ES384")
    from_pem = jwk.ECKey.import_key(issuer.public_pem())
    assert from_pem.thumbprint() == issuer.key_set().keys[0].thumbprint()


def test_discovery() -> None:
    doc = TestIssuer("https://idp.test/tenant/").discovery()
    assert doc["issuer"] == "https://idp.test/tenant/"
    assert doc["jwks_uri"] == "https://idp.test/tenant/.well-known/jwks.json"
    assert doc["token_endpoint"].startswith("https://idp.test/tenant/")
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]


def test_repr_hides_keys() -> None:
    issuer = TestIssuer(kid="k")
    assert repr(issuer) == "TestIssuer(issuer='https://issuer.test/', alg='RS256', kid='k')"


def test_sign_raw_list_payload_and_padded_base64() -> None:
    issuer = TestIssuer()

    def padded(data: bytes) -> str:
        return base64.b64encode(data).decode()

    token = issuer.sign_raw({"alg": "RS256", "kid": issuer.kid}, ["a", 1], b64=padded)
    header_b64, payload_b64, signature_b64 = token.split(".")
    assert json.loads(base64.b64decode(payload_b64)) == ["a", 1]
    assert json.loads(base64.b64decode(header_b64)) == {"alg": "RS256", "kid": issuer.kid}
    assert len(base64.b64decode(signature_b64)) == 256
    assert signature_b64.endswith("==")  # 256 bytes: padded


def test_sign_raw_bytes_verbatim_and_signature_valid() -> None:
    issuer = TestIssuer()
    token = issuer.sign_raw(b'{"alg":"RS256"}', b"not json")
    header, payload, _ = token.split(".")
    assert _b64decode(header) == b'{"alg":"RS256"}'
    assert _b64decode(payload) == b"not json"
    assert jws.deserialize_compact(token, issuer.key_set().keys[0]).payload == b"not json"
    string_payload = issuer.sign_raw({"alg": "RS256"}, "hello").split(".")[1]
    assert _b64decode(string_payload) == b'"hello"'


def test_hs256_with_public_key() -> None:
    issuer = TestIssuer()
    token = issuer.hs256_with_public_key({"sub": "attacker"})
    header, payload, signature = _parts(token)
    assert header["alg"] == "HS256" and header["kid"] == issuer.kid
    assert payload["sub"] == "attacker"  # type: ignore[index]
    signing_input = token.rsplit(".", 1)[0].encode()
    secret = issuer.public_pem().encode()
    assert signature == hmac.new(secret, signing_input, hashlib.sha256).digest()


def test_unsigned() -> None:
    issuer = TestIssuer()
    token = issuer.unsigned({"sub": "x"})
    assert token.endswith(".") and token.count(".") == 2
    header, payload, signature = _parts(token)
    assert header["alg"] == "none" and payload["sub"] == "x"  # type: ignore[index]
    assert signature == b""
    assert _parts(issuer.unsigned(alg="None"))[0]["alg"] == "None"


def test_b64url() -> None:
    assert b64url(b"\xfb\xff") == "-_8"
    assert b64url(b"") == ""


def test_mock_serves_current_documents() -> None:
    issuer = TestIssuer()
    rsps = issuer.mock()
    try:
        response = requests.get("https://issuer.test/.well-known/openid-configuration")
        assert response.json() == issuer.discovery()
        assert response.headers["Cache-Control"] == "max-age=300"
        assert response.headers["Content-Type"] == "application/json"
        jwks_uri = response.json()["jwks_uri"]
        assert requests.get(jwks_uri).json() == issuer.jwks()
        new = issuer.add_key()
        assert new in {k["kid"] for k in requests.get(jwks_uri).json()["keys"]}
        issuer.remove_key(new)
        assert new not in {k["kid"] for k in requests.get(jwks_uri).json()["keys"]}
        assert (issuer.discovery_calls, issuer.jwks_calls) == (1, 3)
        issuer.jwks_max_age = None
        assert "Cache-Control" not in requests.get(jwks_uri).headers
        issuer.jwks_max_age = 10
        assert requests.get(jwks_uri).headers["Cache-Control"] == "max-age=10"
        with pytest.raises(requests.ConnectionError):
            requests.get("https://elsewhere.test/")
    finally:
        rsps.stop()
        rsps.reset()


def test_mock_fail_with() -> None:
    issuer = TestIssuer()
    with issuer.mocked() as rsps:
        assert isinstance(rsps, responses.RequestsMock)
        issuer.fail_with = 503
        response = requests.get(issuer.jwks_uri)
        assert response.status_code == 503
        assert "Cache-Control" not in response.headers
        assert requests.get(issuer.discovery_url).status_code == 503
        issuer.fail_with = requests.ConnectionError("down")
        with pytest.raises(requests.ConnectionError):
            requests.get(issuer.jwks_uri)
        issuer.fail_with = None
        assert requests.get(issuer.jwks_uri).ok
        assert (issuer.discovery_calls, issuer.jwks_calls) == (1, 3)


def test_serve_answers_real_http() -> None:
    issuer = TestIssuer("https://issuer.test/")
    with issuer.serve() as served:
        assert served is issuer
        assert issuer.issuer.startswith("http://127.0.0.1:") and issuer.issuer.endswith("/")
        doc = requests.get(issuer.discovery_url, timeout=5).json()
        assert doc["issuer"] == issuer.issuer
        response = requests.get(doc["jwks_uri"], timeout=5)
        assert response.json() == issuer.jwks()
        assert response.headers["Cache-Control"] == "max-age=300"
        _, payload, _ = _parts(issuer.token())
        assert payload["iss"] == issuer.issuer  # type: ignore[index]
        assert requests.get(issuer.issuer + "other", timeout=5).status_code == 404
        assert requests.post(doc["jwks_uri"], timeout=5).status_code == 405
        issuer.fail_with = 500
        assert requests.get(doc["jwks_uri"], timeout=5).status_code == 500
        issuer.fail_with = RuntimeError("boom")
        assert requests.get(doc["jwks_uri"], timeout=5).status_code == 503
        assert (issuer.discovery_calls, issuer.jwks_calls) == (1, 3)
    assert issuer.issuer == "https://issuer.test/"
    with pytest.raises(requests.ConnectionError):
        requests.get(doc["jwks_uri"], timeout=5)


def test_fixture(idguard_issuer: TestIssuer) -> None:
    assert idguard_issuer.issuer == "https://issuer.test/"
    assert requests.get(idguard_issuer.jwks_uri).json() == idguard_issuer.jwks()
    assert idguard_issuer.jwks_calls == 1


def test_factory_fixture(
    idguard_issuer: TestIssuer,
    idguard_issuer_factory: Callable[..., TestIssuer],
    idguard_responses: responses.RequestsMock,
) -> None:
    other = idguard_issuer_factory(alg="ES256")
    named = idguard_issuer_factory(issuer="https://named.test/")
    assert other.issuer == "https://issuer-1.test/"
    for issuer in (idguard_issuer, other, named):
        assert requests.get(issuer.jwks_uri).json() == issuer.jwks()
        assert issuer.jwks_calls == 1
    idguard_responses.get("https://api.elsewhere.test/", json={"ok": True})
    assert requests.get("https://api.elsewhere.test/").json() == {"ok": True}
