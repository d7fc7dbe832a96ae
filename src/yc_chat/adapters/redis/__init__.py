"""Redis adapters: rate-limit counters and reusable tokens shared by every instance."""

from yc_chat.adapters.redis.breaker import BreakerRateLimitStore
from yc_chat.adapters.redis.rate_limits import RedisRateLimitStore
from yc_chat.adapters.redis.tokens import RedisIssuedTokens

__all__ = ["BreakerRateLimitStore", "RedisIssuedTokens", "RedisRateLimitStore"]
