"""Holding a ChannelLocks key around a read-check-write on one channel."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING

from yc_chat.domain import errors

if TYPE_CHECKING:
    from yc_chat.ports import ChannelLocks, Clock

# Far longer than one provider call: a live holder finishes well before its lock lapses;
# a crashed one blocks the key for at most this long.
CHANNEL_LOCK_FOR = timedelta(seconds=30)

# Pauses (seconds) before an end looks again at a chat whose end lock another call holds:
# long enough for a refused caller's one read, far shorter than a client's timeout.
END_LOCK_WAITS = (0.02, 0.05, 0.1)


def end_lock_key(channel_id: str) -> str:
    """The lock every path that ends a chat takes (manual end, scheduled auto-end)."""
    return f"end:{channel_id}"


def members_lock_key(channel_id: str) -> str:
    """The lock a group membership change takes."""
    return f"members:{channel_id}"


def new_lock_owner() -> str:
    """A random owner id: one per call, so no two callers ever look like the same owner."""
    return secrets.token_hex(8)


@contextlib.asynccontextmanager
async def channel_lock(
    locks: ChannelLocks, key: str, *, clock: Clock, hold_for: timedelta = CHANNEL_LOCK_FOR
) -> AsyncIterator[bool]:
    """Try to take `key` (never waits); yields whether this caller holds it.

    A held lock is released on the way out. Releasing is best effort: if the store is
    unreachable then, the lock lapses by itself, and the caller's own outcome (which has
    already happened) is not replaced by that failure.
    """
    owner = new_lock_owner()
    now = clock.now()
    held = await locks.acquire(key, owner=owner, until=now + hold_for, now=now)
    try:
        yield held
    finally:
        if held:
            with contextlib.suppress(errors.ProviderUnavailable):
                await locks.release(key, owner=owner)
