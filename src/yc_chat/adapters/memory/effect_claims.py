"""EffectClaims in memory: the claims of once-only side effects."""

from __future__ import annotations


class InMemoryEffectClaims:
    """EffectClaims: the set of claimed keys."""

    def __init__(self) -> None:
        self._claimed: set[str] = set()

    async def claim(self, key: str) -> bool:
        # No await between test and set: atomic within one event loop.
        if key in self._claimed:
            return False
        self._claimed.add(key)
        return True

    async def release(self, key: str) -> None:
        self._claimed.discard(key)
