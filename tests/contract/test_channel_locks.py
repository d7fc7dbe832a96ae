"""Contract of ChannelLocks: short-lived, lapsing mutual exclusion per key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.contract.adapters import CHANNEL_LOCKS

HOLD = timedelta(seconds=30)
KEY = "end:grp_1"


@pytest.fixture
def t0() -> datetime:
    """Near the real time: MongoDB's TTL index removes locks long lapsed by its own clock."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(params=sorted(CHANNEL_LOCKS))
async def locks(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    async with CHANNEL_LOCKS[request.param]() as built:
        yield built


async def test_a_held_lock_excludes_other_owners_until_released(locks: Any, t0: datetime) -> None:
    assert await locks.acquire(KEY, owner="a", until=t0 + HOLD, now=t0)
    assert not await locks.acquire(KEY, owner="b", until=t0 + HOLD, now=t0)
    assert not await locks.acquire(KEY, owner="b", until=t0 + HOLD, now=t0 + HOLD / 2)
    await locks.release(KEY, owner="a")
    assert await locks.acquire(KEY, owner="b", until=t0 + HOLD, now=t0 + HOLD / 2)


async def test_keys_are_independent(locks: Any, t0: datetime) -> None:
    assert await locks.acquire("end:one", owner="a", until=t0 + HOLD, now=t0)
    assert await locks.acquire("end:two", owner="b", until=t0 + HOLD, now=t0)
    assert await locks.acquire("members:one", owner="c", until=t0 + HOLD, now=t0)


async def test_the_owner_may_renew_its_own_lock(locks: Any, t0: datetime) -> None:
    assert await locks.acquire(KEY, owner="a", until=t0 + HOLD, now=t0)
    assert await locks.acquire(KEY, owner="a", until=t0 + 2 * HOLD, now=t0 + HOLD / 2)
    # Renewed: still held after the first `until`.
    assert not await locks.acquire(KEY, owner="b", until=t0 + 3 * HOLD, now=t0 + HOLD)


async def test_an_abandoned_lock_lapses_at_its_until(locks: Any, t0: datetime) -> None:
    assert await locks.acquire(KEY, owner="crashed", until=t0 + HOLD, now=t0)
    # Never released: held until just before `until`, free from `until` on.
    later = t0 + HOLD - timedelta(seconds=1)
    assert not await locks.acquire(KEY, owner="b", until=later + HOLD, now=later)
    assert await locks.acquire(KEY, owner="b", until=t0 + 2 * HOLD, now=t0 + HOLD)
    assert not await locks.acquire(KEY, owner="c", until=t0 + 2 * HOLD, now=t0 + HOLD)


async def test_only_the_owner_can_release(locks: Any, t0: datetime) -> None:
    assert await locks.acquire(KEY, owner="a", until=t0 + HOLD, now=t0)
    await locks.release(KEY, owner="b")
    assert not await locks.acquire(KEY, owner="b", until=t0 + HOLD, now=t0)
    await locks.release(KEY, owner="a")
    assert await locks.acquire(KEY, owner="b", until=t0 + HOLD, now=t0)


async def test_a_late_release_does_not_free_the_lock_of_whoever_took_it_over(
    locks: Any, t0: datetime
) -> None:
    assert await locks.acquire(KEY, owner="slow", until=t0 + HOLD, now=t0)
    assert await locks.acquire(KEY, owner="next", until=t0 + 2 * HOLD, now=t0 + HOLD)
    await locks.release(KEY, owner="slow")  # its lock had lapsed: nothing of its is left
    assert not await locks.acquire(KEY, owner="third", until=t0 + 2 * HOLD, now=t0 + HOLD)


async def test_releasing_a_free_key_is_harmless(locks: Any, t0: datetime) -> None:
    await locks.release("never-taken", owner="a")
    assert await locks.acquire("never-taken", owner="a", until=t0 + HOLD, now=t0)


async def test_concurrent_acquires_of_one_key_yield_one_winner(locks: Any, t0: datetime) -> None:
    results = await asyncio.gather(
        *(locks.acquire(KEY, owner=f"owner-{i}", until=t0 + HOLD, now=t0) for i in range(50))
    )
    assert results.count(True) == 1


async def test_concurrent_takeovers_of_a_lapsed_lock_yield_one_winner(
    locks: Any, t0: datetime
) -> None:
    assert await locks.acquire(KEY, owner="crashed", until=t0 + HOLD, now=t0)
    later = t0 + 2 * HOLD
    results = await asyncio.gather(
        *(locks.acquire(KEY, owner=f"owner-{i}", until=later + HOLD, now=later) for i in range(50))
    )
    assert results.count(True) == 1
