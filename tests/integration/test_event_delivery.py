"""Webhook delivery end to end on the Beanie inbox (MongoDB double): an event recorded by one
app instance whose worker never ran is handled by the next; concurrent redeliveries to two
instances push once per recipient."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.support.demo import FIXTURE, NOW
from tests.support.mongo_double.stores import mongo_stores
from tests.support.notifier import RecordingNotifier
from tests.support.world import WEBHOOK_SECRET, bearer, default_settings
from yc_chat.adapters.beanie import MongoStores
from yc_chat.adapters.clock import FixedClock
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamState
from yc_chat.adapters.metrics import PrometheusMetrics
from yc_chat.adapters.stream.events import STREAM_WEBHOOKS
from yc_chat.domain.inbox import InboxState
from yc_chat.domain.service import Ports
from yc_chat.entrypoints import bootstrap
from yc_chat.entrypoints.fixture import parse_fixture, seed
from yc_chat.entrypoints.http import create_app
from yc_chat.entrypoints.settings import Settings, WorkerSettings


@pytest.fixture
async def stores() -> AsyncIterator[MongoStores]:
    async with mongo_stores() as opened:
        await seed(
            parse_fixture(FIXTURE), directory=opened.directory, appointments=opened.appointments
        )
        yield opened


class Instance:
    """One service process: its own app, worker and push outbox, over shared stores."""

    def __init__(self, stores: MongoStores, state: StreamState, *, worker: bool) -> None:
        self.notifier = RecordingNotifier()
        clock = FixedClock(NOW)
        metrics = PrometheusMetrics()
        ports = Ports(
            directory=stores.directory,
            appointments=stores.appointments,
            chat=FakeStreamChatProvider(state, api_secret=WEBHOOK_SECRET),
            devices=stores.devices,
            notifier=self.notifier,
            fingerprints=stores.fingerprints,
            effect_claims=stores.effect_claims,
            inbox=stores.inbox,
            locks=stores.locks,
            clock=clock,
            webhooks=STREAM_WEBHOOKS,
            metrics=metrics,
        )
        settings = Settings(
            http=default_settings(), worker=WorkerSettings(enabled=worker, poll_seconds=0.02)
        )
        runtime = bootstrap.assemble(
            ports,
            settings,
            exporter=metrics,
            probes={},
            persistent=True,
        )
        self.app = create_app(runtime)

    def client(self) -> AsyncTestClient[Any]:
        return AsyncTestClient(self.app)


def signed(body: bytes, webhook_id: str) -> dict[str, str]:
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Signature": signature, "X-Webhook-Id": webhook_id}


def message(channel_id: str, sender: str) -> bytes:
    return json.dumps(
        {"type": "message.new", "channel_id": channel_id,
         "message": {"text": "Is Rex OK?", "user": {"id": sender}}}
    ).encode()  # fmt: skip


async def wait_for(condition: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_an_event_recorded_before_a_crash_is_handled_after_restart(
    stores: MongoStores,
) -> None:
    state = StreamState()
    down = Instance(stores, state, worker=False)  # its worker died before handling
    async with down.client() as client:
        chat = await client.post(
            "/api/chat/channels", json={"appointmentId": "apt-2"}, headers=bearer("owner-2")
        )
        body = message(chat.json()["channelId"], "owner-2")
        response = await client.post(
            "/api/webhooks/stream", content=body, headers=signed(body, "evt-crash")
        )
        assert response.json() == {"ok": True}
    assert down.notifier.sent == []
    assert (await stores.inbox.get("evt-crash")).state is InboxState.PENDING  # type: ignore[union-attr]

    restarted = Instance(stores, state, worker=True)
    async with restarted.client():
        await wait_for(lambda: restarted.notifier.sent)
    assert [n.recipient_id for n in restarted.notifier.sent] == ["vet-2"]
    assert (await stores.inbox.get("evt-crash")).state is InboxState.DONE  # type: ignore[union-attr]


async def test_redeliveries_to_two_instances_push_once_per_recipient(
    stores: MongoStores,
) -> None:
    state = StreamState()
    first, second = Instance(stores, state, worker=True), Instance(stores, state, worker=True)
    async with first.client() as one, second.client() as two:
        group = await one.post(
            "/api/chat/channels/group",
            json={"orgId": "org-1", "name": "Ward", "memberIds": ["vet-2", "nurse-1"],
                  "createdBy": "vet-1"},
            headers=bearer("vet-1"),
        )  # fmt: skip
        body = message(group.json()["channelId"], "vet-1")
        responses = await asyncio.gather(
            *(
                client.post("/api/webhooks/stream", content=body, headers=signed(body, "evt-5"))
                for client in (one, two, one, two, one)
            )
        )
        assert all(r.json() == {"ok": True} for r in responses)
        await wait_for(lambda: len(first.notifier.sent) + len(second.notifier.sent) >= 2)
        await asyncio.sleep(0.1)  # any duplicate would show up by now
    pushes = sorted(n.recipient_id for n in [*first.notifier.sent, *second.notifier.sent])
    assert pushes == ["nurse-1", "vet-2"]
    assert (await stores.inbox.counts())[InboxState.DONE] == 1
