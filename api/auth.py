"""Bearer tokens: verify a JWT into a `Principal`, and mint HS256 tokens for development.

The algorithm is never taken on trust from the token: HS256 is verified only with
the configured secret, RS256/ES256 only with a key from the JWKS file whose type
fits, and `none` never.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import jwt
from jwt import PyJWK, PyJWKSet

from api.settings import ConfigurationError, Settings
from domain.errors import NotAuthenticated
from domain.model import Principal, Role

MAX_TOKEN_BYTES = 8192
REQUIRED_CLAIMS = ["sub", "role", "program", "exp", "iat", "iss", "aud"]
ASYMMETRIC = {"RS256": "RSA", "ES256": "EC"}
MAX_CLAIM = 200
VERIFIED_CACHE_SIZE = 10_000


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Production with only a JWKS accepts no HS256 token (nothing is generated there).
        only_jwks = settings.production and not settings.jwt_secret
        self._secret: str | None = None if only_jwks else settings.secret
        self._keys: dict[str, PyJWK] = {}
        self._jwks_stamp: tuple[int, int] | None = None
        try:
            self._refresh_keys()
        except (OSError, ValueError, jwt.PyJWTError) as error:
            raise ConfigurationError(
                f"LOYALTY_JWKS_FILE={settings.jwks_file}: not a readable JWKS ({error})"
            ) from None
        # token -> (principal, JWKS state it was verified under): an app sends the same
        # token with every request, and checking its signature again costs more than the
        # rest of authentication. Expiry is checked on every use.
        self._verified: OrderedDict[str, tuple[Principal, tuple[int, int] | None]] = OrderedDict()

    def _refresh_keys(self) -> None:
        """(Re)load the JWKS file when it changed: adding a key rotates it in, removing
        a key retires it, without a restart."""
        path = self.settings.jwks_file
        if path is None:
            return
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._jwks_stamp:
            return
        keyset = PyJWKSet.from_dict(json.loads(path.read_text()))
        self._keys = {key.key_id: key for key in keyset.keys if key.key_id}
        self._jwks_stamp = stamp

    def _key_for(self, header: dict[str, Any]) -> Any:
        alg = header.get("alg")
        if alg == "HS256" and self._secret is not None:
            return self._secret
        if alg in ASYMMETRIC:
            self._refresh_keys()
            key = self._keys.get(str(header.get("kid")))
            if key is None or key.key_type != ASYMMETRIC[alg]:
                raise NotAuthenticated("The token's signing key is not known.")
            if key.algorithm_name != alg:
                raise NotAuthenticated("The token's algorithm does not fit its key.")
            return key.key
        raise NotAuthenticated("The token's algorithm is not accepted.")

    def verify(self, token: str) -> Principal:
        """A principal from a valid token, or UNAUTHENTICATED saying briefly why."""
        if len(token) > MAX_TOKEN_BYTES:
            raise NotAuthenticated("The token is too large.")
        known = self._verified.get(token)
        if known is not None:
            principal, stamp = known
            self._refresh_keys()  # a key removed from the JWKS retires its tokens at once
            expires_at = principal.expires_at
            leeway = self.settings.jwt_leeway_seconds
            if stamp == self._jwks_stamp and (
                expires_at is None or time.time() < expires_at.timestamp() + leeway
            ):
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
        principal = self._verify(token)
        self._verified[token] = (principal, self._jwks_stamp)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            key = self._key_for(header)
            claims = jwt.decode(
                token,
                key,
                algorithms=[header["alg"]],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("The token has expired.") from None
        except jwt.InvalidTokenError:
            raise NotAuthenticated("The token is not valid.") from None
        return principal_from_claims(claims)

    def from_header(self, value: str | None) -> Principal | None:
        """None without a header; UNAUTHENTICATED for a malformed one."""
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Use 'Authorization: Bearer <token>'.")
        return self.verify(token.strip())


def _claim(claims: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_CLAIM:
        raise NotAuthenticated(f"The token's {name!r} claim is not valid.")
    return value


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        role = Role(claims.get("role"))
    except ValueError:
        raise NotAuthenticated("The token's role is not known.") from None
    store = _claim(claims, "store", required=role is Role.STAFF)
    partner = _claim(claims, "partner", required=role is Role.PARTNER)
    exp = claims.get("exp")
    return Principal(
        role=role,
        program_slug=_claim(claims, "program") or "",
        subject=_claim(claims, "sub") or "",
        store=store if role is Role.STAFF else None,
        partner=partner if role is Role.PARTNER else None,
        expires_at=datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None,
    )


def mint_token(
    settings: Settings,
    *,
    program: str,
    role: Role,
    subject: str,
    store: str | None = None,
    partner: str | None = None,
    ttl_seconds: int = 3600,
    now: float | None = None,
) -> str:
    """An HS256 token signed with the configured secret (development, tests, the CLI)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "program": program,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
    }
    if store:
        claims["store"] = store
    if partner:
        claims["partner"] = partner
    return jwt.encode(claims, settings.secret, algorithm="HS256")
