"""Caller authentication: bearer JWTs, HS256 with a shared secret or RS256/ES256 from a JWKS.

Only the user id claim is taken from a token. Algorithms are pinned per mode, so `alg:
none` and HS/RS confusion (an HS256 token "signed" with the public RSA key) never verify.
No token, claim value or key ever reaches a log line or an error message.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import jwt

from yc_chat.domain.errors import ProviderUnavailable, Unauthenticated
from yc_chat.domain.limits import MAX_ID_LENGTH
from yc_chat.domain.model import UserId
from yc_chat.entrypoints.settings import JWKS_ALGORITHMS, AuthSettings, SettingsError

logger = logging.getLogger("yc_chat.auth")

HS_ALGORITHMS = ("HS256",)
MAX_TOKEN_LENGTH = 8192
ISSUED_IN_FUTURE = "Token issued in the future: check the client's clock"
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# Verified tokens kept, so a client's repeated requests skip the signature check (about a
# quarter of an authenticated request's time, profiled in docs/performance.md). The key is
# the whole token, so nothing but the very bytes that verified can hit; an entry is used
# only before the token's `exp` (a later request is verified in full, leeway and all) and
# for at most VERIFIED_SECONDS, so a key dropped from the JWKS stops working soon.
VERIFIED_MAX = 4096
VERIFIED_SECONDS = 60.0


def _denied(message: str = "Invalid or expired token") -> Unauthenticated:
    return Unauthenticated(message, code="invalid_token")


class Authenticator(Protocol):
    """Turns an Authorization header value into the caller's user id, or raises 401."""

    async def authenticate(self, authorization: str | None) -> UserId:
        """The caller's user id; raises Unauthenticated (401) for anything else."""

    async def close(self) -> None:
        """Release resources."""


def bearer_token(authorization: str | None) -> str:
    """The token of a `Bearer <token>` header value; raises Unauthenticated otherwise."""
    if not authorization:
        raise Unauthenticated("A bearer token is required", code="missing_token")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Use the Bearer authentication scheme", code="missing_token")
    if len(token) > MAX_TOKEN_LENGTH or _TOKEN_SHAPE.fullmatch(token) is None:
        raise _denied("Malformed token")
    return token


class _Verifier:
    """Claim checks shared by both modes, and the bounded cache of verified tokens."""

    def __init__(
        self,
        settings: AuthSettings,
        *,
        wall: Callable[[], float] = time.time,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall, self._ticks = wall, ticks
        # token -> (user id, its exp, when this entry lapses on `ticks`); oldest first.
        self._verified: dict[str, tuple[UserId, float, float]] = {}
        self._settings = settings
        self._claim = settings.user_id_claim
        # `exp` is required: a token without an expiry would be a credential forever.
        self._options: dict[str, Any] = {
            "require": ["exp", self._claim],
            "verify_aud": settings.audience is not None,
            "verify_iss": settings.issuer is not None,
        }

    def _cached(self, token: str) -> UserId | None:
        """The user id of a token verified recently and not yet expired, else None."""
        hit = self._verified.get(token)
        if hit is None:
            return None
        user_id, expires, lapses = hit
        if self._wall() < expires and self._ticks() < lapses:
            return user_id
        del self._verified[token]
        return None

    def _remember(self, token: str, user_id: UserId, claims: Mapping[str, Any]) -> None:
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            return
        if len(self._verified) >= VERIFIED_MAX:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (user_id, float(expires), self._ticks() + VERIFIED_SECONDS)

    def _decode(self, token: str, key: Any, algorithms: list[str]) -> UserId:
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=algorithms,
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options=self._options,  # type: ignore[arg-type]
            )
        except jwt.ExpiredSignatureError:
            raise _denied("Token expired") from None
        except jwt.ImmatureSignatureError as exc:
            # A client whose clock runs fast mints tokens "from the future": saying so
            # tells its developer where to look (PyJWT names the claim in its message).
            if "(iat)" in str(exc):
                raise _denied(ISSUED_IN_FUTURE) from None
            raise _denied("Token not valid yet (nbf): check the client's clock") from None
        except jwt.PyJWTError:
            raise _denied() from None
        user_id = self._user_id(claims)
        self._remember(token, user_id, claims)
        return user_id

    def _user_id(self, claims: Mapping[str, Any]) -> UserId:
        value = claims.get(self._claim)
        if (
            not isinstance(value, str)
            or not value.strip()
            or len(value) > MAX_ID_LENGTH
            or not value.isprintable()
        ):
            raise _denied("Token has no usable user id")
        return UserId(value)


