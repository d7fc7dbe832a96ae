"""What each user's chat provider profile was last written as."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from yc_chat.domain.model import UserId


class ProfileFingerprints(Protocol):
    """What each user's provider profile was last upserted as."""

    async def get_many(self, user_ids: Collection[UserId]) -> Mapping[UserId, str]:
        """Stored fingerprints among `user_ids`."""

    async def put_many(self, fingerprints: Mapping[UserId, str]) -> None:
        """Remember fingerprints after a successful upsert."""

    async def invalidate(self, user_id: UserId) -> None:
        """Mark the user's provider profile stale: the next use upserts it."""
