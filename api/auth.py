"""Bearer tokens: verify a JWT into a `Principal`, and mint HS256 tokens for development.

The algorithm is never taken on trust from the token: HS256 is verified only with
the configured secret, RS256/ES256 only with a key from the JWKS (file or URL) whose
type fits, and `none` never.

Keys of an identity provider's JWKS URL (Auth0, Keycloak, Cognito) are fetched at
start and again when they are older than `jwks_refresh_seconds`, or when a token names
a key not seen yet (at most every `JWKS_MIN_REFETCH_SECONDS`): a key added by the
provider is picked up at once, a key it removed retires its tokens. Fetching happens
in a thread, never on the event loop. The claims that carry role, program, store and
partner are configurable (`LOYALTY_CLAIM_ROLE` ...), as a top-level name or a dotted
path (`realm_access.roles`); a list of roles counts by its first known role.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt import PyJWK, PyJWKClient, PyJWKSet

from api.settings import ConfigurationError, Settings
from domain.errors import NotAuthenticated
from domain.model import Principal, Role

log = logging.getLogger("loyalty.auth")
MAX_TOKEN_BYTES = 8192
REQUIRED_CLAIMS = ["sub", "exp", "iat", "iss", "aud"]
JWKS_MIN_REFETCH_SECONDS = 10.0
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
        self._remote_keys: dict[str, PyJWK] = {}
        self._remote_generation = 0
        self._remote_fetched = -float("inf")
        self._remote_lock = asyncio.Lock()
        self.claims = ClaimNames.from_settings(settings)
        try:
            self._refresh_keys()
        except (OSError, ValueError, jwt.PyJWTError) as error:
            raise ConfigurationError(
                f"LOYALTY_JWKS_FILE={settings.jwks_file}: not a readable JWKS ({error})"
            ) from None
        # token -> (principal, JWKS state it was verified under): an app sends the same
        # token with every request, and checking its signature again costs more than the
        # rest of authentication. Expiry is checked on every use.
        self._verified: OrderedDict[str, tuple[Principal, tuple[tuple[int, int] | None, int]]] = (
            OrderedDict()
        )

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

    @property
    def _stamp(self) -> tuple[tuple[int, int] | None, int]:
        """Which keys a verification used: a change retires cached verifications."""
        return (self._jwks_stamp, self._remote_generation)

    async def refresh_remote(self, *, force: bool = False) -> None:
        """Fetch the JWKS URL's keys when they are stale (or `force`, at most every
        `JWKS_MIN_REFETCH_SECONDS`); a failed fetch keeps the keys there are."""
        url = self.settings.jwks_url
        if not url or not self._remote_due(force):
            return
        async with self._remote_lock:
            if not self._remote_due(force):
                return
            self._remote_fetched = time.monotonic()
            try:
                keyset = await asyncio.to_thread(_fetch_jwks, url)
            except Exception as error:
                log.warning(
                    "JWKS URL not readable, keeping the keys there are",
                    extra={"fields": {"url": url, "error": str(error)[:200]}},
                )
                return
            keys = {key.key_id: key for key in keyset.keys if key.key_id}
            # a key replaced under the same kid retires the tokens it signed, as a new kid does
            if _material(keys) != _material(self._remote_keys):
                self._remote_generation += 1
            self._remote_keys = keys

    def _remote_due(self, force: bool) -> bool:
        age = time.monotonic() - self._remote_fetched
        if age < JWKS_MIN_REFETCH_SECONDS:
            return False
        return force or age >= self.settings.jwks_refresh_seconds

    async def authenticate(self, value: str | None) -> Principal | None:
        """`from_header`, first fetching the JWKS URL's keys when they are stale or the
        token names a key not seen yet."""
        if self.settings.jwks_url and value:
            kid = _unverified_kid(value)
            unknown = kid is not None and kid not in self._keys and kid not in self._remote_keys
            await self.refresh_remote(force=unknown)
        return self.from_header(value)

    def _key_for(self, header: dict[str, Any]) -> Any:
        alg = header.get("alg")
        if alg == "HS256" and self._secret is not None:
            return self._secret
        if alg in ASYMMETRIC:
            self._refresh_keys()
            kid = str(header.get("kid"))
            key = self._keys.get(kid) or self._remote_keys.get(kid)
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
            if stamp == self._stamp and (
                expires_at is None or time.time() < expires_at.timestamp() + leeway
            ):
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
        principal = self._verify(token)
        self._verified[token] = (principal, self._stamp)
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
        return principal_from_claims(claims, self.claims)

    def from_header(self, value: str | None) -> Principal | None:
        """None without a header; UNAUTHENTICATED for a malformed one."""
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Use 'Authorization: Bearer <token>'.")
        return self.verify(token.strip())


@dataclass(frozen=True)
class ClaimNames:
    """Where a token carries role, program, store and partner (names or dotted paths)."""

    role: str = "role"
    program: str = "program"
    store: str = "store"
    partner: str = "partner"

    @classmethod
    def from_settings(cls, settings: Settings) -> ClaimNames:
        return cls(
            settings.claim_role,
            settings.claim_program,
            settings.claim_store,
            settings.claim_partner,
        )


def _lookup(claims: dict[str, Any], name: str) -> Any:
    """A claim by its name, or by a dotted path into nested objects."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _claim(claims: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = _lookup(claims, name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_CLAIM:
        raise NotAuthenticated(f"The token's {name!r} claim is not valid.")
    return value


