"""Counting hits per key in fixed windows, for request budgets (the token endpoint's)."""

from __future__ import annotations

from typing import Final, Protocol

# The code of the ProviderUnavailable a store raises when it did not even try (a circuit
# breaker skipping it after a failure): the failure was already reported.
STORE_SKIPPED: Final = "rate_limit_store_skipped"


class RateLimitStore(Protocol):
    """Counts hits per key in windows that start at a key's first hit.

    `hit` is atomic per key: concurrent hits, from this process or others sharing the
    store, are each counted once, and a window always ends (no counter outlives it).
    When the store cannot be reached, `hit` and `ping` raise ProviderUnavailable.
    """

    async def hit(self, key: str, *, window_seconds: int) -> tuple[int, float]:
        """Count one hit; returns (hits in the current window, seconds until it resets)."""

    async def ping(self) -> None:
        """Raise ProviderUnavailable when the store cannot be reached."""

    async def close(self) -> None:
        """Release connections."""
