"""EffectClaims in memory: leased effect claims, confirmed once done."""

from __future__ import annotations

from datetime import UTC, datetime

from yc_chat.domain.model import ClaimState

# A released claim's lease: over before any `now`.
_LAPSED = datetime.min.replace(tzinfo=UTC)


class InMemoryEffectClaims:
    """EffectClaims: per key, each owner's lease end; and the keys confirmed."""

    def __init__(self) -> None:
        self._leases: dict[str, dict[str, datetime]] = {}
        self._done: set[str] = set()

    async def claim(self, key: str, *, owner: str, now: datetime, until: datetime) -> ClaimState:
        # No await between test and set: atomic within one event loop.
        if key in self._done:
            return ClaimState.DONE
        leases = self._leases.setdefault(key, {})
        if any(end > now for end in leases.values()):
            return ClaimState.HELD
        leases[owner] = until
        return ClaimState.TAKEN

    async def confirm(self, key: str, *, owner: str) -> None:
        if owner in self._leases.get(key, {}):
            self._done.add(key)
            del self._leases[key]

    async def release(self, key: str, *, owner: str) -> None:
        leases = self._leases.get(key, {})
        if owner in leases:
            leases[owner] = _LAPSED
