"""Provider profiles kept in step with the directory, upserted only when they changed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain.model import UserProfile

if TYPE_CHECKING:
    # Ports are structural Protocols: the domain needs them as types only, never at run time.
    from yc_chat.ports import ChatProvider, ProfileFingerprints


@attrs.frozen(kw_only=True)
class ProfileSync:
    """Upserts provider profiles only when name or image changed since the last upsert."""

    chat: ChatProvider
    fingerprints: ProfileFingerprints

    async def sync(self, profiles: Iterable[UserProfile]) -> None:
        wanted = {profile.id: profile for profile in profiles}
        if not wanted:
            return
        known = await self.fingerprints.get_many(list(wanted))
        stale = [p for p in wanted.values() if known.get(p.id) != p.fingerprint]
        if not stale:
            return
        await self.chat.upsert_profiles(stale)
        await self.fingerprints.put_many({p.id: p.fingerprint for p in stale})
