"""Token verification with HS256 and with RS256/ES256 keys from a rotating JWKS file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from api.auth import TokenVerifier
from api.settings import Settings
from domain.errors import NotAuthenticated
from domain.model import Role

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(public_key: object, kid: str, alg: str) -> dict:
    algorithm = RSAAlgorithm if alg == "RS256" else ECAlgorithm
    data = json.loads(algorithm.to_jwk(public_key))
    return {**data, "kid": kid, "alg": alg, "use": "sig"}


def write_jwks(path: Path, *keys: dict) -> None:
    path.write_text(json.dumps({"keys": list(keys)}))
    # mtime granularity: make each rewrite visible as a change
    stamp = time.time_ns() + len(keys)
    os.utime(path, ns=(stamp, stamp))


def claims(**overrides: object) -> dict:
    now = int(time.time())
    base = {
        "sub": "alice",
        "role": "member",
        "program": "demo",
        "iss": "loyalty",
        "aud": "loyalty-api",
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    write_jwks(
        path,
        jwk(RSA_KEY.public_key(), "rsa-1", "RS256"),
        jwk(EC_KEY.public_key(), "ec-1", "ES256"),
    )
    return path


@pytest.fixture
def verifier(jwks_file: Path, tmp_path: Path) -> TokenVerifier:
    settings = Settings(
        jwt_secret="hs-secret-for-tests-" + "x" * 20,
        jwks_file=jwks_file,
        var_dir=tmp_path,
        _env_file=None,
    )
    return TokenVerifier(settings)


def test_rs256_and_es256_tokens_from_the_identity_provider_verify(
    verifier: TokenVerifier,
) -> None:
    rs = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    es = jwt.encode(claims(sub="bob"), EC_KEY, algorithm="ES256", headers={"kid": "ec-1"})
    assert verifier.verify(rs).subject == "alice"
    assert verifier.verify(es).subject == "bob"
    assert verifier.verify(rs).role is Role.MEMBER


def test_hs256_signed_with_the_public_key_is_refused(verifier: TokenVerifier) -> None:
    # the classic algorithm-confusion attack: the public key used as an HMAC secret
    from cryptography.hazmat.primitives import serialization

    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims()).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(NotAuthenticated):
        verifier.verify(f"{signing_input}.{b64(signature)}")


@pytest.mark.parametrize(
    ("key", "alg", "kid"),
    [
        (OTHER_RSA, "RS256", "rsa-1"),  # signed by a key we do not know, under a known kid
        (RSA_KEY, "RS256", "unknown"),  # unknown kid
        (EC_KEY, "ES256", "rsa-1"),  # EC signature under an RSA kid
        (RSA_KEY, "RS512", "rsa-1"),  # algorithm the key is not for
    ],
)
def test_wrong_keys_and_algorithms_are_refused(
    verifier: TokenVerifier, key: object, alg: str, kid: str
) -> None:
    token = jwt.encode(claims(), key, algorithm=alg, headers={"kid": kid})
    with pytest.raises(NotAuthenticated):
        verifier.verify(token)


def test_rotation_adds_new_keys_and_retired_keys_stop_working(
    verifier: TokenVerifier, jwks_file: Path
) -> None:
    old = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    new = jwt.encode(claims(), OTHER_RSA, algorithm="RS256", headers={"kid": "rsa-2"})
    assert verifier.verify(old).subject == "alice"
    with pytest.raises(NotAuthenticated):
        verifier.verify(new)
    # the identity provider publishes rsa-2 and retires rsa-1
    write_jwks(jwks_file, jwk(OTHER_RSA.public_key(), "rsa-2", "RS256"))
    assert verifier.verify(new).subject == "alice"
    with pytest.raises(NotAuthenticated):
        verifier.verify(old)


def test_small_leeway_for_clock_skew_but_not_more(verifier: TokenVerifier) -> None:
    now = int(time.time())
    sign = lambda c: jwt.encode(c, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})  # noqa: E731
    assert verifier.verify(sign(claims(exp=now - 10))).subject == "alice"
    with pytest.raises(NotAuthenticated):
        verifier.verify(sign(claims(exp=now - 120)))
    with pytest.raises(NotAuthenticated):
        verifier.verify(sign(claims(nbf=now + 120)))


def test_oversized_tokens_are_refused_before_parsing(verifier: TokenVerifier) -> None:
    token = jwt.encode(
        claims(padding="x" * 9000), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"}
    )
    with pytest.raises(NotAuthenticated, match="too large"):
        verifier.verify(token)


def test_a_verified_token_is_remembered_until_it_expires(tmp_path: Path) -> None:
    settings = Settings(
        jwt_secret="hs-secret-for-tests-" + "x" * 20,
        jwt_leeway_seconds=0,
        var_dir=tmp_path,
        _env_file=None,
    )
    verifier = TokenVerifier(settings)
    token = jwt.encode(claims(exp=int(time.time()) + 1), settings.secret, algorithm="HS256")
    # verified once, then answered from memory (the same principal object)
    first = verifier.verify(token)
    assert verifier.verify(token) is first
    # but never past its expiry
    time.sleep(max(0.0, first.expires_at.timestamp() - time.time()) + 0.05)  # type: ignore[union-attr]
    with pytest.raises(NotAuthenticated, match="expired"):
        verifier.verify(token)


def test_a_remembered_token_is_refused_once_its_key_is_retired(
    verifier: TokenVerifier, jwks_file: Path
) -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    assert verifier.verify(token).subject == "alice"
    assert verifier.verify(token).subject == "alice"
    write_jwks(jwks_file, jwk(EC_KEY.public_key(), "ec-1", "ES256"))
    with pytest.raises(NotAuthenticated):
        verifier.verify(token)


def test_a_tampered_copy_of_a_remembered_token_is_refused(verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    assert verifier.verify(token).subject == "alice"
    head, _body, signature = token.split(".")
    forged = jwt.utils.base64url_encode(json.dumps(claims(role="admin")).encode()).decode()
    with pytest.raises(NotAuthenticated):
        verifier.verify(f"{head}.{forged}.{signature}")
