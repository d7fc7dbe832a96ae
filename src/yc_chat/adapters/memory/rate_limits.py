"""RateLimitStore in memory: the counters of one process."""

from __future__ import annotations

import time
from collections.abc import Callable


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
