"""The lifecycle scheduler with a controllable clock: exact opening times across restarts,
one transition among several instances, repair after a crash, and the optional auto-end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.chat_spy import SpyChat
from tests.support.mongo_double.stores import mongo_stores
from tests.support.notifier import RecordingNotifier
from tests.support.world import FIXTURE, NOW
from yc_chat.adapters.clock import FixedClock
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamState
from yc_chat.adapters.memory import (
    InMemoryAppointments,
    InMemoryChannelLocks,
    InMemoryDevices,
    InMemoryDirectory,
    InMemoryEffectClaims,
    InMemoryEventInbox,
    InMemoryFingerprints,
)
from yc_chat.adapters.metrics import PrometheusMetrics
from yc_chat.adapters.stream.events import STREAM_WEBHOOKS
from yc_chat.domain.channel_ids import appointment_channel_id
from yc_chat.domain.metrics import Counted
from yc_chat.domain.model import AppointmentId, ChannelId, ChatStatus, UserId
from yc_chat.domain.service import ChatService, Ports
from yc_chat.domain.usecases.lifecycle import AUTO_END_NOTICE
from yc_chat.entrypoints.fixture import parse_fixture, seed

LATER = AppointmentId("apt-later")  # starts 15:00, opens 14:55
CHANNEL = appointment_channel_id(LATER)
VET, PET = UserId("vet-1"), UserId("pet-1")
OPENS = datetime(2026, 1, 15, 14, 55, tzinfo=UTC)


class Deployment:
    """Stores and the provider outlive any one instance; instances come and go."""

    def __init__(self, stores: dict[str, Any], state: StreamState, clock: FixedClock) -> None:
        self.stores = stores
        self.state = state
        self.clock = clock
        self.chat = SpyChat(FakeStreamChatProvider(state=state, api_secret="s" * 40))

    def instance(
        self, name: str, *, auto_end: timedelta | None = None, metrics: Any = None
    ) -> ChatService:
        """A fresh service, as after a restart, over the same stores and provider."""
        ports = Ports(
            chat=self.chat,  # type: ignore[arg-type]
            notifier=RecordingNotifier(),
            clock=self.clock,
            inbox=InMemoryEventInbox(),
            webhooks=STREAM_WEBHOOKS,
            metrics=metrics or PrometheusMetrics(),
            **self.stores,
        )
        return ChatService.build(ports, auto_end_after=auto_end, instance_id=name)

    def system_messages(self) -> list[str]:
        return [m.text for m in self.state.messages("messaging", CHANNEL) if m.user_id == "system"]

    async def channel_status(self) -> ChatStatus:
        channel = await self.chat.inner.get_channel(ChannelId(CHANNEL))
        assert channel is not None
        return channel.status

    async def record_status(self) -> ChatStatus | None:
        record = await self.stores["appointments"].get(LATER)
        return None if record is None else record.chat_status


@asynccontextmanager
async def memory_stores() -> AsyncIterator[dict[str, Any]]:
    yield {
        "directory": InMemoryDirectory(),
        "appointments": InMemoryAppointments(),
        "devices": InMemoryDevices(),
        "fingerprints": InMemoryFingerprints(),
        "effect_claims": InMemoryEffectClaims(),
        "locks": InMemoryChannelLocks(),
    }


@asynccontextmanager
async def beanie_stores() -> AsyncIterator[dict[str, Any]]:
    async with mongo_stores() as stores:
        yield {
            "directory": stores.directory,
            "appointments": stores.appointments,
            "devices": stores.devices,
            "fingerprints": stores.fingerprints,
            "effect_claims": stores.effect_claims,
            "locks": stores.locks,
        }


@pytest.fixture(params=["memory", "beanie"])
async def deployment(request: pytest.FixtureRequest) -> AsyncIterator[Deployment]:
    opener = memory_stores if request.param == "memory" else beanie_stores
    async with opener() as stores:
        await seed(
            parse_fixture(FIXTURE),
            directory=stores["directory"],
            appointments=stores["appointments"],
        )
        clock = FixedClock(NOW)
        built = Deployment(stores, StreamState(clock=clock.now), clock)
        await built.instance("opener").open_appointment_chat(caller=PET, appointment_id=LATER)
        assert await built.channel_status() is ChatStatus.PENDING
        yield built


async def test_activation_happens_exactly_at_the_opening_time_across_a_restart(
    deployment: Deployment,
) -> None:
    first = deployment.instance("first")
    run = await first.advance_lifecycle()
    assert (run.transitions, run.next_opening) == (0, OPENS)
    # The process restarts; the next one knows the opening time from the store alone.
    second = deployment.instance("second")
    deployment.clock.set(OPENS - timedelta(milliseconds=1))
    assert (await second.advance_lifecycle()).transitions == 0
    assert await deployment.channel_status() is ChatStatus.PENDING
    deployment.clock.set(OPENS)
    assert (await second.advance_lifecycle()).transitions == 1
    assert await deployment.channel_status() is ChatStatus.ACTIVE
    assert await deployment.record_status() is ChatStatus.ACTIVE
    assert (await second.advance_lifecycle()).transitions == 0


async def test_two_instances_make_one_transition(deployment: Deployment) -> None:
    metrics = [PrometheusMetrics(), PrometheusMetrics()]
    instances = [deployment.instance(f"i{n}", metrics=metrics[n]) for n in range(2)]
    deployment.clock.set(OPENS + timedelta(seconds=3))
    runs = await asyncio.gather(*(i.advance_lifecycle() for i in instances))
    assert sum(run.transitions for run in runs) == 1
    assert deployment.chat.calls["set_status"] == 1
    assert sum(m.value(Counted.LIFECYCLE_TRANSITIONS, to="active") for m in metrics) == 1
    assert await deployment.record_status() is ChatStatus.ACTIVE


async def test_two_instances_auto_end_once_with_one_system_message(
    deployment: Deployment,
) -> None:
    after = timedelta(minutes=30)
    instances = [deployment.instance(f"i{n}", auto_end=after) for n in range(2)]
    deployment.clock.set(datetime(2026, 1, 15, 15, 29, tzinfo=UTC))
    await asyncio.gather(*(i.advance_lifecycle() for i in instances))
    assert await deployment.channel_status() is ChatStatus.ACTIVE  # opened, not ended yet
    deployment.clock.set(datetime(2026, 1, 15, 15, 30, tzinfo=UTC))
    runs = await asyncio.gather(*(i.advance_lifecycle() for i in instances))
    assert sum(run.transitions for run in runs) == 1
    assert deployment.system_messages() == [AUTO_END_NOTICE]
    assert await deployment.channel_status() is ChatStatus.ENDED
    assert await deployment.record_status() is ChatStatus.ENDED
    await asyncio.gather(*(i.advance_lifecycle() for i in instances))
    assert deployment.system_messages() == [AUTO_END_NOTICE]


async def test_a_crash_after_the_provider_write_is_repaired_without_a_second_write(
    deployment: Deployment,
) -> None:
    appointments = deployment.stores["appointments"]
    deployment.clock.set(OPENS)
    # An instance claimed the transition, wrote Stream, and died before the record.
    claim_until = OPENS + timedelta(seconds=60)
    assert await appointments.claim_transition(
        LATER, status=ChatStatus.PENDING, owner="dead", until=claim_until, now=OPENS
    )
    await deployment.chat.set_status(ChannelId(CHANNEL), ChatStatus.ACTIVE)
    writes = deployment.chat.calls["set_status"]
    survivor = deployment.instance("survivor")
    assert (await survivor.advance_lifecycle()).transitions == 0  # the claim still holds
    assert await deployment.record_status() is ChatStatus.PENDING
    deployment.clock.set(claim_until)
    assert (await survivor.advance_lifecycle()).transitions == 0  # repaired, not re-done
    assert await deployment.record_status() is ChatStatus.ACTIVE
    assert deployment.chat.calls["set_status"] == writes


async def test_a_touched_chat_past_its_auto_end_ends_lazily(deployment: Deployment) -> None:
    service = deployment.instance("lazy", auto_end=timedelta(minutes=0))
    deployment.clock.set(datetime(2026, 1, 15, 15, 0, tzinfo=UTC))
    page = await service.list_my_channels(caller=VET)
    [summary] = [c for c in page.channels if c.id == CHANNEL]
    assert summary.status is ChatStatus.ENDED and summary.frozen
    assert deployment.system_messages() == [AUTO_END_NOTICE]
    assert await deployment.record_status() is ChatStatus.ENDED


async def test_without_auto_end_chats_stay_open(deployment: Deployment) -> None:
    service = deployment.instance("plain")
    deployment.clock.set(datetime(2026, 1, 16, 15, 0, tzinfo=UTC))
    await service.advance_lifecycle()
    await service.list_my_channels(caller=VET)
    assert await deployment.channel_status() is ChatStatus.ACTIVE
    assert deployment.system_messages() == []


async def test_auto_end_racing_a_manual_end_posts_one_notice(deployment: Deployment) -> None:
    # The double expires lock documents by the wall clock (MongoDB's TTL monitor), while
    # this deployment's clock sits in January: locks here come from the memory adapter
    # (the Beanie locks have their own contract suite, on real time).
    deployment.stores["locks"] = InMemoryChannelLocks()
    after = timedelta(minutes=30)
    scheduler = deployment.instance("scheduler", auto_end=after)
    clinic = deployment.instance("clinic")
    deployment.clock.set(datetime(2026, 1, 15, 15, 0, tzinfo=UTC))
    await scheduler.advance_lifecycle()  # opened
    deployment.clock.set(datetime(2026, 1, 15, 15, 30, tzinfo=UTC))
    deployment.chat.latency = 0.01  # every provider call yields, so the two interleave
    await asyncio.gather(
        scheduler.advance_lifecycle(), clinic.end_chat(caller=VET, channel_id=ChannelId(CHANNEL))
    )
    deployment.chat.latency = 0.0
    assert len(deployment.system_messages()) == 1
    assert await deployment.channel_status() is ChatStatus.ENDED
    # Whichever lost the race, a later pass leaves the record ended and posts nothing more.
    deployment.clock.set(datetime(2026, 1, 15, 15, 32, tzinfo=UTC))
    await scheduler.advance_lifecycle()
    assert await deployment.record_status() is ChatStatus.ENDED
    assert len(deployment.system_messages()) == 1
