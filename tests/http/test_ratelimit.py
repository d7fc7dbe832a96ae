"""Token endpoint budgets: per user, per address, in process and shared through real Redis."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from redis import asyncio as aioredis

from tests.http.conftest import WorldFactory
from tests.support.world import World, assert_error, default_settings
from yc_chat.adapters.memory import MemoryRateLimitStore
from yc_chat.adapters.redis import RedisRateLimitStore
from yc_chat.entrypoints.http.pipeline import client_address
from yc_chat.entrypoints.settings import RateLimit


def _limited(limit: int, factor: int = 4) -> Any:
    return default_settings(
        token_rate_limit=RateLimit(limit=limit, window_seconds=60), address_limit_factor=factor
    )


async def _token(world: World, user: str) -> Any:
    return await world.post("/api/chat/token", user, {"userId": user})


async def test_per_user_budget_then_429_with_retry_after(make_world: WorldFactory) -> None:
    world: World = await make_world(_limited(2))
    assert (await _token(world, "vet-1")).is_success
    assert (await _token(world, "vet-1")).is_success
    before = await world.snapshot()
    response = await _token(world, "vet-1")
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert await world.snapshot() == before
    assert (await _token(world, "vet-2")).is_success  # another user's budget is untouched


async def test_per_address_budget_spans_users(make_world: WorldFactory) -> None:
    world: World = await make_world(_limited(1, factor=2))  # 2 per address
    assert (await _token(world, "vet-1")).is_success
    assert (await _token(world, "vet-2")).is_success
    assert_error(await _token(world, "nurse-1"), 429, "rate_limited")


async def test_off_means_no_limit(world: World) -> None:
    for _ in range(40):
        assert (await _token(world, "vet-1")).is_success


async def test_other_endpoints_are_not_limited(make_world: WorldFactory) -> None:
    world: World = await make_world(_limited(1))
    for _ in range(5):
        assert (await world.get("/api/chat/channels", "vet-1")).is_success


async def test_memory_store_windows_reset_and_sweep() -> None:
    now = [1000.0]
    store = MemoryRateLimitStore(now=lambda: now[0], max_keys=4)
    assert await store.hit("a", window_seconds=10) == (1, 10.0)
    assert await store.hit("a", window_seconds=10) == (2, 10.0)
    now[0] += 10
    assert (await store.hit("a", window_seconds=10))[0] == 1
    for index in range(10):
        await store.hit(f"k{index}", window_seconds=10)
    assert len(store._windows) <= 4  # bounded under an address flood


async def test_redis_budget_is_shared_by_two_instances(
    make_world: WorldFactory, redis_url: str, redis_prefix: str
) -> None:
    # Each app runs on its own event loop; each store is used and closed on that loop.
    first_store = RedisRateLimitStore(redis_url, prefix=redis_prefix)
    second_store = RedisRateLimitStore(redis_url, prefix=redis_prefix)
    first: World = await make_world(
        _limited(2), rate_limit_store=first_store, on_shutdown=[first_store.close]
    )
    second: World = await make_world(
        _limited(2), rate_limit_store=second_store, on_shutdown=[second_store.close]
    )
    assert (await _token(first, "vet-1")).is_success
    assert (await _token(second, "vet-1")).is_success
    response = await _token(first, "vet-1")
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert_error(await _token(second, "vet-1"), 429)
    # The counter carries its expiry: a crash can never leave a budget spent forever.
    client: Any = aioredis.Redis.from_url(redis_url)
    ttl = await client.pttl(f"{redis_prefix}tok:u:vet-1")
    await client.aclose()
    assert 0 < ttl <= 60_000


async def test_redis_outage_falls_back_to_counting_in_process(make_world: WorldFactory) -> None:
    store = RedisRateLimitStore("redis://127.0.0.1:1/0", prefix="unreachable:")
    world: World = await make_world(_limited(1), rate_limit_store=store, on_shutdown=[store.close])
    assert (await _token(world, "vet-1")).is_success
    assert_error(await _token(world, "vet-1"), 429, "rate_limited")


def _scope(peer: str, forwarded: str | None) -> Any:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return {"type": "http", "client": (peer, 1234), "headers": headers}


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # untrusted peer: header ignored
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.7", "198.51.100.1"),  # spoofed head
        ("10.0.0.2", "garbage", "10.0.0.2"),
        ("10.0.0.2", "10.0.0.3, 10.0.0.4", "10.0.0.3"),
        ("10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_client_address_behind_trusted_proxies(
    peer: str, forwarded: str | None, expected: str
) -> None:
    trusted = (ipaddress.ip_network("10.0.0.0/8"),)
    assert client_address(_scope(peer, forwarded), trusted) == expected


def test_client_address_without_trusted_proxies_is_the_peer() -> None:
    assert client_address(_scope("10.0.0.2", "1.2.3.4"), ()) == "10.0.0.2"
