"""Coordination between callers and instances: side-effect claims and channel locks."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class EffectClaims(Protocol):
    """Claims on side effects that must happen once only: the keys of effects already
    taken (e.g. `push:{event id}:{recipient}`), so a redelivered or retried event repeats
    none of them."""

    async def claim(self, key: str) -> bool:
        """Atomically take `key`; False if it was already taken."""

    async def release(self, key: str) -> None:
        """Give a claim back after its effect failed, so a retry can take it."""


class ChannelLocks(Protocol):
    """Short-lived mutual exclusion between callers (on any instance) changing one channel.

    A lock lapses by itself at its `until`, so a holder that crashed never blocks the key
    for longer than that; it is not a fence for work that outlives it.
    """

    async def acquire(self, key: str, *, owner: str, until: datetime, now: datetime) -> bool:
        """Atomically hold `key` for `owner` until `until`.

        False when another owner holds an unexpired lock on `key` (one whose `until` is
        after `now`); a lapsed lock is taken over, and the same owner may renew its own.
        """

    async def release(self, key: str, *, owner: str) -> None:
        """Drop `owner`'s lock on `key`; a lock held by anyone else is left alone."""
