"""IssuedTokens in Redis: kept tokens and revocation cut-offs shared by every instance.

One hash per user holds the kept token (`t`, its issue and expiry times `i` and `e`, epoch
seconds) and the cut-off `r`, so one HMGET reads both together. A revocation deletes the
token fields and raises `r` in one script; a token kept by a request that signed it just
before the revocation lands after it, but its `i` is then below `r` and it is never
reused. The hash lives as long as a kept token could (the token lifetime), extended by
every write, never shortened.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from yc_chat.domain.errors import ProviderUnavailable
from yc_chat.domain.limits import DEFAULT_TOKEN_TTL
from yc_chat.domain.model import IssuedToken, TokenRecord, UserId

logger = logging.getLogger("yc_chat.tokens")

# A read or a best-effort write waits no longer than this: a stalled Redis only costs
# reuse (the token is signed anew), never the token request. After a failure, reads and
# writes skip Redis for COOL_DOWN seconds (a breaker, as for the rate limits), so only
# one request waits for it; a revocation always goes to Redis.
CALL_TIMEOUT = 0.25
COOL_DOWN = 10.0

_REMEMBER_SCRIPT = """
redis.call('HSET', KEYS[1], 't', ARGV[1], 'i', ARGV[2], 'e', ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
"""

_REVOKE_SCRIPT = """
redis.call('HDEL', KEYS[1], 't', 'i', 'e')
local current = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
if tonumber(ARGV[1]) > current then
  redis.call('HSET', KEYS[1], 'r', ARGV[1])
end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


class RedisIssuedTokens:
    """IssuedTokens in Redis under `prefix` (which should name the signing app, so a
    changed API key or secret never reuses a token signed with the old one)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "yc-chat:tok:",
        keep_for: timedelta = DEFAULT_TOKEN_TTL,
        call_timeout: float = CALL_TIMEOUT,
        cool_down: float = COOL_DOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30
        )
        self._prefix = prefix
        self._keep_ms = int(keep_for.total_seconds() * 1000)
        self._timeout = call_timeout
        self._remember = self._redis.register_script(_REMEMBER_SCRIPT)
        self._revoke = self._redis.register_script(_REVOKE_SCRIPT)
        self._cool_down = cool_down
        self._clock = clock
        self._skip_until: float | None = None  # set by a failure: Redis is skipped until then

    async def latest(self, user_id: UserId) -> TokenRecord:
        if self._skipping():
            return TokenRecord()
        try:
            async with asyncio.timeout(self._timeout):
                token, issued, expires, revoked = await self._redis.hmget(
                    self._prefix + user_id, ["t", "i", "e", "r"]
                )
        except (RedisError, OSError, TimeoutError) as exc:
            self._skipped("read", exc)
            return TokenRecord()
        self._skip_until = None
        kept = None
        if token is not None and issued is not None and expires is not None:
            kept = IssuedToken(
                user_id=user_id,
                token=_text(token),
                issued_at=_time(issued),
                expires_at=_time(expires),
            )
        return TokenRecord(
            token=kept, revoked_before=_time(revoked) if revoked is not None else None
        )

    async def remember(self, token: IssuedToken) -> None:
        args: list[str | int] = [
            token.token,
            _seconds(token.issued_at),
            _seconds(token.expires_at),
            self._keep_ms,
        ]
        if self._skipping():
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._remember(keys=[self._prefix + token.user_id], args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            self._skipped("write", exc)

    async def revoke(self, user_id: UserId, *, issued_before: datetime) -> None:
        try:
            await self._revoke(
                keys=[self._prefix + user_id], args=[_seconds(issued_before), self._keep_ms]
            )
        except (RedisError, OSError) as exc:
            # The type only: a Redis error's text can carry the URL, credentials included.
            raise ProviderUnavailable(f"Redis is unreachable ({type(exc).__name__})") from exc

    async def close(self) -> None:
        await self._redis.aclose()

    def _skipping(self) -> bool:
        return self._skip_until is not None and self._clock() < self._skip_until

    def _skipped(self, what: str, exc: BaseException) -> None:
        if self._skip_until is None:  # logged once per outage, not once per token request
            logger.warning("token reuse skipped: Redis %s failed (%s)", what, type(exc).__name__)
        self._skip_until = self._clock() + self._cool_down


def _seconds(moment: datetime) -> int:
    # Token times are whole seconds; a cut-off is rounded up, never down (covering more).
    whole = int(moment.timestamp())
    return whole if whole == moment.timestamp() else whole + 1


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _time(raw: bytes | str) -> datetime:
    return datetime.fromtimestamp(int(raw), tz=UTC)
