"""Provider profiles kept in step with the directory, upserted only when they changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

import attrs

from yc_chat.domain import errors
from yc_chat.domain.model import UserProfile

if TYPE_CHECKING:
    # Ports are structural Protocols: the domain needs them as types only, never at run time.
    from yc_chat.ports import ChatProvider, ProfileFingerprints

T = TypeVar("T")


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

    async def healing(
        self, profiles: Iterable[UserProfile], write: Callable[[], Awaitable[T]]
    ) -> T:
        """Run a provider write naming these users; if the provider says some do not exist,
        forget their fingerprints, upsert them again and run the write once more.

        The fingerprints only say what we last sent: a provider that lost its users (a new
        app on the same database, an emptied emulator, users deleted in its dashboard)
        would otherwise refuse every chat with them for good.
        """
        try:
            return await write()
        except errors.ProviderUsersMissing as exc:
            wanted: dict[str, UserProfile] = {profile.id: profile for profile in profiles}
            named = [wanted[u] for u in exc.user_ids if u in wanted]
            # Stream names the missing users; if it did not, every one of ours is suspect.
            lost = named if exc.user_ids else list(wanted.values())
            if not lost:
                raise  # users that are not this write's to restore (the adapter's own)
            for profile in lost:
                await self.fingerprints.invalidate(profile.id)
            await self.chat.upsert_profiles(lost)
            await self.fingerprints.put_many({p.id: p.fingerprint for p in lost})
        return await write()
