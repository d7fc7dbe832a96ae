"""Fixed-window rate limits: in process by default, in Redis to share a budget across instances."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any, Protocol

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from yc_chat.domain.errors import RateLimited
from yc_chat.entrypoints.settings import RateLimit

logger = logging.getLogger("yc_chat.ratelimit")


class RateLimitStore(Protocol):
    """Counts hits per key in windows that start at a key's first hit."""

    async def hit(self, key: str, *, window_seconds: int) -> tuple[int, float]:
        """Count one hit; returns (hits in the current window, seconds until it resets)."""

    async def ping(self) -> None:
        """Raise when the store cannot be reached."""

    async def close(self) -> None:
        """Release connections."""


class MemoryRateLimitStore:
    """Per-process counters; expired windows are swept as the table grows."""

    def __init__(self, *, now: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self._now = now
        self._max_keys = max_keys
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, *, window_seconds: int) -> tuple[int, float]:
        now = self._now()
        resets_at, count = self._windows.get(key, (0.0, 0))
        if resets_at <= now:
            resets_at, count = now + window_seconds, 0
        count += 1
        self._windows[key] = (resets_at, count)
        if len(self._windows) > self._max_keys:
            self._sweep(now)
        return count, resets_at - now

    def _sweep(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        if len(self._windows) > self._max_keys:
            # Still full of live windows (an address flood): forget the oldest half.
            ordered = sorted(self._windows.items(), key=lambda item: item[1][0])
            self._windows = dict(ordered[len(ordered) // 2 :])

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


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
        self._redis: Any = aioredis.Redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30
        )
        self._prefix = prefix
        self._script = self._redis.register_script(_HIT_SCRIPT)

    async def hit(self, key: str, *, window_seconds: int) -> tuple[int, float]:
        count, ttl_ms = await self._script(keys=[self._prefix + key], args=[window_seconds * 1000])
        return int(count), int(ttl_ms) / 1000

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


class TokenRateLimiter:
    """The token endpoint's budgets: one per user, a larger one per client address.

    When the shared store fails, counting falls back to this process rather than
    refusing tokens: an outage of Redis must not become an outage of chat.
    """

    def __init__(
        self,
        store: RateLimitStore,
        *,
        per_user: RateLimit,
        per_address: RateLimit,
        fallback: RateLimitStore | None = None,
    ) -> None:
        self._store = store
        self._fallback = fallback or MemoryRateLimitStore()
        self._per_user = per_user
        self._per_address = per_address
        self._last_warning = 0.0

    async def check(self, *, user_id: str, address: str | None) -> None:
        """Count this request; raise RateLimited (429) when either budget is spent."""
        retry_after = await self._spent(f"tok:u:{user_id}", self._per_user)
        if address is not None:
            retry_after = max(retry_after, await self._spent(f"tok:a:{address}", self._per_address))
        if retry_after > 0:
            raise RateLimited(
                "Too many token requests, try again later", retry_after=math.ceil(retry_after)
            )

    async def _spent(self, key: str, budget: RateLimit) -> float:
        """Seconds to wait when over budget, 0 when within it."""
        try:
            count, reset_in = await self._store.hit(key, window_seconds=budget.window_seconds)
        except (RedisError, OSError) as exc:
            self._warn(exc)
            count, reset_in = await self._fallback.hit(key, window_seconds=budget.window_seconds)
        return max(reset_in, 1.0) if count > budget.limit else 0.0

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            logger.warning(
                "rate-limit store unreachable, counting in this process",
                extra={"error_type": type(exc).__name__},
            )
