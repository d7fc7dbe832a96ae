"""Request budgets (the token endpoint's, and every user's writes), counted in a
RateLimitStore (ports/ratelimit.py)."""

from __future__ import annotations

import logging
import math
import time

from yc_chat.domain.errors import ProviderUnavailable, RateLimited
from yc_chat.entrypoints.settings import RateLimit
from yc_chat.ports.ratelimit import RateLimitStore

logger = logging.getLogger("yc_chat.ratelimit")


class _Budgets:
    """Counting against budgets in a shared store, falling back to this process when the
    store fails: an outage of Redis must not become an outage of chat."""

    def __init__(self, store: RateLimitStore, *, fallback: RateLimitStore) -> None:
        self._store = store
        self._fallback = fallback
        self._last_warning = 0.0

    async def spent(self, key: str, budget: RateLimit) -> float:
        """Count one hit on `key`; seconds to wait when over budget, 0 when within it."""
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


class WriteRateLimiter:
    """Every user's budget for writes (POST and DELETE under /api/), so nobody floods an org
    with groups or a registry with devices. Only authenticated requests count."""

    def __init__(
        self, store: RateLimitStore, *, per_user: RateLimit, fallback: RateLimitStore
    ) -> None:
        self._budgets = _Budgets(store, fallback=fallback)
        self._per_user = per_user

    async def check(self, *, user_id: str) -> None:
        """Count this write; raise RateLimited (429) when the user's budget is spent."""
        retry_after = await self._budgets.spent(f"w:u:{user_id}", self._per_user)
        if retry_after > 0:
            raise RateLimited(
                "Too many changes, try again later", retry_after=math.ceil(retry_after)
            )


class TokenRateLimiter:
    """The token endpoint's budgets: one per user, a larger one per client address."""

    def __init__(
        self,
        store: RateLimitStore,
        *,
        per_user: RateLimit,
        per_address: RateLimit,
        fallback: RateLimitStore,
    ) -> None:
        self._budgets = _Budgets(store, fallback=fallback)
        self._per_user = per_user
        self._per_address = per_address

    async def check(self, *, user_id: str, address: str | None) -> None:
        """Count this request; raise RateLimited (429) when either budget is spent."""
        retry_after = await self._budgets.spent(f"tok:u:{user_id}", self._per_user)
        if address is not None:
            retry_after = max(
                retry_after, await self._budgets.spent(f"tok:a:{address}", self._per_address)
            )
        if retry_after > 0:
            raise RateLimited(
                "Too many token requests, try again later", retry_after=math.ceil(retry_after)
            )
