"""RateLimitStore in Redis: counters shared by every instance pointed at the same server."""

from __future__ import annotations

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from yc_chat.domain.errors import ProviderUnavailable

# INCR and the expiry in one atomic step: a crash between the two can never leave a
# counter without a TTL (which would lock a user out for good).
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisRateLimitStore:
    """Counters in Redis, shared by every instance pointed at the same server."""

    def __init__(self, url: str, *, prefix: str = "yc-chat:rl:") -> None:
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30
        )
        self._prefix = prefix
        self._script = self._redis.register_script(_HIT_SCRIPT)

    async def hit(self, key: str, *, window_seconds: int) -> tuple[int, float]:
        try:
            reply = await self._script(keys=[self._prefix + key], args=[window_seconds * 1000])
        except (RedisError, OSError) as exc:
            raise _unavailable(exc) from exc
        count, ttl_ms = reply
        return int(count), int(ttl_ms) / 1000

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise _unavailable(exc) from exc

    async def close(self) -> None:
        await self._redis.aclose()


def _unavailable(exc: BaseException) -> ProviderUnavailable:
    # The type only: a Redis error's text can carry the URL, credentials included.
    return ProviderUnavailable(f"Redis is unreachable ({type(exc).__name__})")
