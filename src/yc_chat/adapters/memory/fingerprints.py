"""ProfileFingerprints in memory."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from yc_chat.domain.model import UserId


class InMemoryFingerprints:
    """ProfileFingerprints over a dict."""

    def __init__(self) -> None:
        self._items: dict[UserId, str] = {}

    async def get_many(self, user_ids: Collection[UserId]) -> Mapping[UserId, str]:
        return {uid: self._items[uid] for uid in user_ids if uid in self._items}

    async def put_many(self, fingerprints: Mapping[UserId, str]) -> None:
        self._items.update(fingerprints)

    async def invalidate(self, user_id: UserId) -> None:
        self._items.pop(user_id, None)
