"""The HTTP suites' fixtures: test worlds over the real app (tests/support/world.py), and a
Redis server with a key prefix per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest
import redis.asyncio as aioredis

from tests.support import servers
from tests.support.world import NO_WORKER, World, build_http_world
from yc_chat.entrypoints.settings import HttpSettings, WorkerSettings
from yc_chat.ports import RateLimitStore

WorldFactory = Callable[..., Any]


@pytest.fixture
async def make_world() -> AsyncIterator[WorldFactory]:
    """Build worlds with custom settings; every client is closed at the end."""
    worlds: list[World] = []

    async def build(
        settings: HttpSettings | None = None,
        *,
        rate_limit_store: RateLimitStore | None = None,
        on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
        worker: WorkerSettings = NO_WORKER,
    ) -> World:
        built = await build_http_world(
            settings, rate_limit_store=rate_limit_store, on_shutdown=on_shutdown, worker=worker
        )
        worlds.append(built)
        return built

    yield build
    for built in worlds:
        await built.client.__aexit__(None, None, None)


@pytest.fixture
async def world(make_world: WorldFactory) -> World:
    """The default world."""
    built: World = await make_world()
    return built


@pytest.fixture
def redis_url() -> str:
    """The session's own Redis server (tests/support/servers.py): started here, or skipped."""
    return servers.redis_url()


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own on that server, its keys deleted afterwards."""
    prefix = f"yc-chat-test:{uuid.uuid4().hex}:"
    yield prefix
    client: Any = aioredis.Redis.from_url(redis_url)
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