class SecretAuthenticator(_Verifier):
    """HS256 with a shared secret."""

    def __init__(
        self,
        settings: AuthSettings,
        *,
        wall: Callable[[], float] = time.time,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(settings, wall=wall, ticks=ticks)
        if settings.jwt_secret is None:
            raise SettingsError("JWT_SECRET is not set")
        self._secret = settings.jwt_secret
        self._algorithms = list(HS_ALGORITHMS)

    async def authenticate(self, authorization: str | None) -> UserId:
        token = bearer_token(authorization)
        cached = self._cached(token)
        if cached is not None:
            return cached
        return self._decode(token, self._secret, self._algorithms)

    async def close(self) -> None:
        return None


class JwksAuthenticator(_Verifier):
    """RS256/ES256 with public keys from a JWKS URL, cached, refetched on an unknown `kid`."""

    def __init__(
        self, settings: AuthSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(settings, ticks=clock)
        if settings.jwks_url is None:
            raise SettingsError("JWT_JWKS_URL is not set")
        # PyJWKClient does the fetching and key parsing; caching is ours, so the event
        # loop never blocks on the network except in a worker thread during a refresh.
        self._client = jwt.PyJWKClient(
            settings.jwks_url,
            cache_keys=False,
            cache_jwk_set=False,
            timeout=settings.jwks_timeout_seconds,
        )
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self._now = clock
        self._algorithms = list(JWKS_ALGORITHMS)

    async def authenticate(self, authorization: str | None) -> UserId:
        token = bearer_token(authorization)
        cached = self._cached(token)
        if cached is not None:
            return cached
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _denied("Malformed token") from None
        if header.get("alg") not in self._algorithms:
            raise _denied()
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise _denied()
        key = await self._key(kid)
        return self._decode(token, key, self._algorithms)

    async def close(self) -> None:
        return None

    def _stale(self) -> bool:
        return (
            self._fetched_at is None
            or self._now() - self._fetched_at >= self._settings.jwks_cache_seconds
        )

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            # A kid-less token is only unambiguous when the set holds one key.
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _key(self, kid: str | None) -> jwt.PyJWK:
        key = None if self._stale() else self._lookup(kid)
        if key is not None:
            return key
        async with self._lock:
            key = None if self._stale() else self._lookup(kid)
            if key is None and self._may_refresh():
                await self._refresh()
                key = self._lookup(kid)
        if key is None:
            raise _denied()
        return key

    def _may_refresh(self) -> bool:
        if self._fetched_at is None or self._stale():
            return True
        elapsed: float = self._now() - self._fetched_at
        return elapsed >= self._settings.jwks_min_refresh_seconds

    async def _refresh(self) -> None:
        try:
            jwk_set = await asyncio.to_thread(self._client.get_jwk_set, True)
        except jwt.PyJWTError as exc:
            logger.warning("JWKS fetch failed", extra={"error_type": type(exc).__name__})
            if self._keys:
                # Keep serving known keys through a short identity-provider outage.
                self._fetched_at = self._now()
                return
            raise ProviderUnavailable(
                "Token keys are unavailable, try again shortly", retry_after=5
            ) from None
        keys: dict[str | None, jwt.PyJWK] = {}
        for jwk in jwk_set.keys:
            if jwk.algorithm_name in self._algorithms and jwk.public_key_use in (None, "sig"):
                keys[jwk.key_id] = jwk
        self._keys = keys
        self._fetched_at = self._now()
        logger.info("JWKS refreshed", extra={"keys": len(keys)})


def build_authenticator(settings: AuthSettings) -> Authenticator:
    """The authenticator for the configured mode."""
    if settings.jwks_url is not None:
        return JwksAuthenticator(settings)
    if settings.jwt_secret is not None:
        return SecretAuthenticator(settings)
    raise SettingsError("set JWT_SECRET or JWT_JWKS_URL")


def issue_dev_token(
    secret: str,
    user_id: str,
    *,
    ttl_seconds: int,
    now: float | None = None,
    claim: str = "sub",
    audience: str | None = None,
    issuer: str | None = None,
) -> str:
    """An HS256 bearer token for local testing (never used by the service itself)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {claim: user_id, "iat": issued, "exp": issued + ttl_seconds}
    if audience is not None:
        claims["aud"] = audience
    if issuer is not None:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm="HS256")
