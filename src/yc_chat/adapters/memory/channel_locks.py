"""ChannelLocks in memory (one process only)."""

from __future__ import annotations

from datetime import datetime


class InMemoryChannelLocks:
    """ChannelLocks over a dict: key -> (owner, until). One process only."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, datetime]] = {}

    async def acquire(self, key: str, *, owner: str, until: datetime, now: datetime) -> bool:
        # No await between test and set: atomic within one event loop.
        held = self._held.get(key)
        if held is not None and held[0] != owner and held[1] > now:
            return False
        self._held[key] = (owner, until)
        return True

    async def release(self, key: str, *, owner: str) -> None:
        held = self._held.get(key)
        if held is not None and held[0] == owner:
            del self._held[key]
