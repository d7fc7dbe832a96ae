"""With Redis away, token calls still answer (counted in this process) and /metrics shows
the circuit breaker open; the budget still holds."""

from __future__ import annotations

from typing import Any

from tests.http.conftest import WorldFactory
from tests.support.world import World, assert_error, default_settings
from yc_chat.adapters.redis import BreakerRateLimitStore, RedisRateLimitStore
from yc_chat.entrypoints.settings import RateLimit


async def _token(world: World, user: str) -> Any:
    return await world.post("/api/chat/token", user, {"userId": user})


def _gauge(text: str) -> float | None:
    for line in text.splitlines():
        if line.startswith("yc_chat_rate_limit_breaker_open"):
            return float(line.split()[-1])
    return None


async def test_redis_away_opens_the_breaker_and_the_gauge_says_so(
    make_world: WorldFactory,
) -> None:
    store = BreakerRateLimitStore(RedisRateLimitStore("redis://127.0.0.1:1/0", prefix="away:"))
    settings = default_settings(token_rate_limit=RateLimit(limit=2, window_seconds=60))
    world: World = await make_world(settings, rate_limit_store=store, on_shutdown=[store.close])
    assert _gauge((await world.client.get("/metrics")).text) == 0.0

    assert (await _token(world, "vet-1")).is_success
    assert (await _token(world, "vet-1")).is_success
    assert_error(await _token(world, "vet-1"), 429, "rate_limited")  # counted here instead

    assert _gauge((await world.client.get("/metrics")).text) == 1.0
