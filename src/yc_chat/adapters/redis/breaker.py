"""A circuit breaker in front of the shared rate-limit store (Redis).

Redis only shares the request budgets between processes; counting in this process is a
working fallback. So after one failure the breaker opens: for a cool-down, calls skip
Redis at once (the caller counts in this process) instead of each waiting for a timeout.
After the cool-down one call probes Redis; its success closes the breaker, its failure
opens it for another cool-down. `gauge()` says which it is now, per process. The rate
limiter reports the first failure and the first success after it to the runtime's
readiness, which logs each once (`degraded: redis ...`, `recovered: redis ...`) and shows
`degraded{part="redis"}`; a skipped call (code STORE_SKIPPED) reports nothing new.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final

from yc_chat.adapters import deadline
from yc_chat.domain.errors import ProviderUnavailable
from yc_chat.domain.metrics import Gauge
from yc_chat.ports import RateLimitStore
from yc_chat.ports.ratelimit import STORE_SKIPPED

logger = logging.getLogger("yc_chat.ratelimit")

DEFAULT_COOL_DOWN: Final = 10.0
# A counter increment takes a millisecond on a healthy server: waiting longer than this
# means it is stalled, and a token call should not wait for it.
DEFAULT_CALL_TIMEOUT: Final = 0.25


class BreakerRateLimitStore:
    """A RateLimitStore that skips `store` for `cool_down` seconds after it fails."""

    def __init__(
        self,
        store: RateLimitStore,
        *,
        cool_down: float = DEFAULT_COOL_DOWN,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._cool_down = cool_down
        self._call_timeout = call_timeout
        self._clock = clock
        self._opened_at: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        """Whether calls skip the store now (opened and not yet closed by a probe)."""
        return self._opened_at is not None

    async def hit(self, key: str, *, window_seconds: int) -> tuple[int, float]:
        if self._opened_at is not None:
            due = self._clock() - self._opened_at >= self._cool_down
            if not due or self._probing:
                raise _skipped()
            self._probing = True  # this call is the probe; others keep skipping meanwhile
        try:
            async with asyncio.timeout(deadline.attempt_timeout(self._call_timeout)):
                result = await self._store.hit(key, window_seconds=window_seconds)
        except (ProviderUnavailable, TimeoutError) as exc:
            self._open(exc)
            raise ProviderUnavailable("Redis is unreachable") from exc
        finally:
            self._probing = False
        self._close()
        return result

    async def ping(self) -> None:
        # Readiness asks Redis itself, whatever the breaker says.
        await self._store.ping()

    async def close(self) -> None:
        await self._store.close()

    def gauge(self) -> Gauge:
        """1 while the breaker is open (counting in this process), else 0."""
        return Gauge(
            name="rate_limit_breaker_open",
            help="1 while Redis is skipped after a failure and budgets are counted per "
            "process; 0 while Redis counts them.",
            samples={(): 1.0 if self.is_open else 0.0},
        )

    def _open(self, exc: BaseException) -> None:
        if self._opened_at is None:
            logger.info(
                "rate-limit store circuit open",
                extra={"error_type": type(exc).__name__, "cool_down_seconds": self._cool_down},
            )
        self._opened_at = self._clock()

    def _close(self) -> None:
        if self._opened_at is not None:
            self._opened_at = None
            logger.info("rate-limit store circuit closed")


def _skipped() -> ProviderUnavailable:
    error = ProviderUnavailable("Redis skipped: circuit open")
    error.code = STORE_SKIPPED
    return error