def _role(claims: dict[str, Any], name: str) -> Role:
    value = _lookup(claims, name)
    candidates = value if isinstance(value, list) else [value]
    for candidate in candidates[:50]:
        if isinstance(candidate, str):
            try:
                return Role(candidate)
            except ValueError:
                continue
    raise NotAuthenticated("The token's role is not known.")


def principal_from_claims(claims: dict[str, Any], names: ClaimNames | None = None) -> Principal:
    names = names or ClaimNames()
    role = _role(claims, names.role)
    store = _claim(claims, names.store, required=role is Role.STAFF)
    partner = _claim(claims, names.partner, required=role is Role.PARTNER)
    return Principal(
        role=role,
        program_slug=_claim(claims, names.program) or "",
        subject=_claim(claims, "sub") or "",
        store=store if role is Role.STAFF else None,
        partner=partner if role is Role.PARTNER else None,
        expires_at=_expiry(claims.get("exp")),
    )


def _expiry(exp: object) -> datetime:
    """`exp` as a time. PyJWT checks it once with int(), so it lets a string through, and
    any size: without a time here the token would never expire on a socket or in the
    cache of verified tokens, and one past year 9999 would fail every request."""
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise NotAuthenticated("The token's exp must be a number (seconds since 1970).")
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, ValueError, OSError):
        raise NotAuthenticated("The token's exp is out of range.") from None


def _material(keys: dict[str, PyJWK]) -> dict[str, tuple[str | None, str, bytes]]:
    """What each key is, by kid: type, algorithm and public key (DER)."""
    return {
        kid: (
            key.key_type,
            key.algorithm_name,
            _public_der(key.key),
        )
        for kid, key in keys.items()
    }


def _public_der(key: Any) -> bytes:
    if isinstance(key, bytes):  # a symmetric ("oct") key: never used, but compared
        return key
    public = key.public_key() if hasattr(key, "private_bytes") else key
    return bytes(public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def _unverified_kid(header_value: str) -> str | None:
    _, _, token = header_value.partition(" ")
    try:
        kid = jwt.get_unverified_header(token.strip()).get("kid")
    except jwt.PyJWTError:
        return None
    return kid if isinstance(kid, str) and len(kid) <= MAX_CLAIM else None


def _fetch_jwks(url: str) -> PyJWKSet:
    """The key set at `url` (blocking: run it in a thread)."""
    client = PyJWKClient(url, cache_jwk_set=False, timeout=5)
    return client.get_jwk_set(refresh=True)


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
