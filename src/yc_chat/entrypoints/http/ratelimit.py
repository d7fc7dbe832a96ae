"""The token endpoint's budgets, counted in a RateLimitStore (ports/ratelimit.py)."""

from __future__ import annotations

import logging
import math
import time

from yc_chat.domain.errors import ProviderUnavailable, RateLimited
from yc_chat.entrypoints.settings import RateLimit
from yc_chat.ports.ratelimit import RateLimitStore

logger = logging.getLogger("yc_chat.ratelimit")


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
        fallback: RateLimitStore,
    ) -> None:
        self._store = store
        self._fallback = fallback
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
        except ProviderUnavailable as exc:
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
