"""WRITE_RATE_LIMIT (issue 13, finding 2): a receptionist created 300 groups in 1.2 s.

Every authenticated POST and DELETE under /api/ counts against the caller's budget, in the
same stores as the token budget (per process, or shared through a real Redis server).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from redis import asyncio as aioredis

from tests.http.conftest import WorldFactory
from tests.support.world import WEBHOOK_SECRET, World, assert_error, bearer, default_settings
from yc_chat.adapters.redis import RedisRateLimitStore
from yc_chat.entrypoints.settings import RateLimit, Settings, SettingsError


def _budget(limit: int) -> Any:
    return default_settings(write_rate_limit=RateLimit(limit=limit, window_seconds=60))


async def _new_group(world: World, user: str = "nurse-1", name: str = "Flood") -> Any:
    return await world.post(
        "/api/chat/channels/group",
        user,
        {"orgId": "org-1", "name": name, "memberIds": ["admin-1"], "createdBy": user},
    )


def _group_count(world: World) -> int:
    return sum(1 for name, _ in world.chat.writes if name == "open_channel")


async def test_a_flood_of_groups_stops_at_the_default_budget(make_world: WorldFactory) -> None:
    world: World = await make_world(
        default_settings(write_rate_limit=Settings().http.write_rate_limit)
    )
    statuses = [(await _new_group(world, name=f"Flood {n}")).status_code for n in range(100)]
    assert statuses == [200] * 60 + [429] * 40
    assert _group_count(world) == 60
    response = await _new_group(world)
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    # The owner's list holds what the budget allowed, not the flood.
    listed = await world.get("/api/chat/channels/groups", "admin-1", params={"orgId": "org-1"})
    assert len(listed.json()["channels"]) == 60


async def test_the_budget_is_per_user(make_world: WorldFactory) -> None:
    world: World = await make_world(_budget(2))
    assert (await _new_group(world)).status_code == 200
    assert (await _new_group(world)).status_code == 200
    assert_error(await _new_group(world), 429, "rate_limited")
    assert (await _new_group(world, "vet-1")).status_code == 200


async def test_every_write_counts_and_reads_do_not(make_world: WorldFactory) -> None:
    world: World = await make_world(_budget(3))
    for _ in range(10):
        assert (await world.get("/api/chat/channels", "owner-1")).status_code == 200
    device = {"token": "ExponentPushToken[x]", "platform": "ios"}
    assert (await world.post("/api/devices", "owner-1", device)).status_code == 200
    gone = await world.client.delete("/api/devices/ExponentPushToken[x]", headers=bearer("owner-1"))
    assert gone.status_code == 200
    assert (
        await world.post("/api/chat/channels", "owner-1", {"appointmentId": "apt-1"})
    ).is_success
    before = await world.snapshot()
    assert_error(await world.post("/api/devices", "owner-1", device), 429)
    assert await world.snapshot() == before


async def test_the_token_endpoint_and_webhook_have_their_own_rules(
    make_world: WorldFactory,
) -> None:
    world: World = await make_world(_budget(1))
    assert (await _new_group(world, "vet-2")).status_code == 200
    assert_error(await _new_group(world, "vet-2"), 429)
    for _ in range(5):
        token = await world.post("/api/chat/token", "vet-2", {"userId": "vet-2"})
        assert token.status_code == 200
    for n in range(5):
        body = json.dumps(
            {
                "type": "message.new",
                "cid": "messaging:x",
                "message": {"id": f"m{n}", "text": "hi", "user": {"id": "vet-2"}},
            }
        ).encode()
        signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        response = await world.client.post(
            "/api/webhooks/stream",
            content=body,
            headers={"X-Signature": signature, "Content-Type": "application/json"},
        )
        assert response.status_code == 200


async def test_check_order_413_401_then_429_before_400(make_world: WorldFactory) -> None:
    world: World = await make_world(_budget(1))
    assert (await _new_group(world)).status_code == 200
    # Over budget, a malformed body is still 429: the budget is checked before the shape.
    bad = await world.client.post(
        "/api/chat/channels/group", content=b"{not json", headers=bearer("nurse-1")
    )
    assert_error(bad, 429)
    # Unauthenticated requests are 401 and never spend anyone's budget.
    for _ in range(3):
        assert_error(await world.post("/api/chat/channels/group", None, {}), 401)
    assert (await _new_group(world, "vet-1")).status_code == 200
    huge = await world.client.post(
        "/api/chat/channels/group",
        content=b"x" * (300 * 1024),
        headers={**bearer("nurse-1"), "Content-Type": "application/json"},
    )
    assert_error(huge, 413)


def test_write_rate_limit_settings() -> None:
    assert Settings.from_env({"JWT_SECRET": "s" * 40}).http.write_rate_limit == RateLimit(
        limit=60, window_seconds=60
    )
    env = {"JWT_SECRET": "s" * 40, "WRITE_RATE_LIMIT": "off"}
    assert Settings.from_env(env).http.write_rate_limit is None
    env["WRITE_RATE_LIMIT"] = "5/second"
    assert Settings.from_env(env).http.write_rate_limit == RateLimit(limit=5, window_seconds=1)
    env["WRITE_RATE_LIMIT"] = "lots"
    with pytest.raises(SettingsError, match="WRITE_RATE_LIMIT"):
        Settings.from_env(env)


async def test_the_write_budget_is_shared_through_redis(
    make_world: WorldFactory, redis_url: str, redis_prefix: str
) -> None:
    stores = [RedisRateLimitStore(redis_url, prefix=redis_prefix) for _ in range(2)]
    first, second = [
        await make_world(_budget(2), rate_limit_store=store, on_shutdown=[store.close])
        for store in stores
    ]
    assert (await _new_group(first)).status_code == 200
    assert (await _new_group(second)).status_code == 200
    assert_error(await _new_group(first), 429, "rate_limited")
    assert_error(await _new_group(second), 429, "rate_limited")
    client: Any = aioredis.Redis.from_url(redis_url)
    ttl = await client.pttl(f"{redis_prefix}w:u:nurse-1")
    await client.aclose()
    assert 0 < ttl <= 60_000
