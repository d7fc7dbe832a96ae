"""The request deadline over HTTP: a dependency that never answers is cut at
REQUEST_DEADLINE, and the caller gets 503 `deadline_exceeded` with Retry-After and the
contract's body; the next request, once it answers again, succeeds."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.http.conftest import WorldFactory
from tests.support.world import World, assert_error, default_settings

NEVER = 10.0  # bounds the call, so a missing deadline fails the test instead of hanging it


async def test_a_hung_dependency_is_cut_at_the_deadline(make_world: WorldFactory) -> None:
    world: World = await make_world(default_settings(request_deadline_seconds=0.3))
    chat: Any = world.chat
    real_open = chat.open_channel

    async def hangs(*args: Any, **kwargs: Any) -> Any:
        await asyncio.Event().wait()  # a store or provider stuck in a socket

    chat.open_channel = hangs
    body = {"orgId": "org-1", "memberIds": ["vet-1", "nurse-1"], "createdBy": "vet-1"}
    async with asyncio.timeout(NEVER):
        response = await world.post("/api/chat/channels/internal", "vet-1", body)
    assert_error(response, 503, "deadline_exceeded")
    assert int(response.headers["retry-after"]) >= 1

    chat.open_channel = real_open  # it answers again: no restart needed
    response = await world.post("/api/chat/channels/internal", "vet-1", body)
    assert response.status_code == 200, response.text
