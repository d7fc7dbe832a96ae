"""Coordination between callers and instances: side-effect claims and channel locks."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from yc_chat.domain.model import ClaimState


class EffectClaims(Protocol):
    """Claims on side effects that must happen once only (e.g. `push:{event id}:{recipient}`),
    each taken under a lease and confirmed once done: a redelivered or retried event repeats
    none that finished, and one whose taker died before confirming is taken again once its
    lease runs out."""

    async def claim(self, key: str, *, owner: str, now: datetime, until: datetime) -> ClaimState:
        """Take `key` for `owner` until `until`.

        TAKEN when nobody holds it, or when its last holder's lease ran out (`until <= now`)
        unconfirmed; HELD while another holder's lease runs; DONE once confirmed. Of
        concurrent callers, in one process or several, at most one gets TAKEN.
        """

    async def confirm(self, key: str, *, owner: str) -> None:
        """Record that `owner`'s effect took place: `key` is DONE for good, even when
        `owner`'s lease ran out meanwhile (the effect happened all the same)."""

    async def release(self, key: str, *, owner: str) -> None:
        """Give back `owner`'s unconfirmed claim (its effect failed), so the next claim takes
        it at once; a claim someone else took since is left alone."""


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
