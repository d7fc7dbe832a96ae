"""The request deadline over HTTP: a dependency that never answers is cut at
REQUEST_DEADLINE, and the caller gets 503 `deadline_exceeded` with Retry-After and the
contract's body; the next request, once it answers again, succeeds."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.http.conftest import WorldFactory
from tests.support.world import (
    NOW,
    WEBHOOK_SECRET,
    World,
    assert_error,
    default_settings,
)
from yc_chat import in_memory
from yc_chat.adapters.memory import InMemoryEventInbox
from yc_chat.entrypoints.http import create_app
from yc_chat.entrypoints.settings import Settings

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


class _HungInbox(InMemoryEventInbox):
    """An inbox whose database never answers the record."""

    async def record(self, *args: Any, **kwargs: Any) -> bool:
        await asyncio.Event().wait()
        return True


async def test_a_webhook_whose_record_hangs_is_cut_at_the_deadline() -> None:
    """The webhook route opens no budget over the in-memory inbox (it cannot wait); over
    any other, a record stuck in its store is cut: 503, and nothing is acknowledged."""
    runtime = in_memory(
        Settings(http=default_settings(request_deadline_seconds=0.3)), inbox=_HungInbox()
    )
    body = json.dumps({"type": "message.new", "message": {"id": "m-hung", "user": {"id": "x"}}})
    signature = hmac.new(WEBHOOK_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    async with AsyncTestClient(create_app(runtime)) as client, asyncio.timeout(NEVER):
        response = await client.post(
            "/api/webhooks/stream",
            content=body,
            headers={"X-Signature": signature, "X-Webhook-Id": "hung-1"},
        )
    assert_error(response, 503, "deadline_exceeded")
    assert int(response.headers["retry-after"]) >= 1


async def test_the_in_memory_inbox_records_without_ever_waiting() -> None:
    """What lets the webhook route skip the budget over it: its record never suspends."""
    inbox = InMemoryEventInbox()
    call = inbox.record("e-1", event_type="message.new", payload=b"{}", received_at=NOW)
    with pytest.raises(StopIteration) as done:
        call.send(None)  # one step runs it to the end, or it would have yielded to the loop
    assert done.value.value is True
