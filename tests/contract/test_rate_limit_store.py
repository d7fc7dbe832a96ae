"""RateLimitStore contract, run against every adapter: in memory and on a real Redis server
(the session's own, started by tests/support/servers.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support import servers
from yc_chat.adapters.memory import MemoryRateLimitStore
from yc_chat.adapters.redis import RedisRateLimitStore
from yc_chat.domain.errors import ProviderUnavailable


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield MemoryRateLimitStore()
        return
    redis = RedisRateLimitStore(servers.redis_url(), prefix=f"yc-chat-test:{uuid.uuid4().hex}:")
    yield redis
    await redis.close()


async def test_hits_count_up_within_one_window(store: Any) -> None:
    assert (await store.hit("u", window_seconds=60))[0] == 1
    assert (await store.hit("u", window_seconds=60))[0] == 2
    count, reset_in = await store.hit("u", window_seconds=60)
    assert count == 3
    assert 0 < reset_in <= 60


async def test_keys_are_counted_apart(store: Any) -> None:
    await store.hit("a", window_seconds=60)
    await store.hit("a", window_seconds=60)
    assert (await store.hit("b", window_seconds=60))[0] == 1


async def test_concurrent_hits_are_each_counted_once(store: Any) -> None:
    counts = await asyncio.gather(*(store.hit("k", window_seconds=60) for _ in range(20)))
    assert sorted(count for count, _ in counts) == list(range(1, 21))


async def test_ping_answers_when_reachable(store: Any) -> None:
    await store.ping()


async def test_an_unreachable_redis_is_provider_unavailable() -> None:
    store = RedisRateLimitStore("redis://127.0.0.1:1/0", prefix="unreachable:")
    with pytest.raises(ProviderUnavailable):
        await store.hit("k", window_seconds=60)
    with pytest.raises(ProviderUnavailable):
        await store.ping()
    await store.close()
