"""Redis adapters: rate-limit counters shared by every instance."""

from yc_chat.adapters.redis.breaker import BreakerRateLimitStore
from yc_chat.adapters.redis.rate_limits import RedisRateLimitStore

__all__ = ["BreakerRateLimitStore", "RedisRateLimitStore"]
