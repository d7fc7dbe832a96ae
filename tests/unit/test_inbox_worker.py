"""The worker's pass (ProcessInboxEvents): at least once, retried with backoff, parked after
the limit; and HandleChatEvent's once-per-recipient pushes across retries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.mongo_double.stores import mongo_stores
from tests.support.world import World, build_world
from yc_chat.adapters.memory import InMemoryEventInbox
from yc_chat.adapters.metrics import PrometheusMetrics
from yc_chat.adapters.stream.events import decode_stream_event
from yc_chat.domain.events import ChatEvent
from yc_chat.domain.inbox import InboxState, RetryPolicy
from yc_chat.domain.metrics import Counted
from yc_chat.domain.model import Notification, OrgId, PushOutcome, UserId
from yc_chat.domain.usecases import ProcessInboxEvents
from yc_chat.domain.usecases.inbox import EventIgnored, JobContinues

NURSE, VET, VET2 = UserId("nurse-1"), UserId("vet-1"), UserId("vet-2")
POLICY = RetryPolicy(
    max_attempts=3, base_delay=timedelta(seconds=2), max_delay=timedelta(seconds=30)
)


def message(channel_id: str, sender: str = "nurse-1", text: str = "hello") -> bytes:
    return json.dumps(
        {"type": "message.new", "channel_id": channel_id,
         "message": {"text": text, "user": {"id": sender}}}
    ).encode()  # fmt: skip


class Flaky:
    """A handler that fails its first `failures` calls, then hands over to the real one."""

    def __init__(self, world: World, failures: int) -> None:
        self.world = world
        self.failures = failures
        self.calls = 0

    async def __call__(self, *, event_id: str, event: ChatEvent, lease_until: datetime) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"provider down (call {self.calls})")
        await self.world.service.handle_chat_event(
            event_id=event_id, event=event, lease_until=lease_until
        )


def processor(
    world: World,
    inbox: Any,
    handle: Any,
    metrics: PrometheusMetrics | None = None,
    *,
    batch_size: int = 16,
) -> ProcessInboxEvents:
    return ProcessInboxEvents(
        inbox=inbox,
        handle=handle,
        decode=decode_stream_event,
        clock=world.clock,
        lease_for=timedelta(seconds=60),
        policy=POLICY,
        metrics=metrics or PrometheusMetrics(),
        jitter=lambda: 1.0,
        batch_size=batch_size,
    )


async def group(world: World) -> str:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=OrgId("org-1"), name="G", member_ids=[VET, VET2]
    )
    return ref.channel_id


async def record(world: World, inbox: Any, event_id: str, body: bytes) -> None:
    assert await inbox.record(
        event_id, event_type="message.new", payload=body, received_at=world.clock.now()
    )


@pytest.fixture
async def world() -> World:
    return await build_world()


async def test_a_handler_that_fails_twice_then_succeeds_ends_processed(world: World) -> None:
    inbox, metrics = InMemoryEventInbox(), PrometheusMetrics()
    handler = Flaky(world, failures=2)
    work = processor(world, inbox, handler, metrics)
    await record(world, inbox, "e1", message(await group(world)))

    [first] = await work()
    assert (first.result, first.attempts, first.kind) == ("retry", 1, "message_posted")
    event = await inbox.get("e1")
    assert event is not None and event.state is InboxState.PENDING
    assert event.due_at == world.clock.now() + timedelta(seconds=2)  # base delay, full jitter
    assert event.last_error == "ConnectionError: provider down (call 1)"
    assert await work() == []  # not due yet

    world.clock.advance(timedelta(seconds=2))
    [second] = await work()
    assert second.result == "retry"
    assert (await inbox.get("e1")).due_at == world.clock.now() + timedelta(seconds=4)  # type: ignore[union-attr]

    world.clock.advance(timedelta(seconds=4))
    [third] = await work()
    assert (third.result, third.attempts, third.kind) == ("processed", 3, "message_posted")
    assert (await inbox.get("e1")).state is InboxState.DONE  # type: ignore[union-attr]
    assert sorted(n.recipient_id for n in world.notifier.sent) == [VET, VET2]
    assert metrics.value(Counted.EVENTS_FAILED, kind="message_posted") == 2
    assert metrics.value(Counted.EVENTS_PROCESSED, kind="message_posted") == 1


async def test_a_handler_that_always_fails_ends_parked_with_its_reason(world: World) -> None:
    inbox, metrics = InMemoryEventInbox(), PrometheusMetrics()
    handler = Flaky(world, failures=10**6)
    work = processor(world, inbox, handler, metrics)
    await record(world, inbox, "doomed", message(await group(world)))
    results = []
    for _ in range(10):
        results.extend(item.result for item in await work())
        world.clock.advance(timedelta(minutes=5))
    assert results == ["retry", "retry", "parked"]
    [parked] = await inbox.parked(limit=10)
    assert (parked.id, parked.attempts) == ("doomed", 3)
    assert parked.last_error == "ConnectionError: provider down (call 3)"
    assert metrics.value(Counted.EVENTS_PARKED, kind="message_posted") == 1
    assert world.notifier.sent == []

    # `yc-chat events retry` replays it; once the provider is back it goes through.
    handler.failures = 0
    assert await inbox.retry_parked("doomed", now=world.clock.now())
    [replayed] = await work()
    assert replayed.result == "processed"
    assert len(world.notifier.sent) == 2


async def test_an_undecodable_record_is_parked_at_once(world: World) -> None:
    inbox = InMemoryEventInbox()
    work = processor(world, inbox, Flaky(world, failures=0))
    await record(world, inbox, "junk", b"not json")
    [outcome] = await work()
    assert (outcome.result, outcome.attempts) == ("parked", 1)
    assert "cannot decode" in (outcome.reason or "")


async def test_an_event_whose_workers_keep_dying_is_parked(world: World) -> None:
    inbox = InMemoryEventInbox()
    work = processor(world, inbox, Flaky(world, failures=0))
    await record(world, inbox, "killer", message(await group(world)))
    for n in range(POLICY.max_attempts):  # each lease lapses: its worker died mid-handling
        now = world.clock.now()
        assert len(await inbox.lease(now=now, until=now, limit=1, lease_id=f"dead-{n}")) == 1
    [outcome] = await work()
    assert (outcome.result, outcome.kind) == ("parked", "unfinished")
    assert world.notifier.sent == []


@asynccontextmanager
async def memory_inbox() -> AsyncIterator[Any]:
    yield InMemoryEventInbox()


@asynccontextmanager
async def beanie_inbox() -> AsyncIterator[Any]:
    async with mongo_stores() as stores:
        yield stores.inbox


@pytest.mark.parametrize("open_inbox", [memory_inbox, beanie_inbox], ids=["memory", "beanie"])
async def test_concurrent_workers_handle_each_event_once(world: World, open_inbox: Any) -> None:
    async with open_inbox() as inbox:
        handled: list[str] = []

        async def handle(*, event_id: str, event: ChatEvent, lease_until: datetime) -> None:
            handled.append(event_id)
            await asyncio.sleep(0)

        for i in range(40):
            await record(world, inbox, f"e{i:02d}", message("ch"))
        workers = [processor(world, inbox, handle) for _ in range(4)]
        await asyncio.gather(*(w.drain() for w in workers))
        assert sorted(handled) == [f"e{i:02d}" for i in range(40)]
        assert (await inbox.counts())[InboxState.DONE] == 40


class PartlyDown:
    """A notifier whose provider cannot reach `down` yet: RETRY for them, SENT for others."""

    def __init__(self, down: set[UserId]) -> None:
        self.down = down
        self.sent: list[Notification] = []

    async def notify(self, notifications: Sequence[Notification]) -> Sequence[PushOutcome]:
        outcomes = []
        for notification in notifications:
            if notification.recipient_id in self.down:
                outcomes.append(PushOutcome.RETRY)
            else:
                self.sent.append(notification)
                outcomes.append(PushOutcome.SENT)
        return outcomes


async def test_a_retry_pushes_only_to_recipients_still_owed(world: World) -> None:
    notifier = PartlyDown({VET2})
    service = world.service
    handler = type(service.handle_chat_event)(
        directory=world.directory,
        chat_links=world.appointments,
        chat=world.chat,  # type: ignore[arg-type]
        notifier=notifier,
        fingerprints=world.fingerprints,
        effect_claims=service.handle_chat_event.effect_claims,
        clock=world.clock,
    )
    inbox = InMemoryEventInbox()
    work = processor(world, inbox, handler)
    await record(world, inbox, "e1", message(await group(world)))
    [first] = await work()
    assert first.result == "retry" and "1 of 2 pushes" in (first.reason or "")
    assert [n.recipient_id for n in notifier.sent] == [VET]
    notifier.down.clear()
    for _ in range(3):  # redeliveries and retries alike
        world.clock.advance(timedelta(minutes=1))
        await work()
    assert sorted(n.recipient_id for n in notifier.sent) == [VET, VET2]


@given(
    attempt=st.integers(min_value=1, max_value=60),
    jitter=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_is_exponential_capped_and_jittered_into_its_upper_half(
    attempt: int, jitter: float
) -> None:
    delay = POLICY.delay(attempt, jitter)
    nominal = min(POLICY.base_delay * 2 ** min(attempt - 1, 30), POLICY.max_delay)
    assert nominal / 2 <= delay <= nominal
    assert delay <= POLICY.max_delay


# -- what each outcome reports (each case was a surviving mutant: docs/testing.md) -------------


class Losing:
    """An inbox whose leases were all taken over meanwhile: every write-back says False."""

    def __init__(self, inner: InMemoryEventInbox) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def complete(self, *args: Any, **kwargs: Any) -> bool:
        return False

    async def park(self, *args: Any, **kwargs: Any) -> bool:
        return False

    async def retry_later(self, *args: Any, **kwargs: Any) -> bool:
        return False

    async def reschedule(self, *args: Any, **kwargs: Any) -> bool:
        return False


class Ignoring:
    async def __call__(self, *, event_id: str, event: ChatEvent, lease_until: datetime) -> None:
        raise EventIgnored(EventIgnored.NOT_OURS)


async def test_a_handler_learns_when_its_lease_runs_out(world: World) -> None:
    inbox, seen, metrics = InMemoryEventInbox(), [], PrometheusMetrics()

    async def handle(*, event_id: str, event: ChatEvent, lease_until: datetime) -> None:
        seen.append(lease_until)

    await record(world, inbox, "e1", message(await group(world)))
    [outcome] = await processor(world, inbox, handle, metrics)()
    # Handled the instant it arrived (the clock stood still): a lag of zero, not a second.
    assert "yc_chat_event_lag_seconds_sum 0.0" in metrics.render().splitlines()
    assert outcome.result == "processed"
    assert seen == [world.clock.now() + timedelta(seconds=60)]
    done = await inbox.get("e1")
    assert done is not None and done.finished_at == world.clock.now()


async def test_an_ignored_event_is_done_counted_by_kind_and_reason(world: World) -> None:
    inbox, metrics = InMemoryEventInbox(), PrometheusMetrics()
    await record(world, inbox, "e1", message(await group(world)))
    [outcome] = await processor(world, inbox, Ignoring(), metrics)()
    assert (outcome.event_id, outcome.kind, outcome.result, outcome.reason) == (
        "e1", "message_posted", "ignored", "not_ours"
    )  # fmt: skip
    assert metrics.value(Counted.EVENTS_IGNORED, kind="message_posted", reason="not_ours") == 1
    done = await inbox.get("e1")
    assert done is not None and done.state is InboxState.DONE
    assert done.finished_at == world.clock.now()


async def test_an_event_taken_over_meanwhile_is_reported_lost_not_done(world: World) -> None:
    inner, metrics = InMemoryEventInbox(), PrometheusMetrics()
    channel_id = await group(world)
    cases = [
        ("ok", message(channel_id), Flaky(world, 0)),
        ("ign", message(channel_id), Ignoring()),
        ("junk", b"not json", Flaky(world, 0)),
    ]
    outcomes = {}
    for event_id, body, handler in cases:  # one at a time: each is the only event due
        await record(world, inner, event_id, body)
        [outcome] = await processor(world, Losing(inner), handler, metrics, batch_size=1)()
        outcomes[outcome.event_id] = (outcome.kind, outcome.result, outcome.attempts)
    assert outcomes == {
        "ok": ("message_posted", "lost", 1),
        "ign": ("message_posted", "lost", 1),
        "junk": ("undecodable", "lost", 1),
    }
    assert metrics.total(Counted.EVENTS_IGNORED) == metrics.total(Counted.EVENTS_PARKED) == 0


async def test_parking_says_why_and_when(world: World) -> None:
    inbox, metrics = InMemoryEventInbox(), PrometheusMetrics()
    work = processor(world, inbox, Flaky(world, failures=0), metrics)
    await record(world, inbox, "junk", b"not json")
    [outcome] = await work()
    assert (outcome.kind, outcome.result) == ("undecodable", "parked")
    assert metrics.value(Counted.EVENTS_PARKED, kind="undecodable") == 1
    [parked] = await inbox.parked(limit=10)
    assert parked.finished_at == world.clock.now()
    assert (parked.last_error or "").startswith("UndecodableEvent: cannot decode")


async def test_a_worker_that_kept_dying_is_parked_with_the_last_error_or_a_reason(
    world: World,
) -> None:
    inbox = InMemoryEventInbox()
    await record(world, inbox, "killer", message(await group(world)))
    for n in range(POLICY.max_attempts):
        now = world.clock.now()
        await inbox.lease(now=now, until=now, limit=1, lease_id=f"dead-{n}")
    [outcome] = await processor(world, inbox, Flaky(world, failures=0))()
    assert outcome.reason == "attempts ran out without finishing (worker stopped)"
    [parked] = await inbox.parked(limit=10)
    assert parked.last_error == outcome.reason

    # With an error on record from an earlier attempt, that error is the reason.
    await record(world, inbox, "flaky", message(await group(world)))
    await processor(world, inbox, Flaky(world, failures=1))()  # attempt 1 fails: retry later
    for n in range(POLICY.max_attempts):
        world.clock.advance(timedelta(minutes=5))
        now = world.clock.now()
        await inbox.lease(now=now, until=now, limit=1, lease_id=f"dead-again-{n}")
    world.clock.advance(timedelta(minutes=5))
    [again] = await processor(world, inbox, Flaky(world, failures=0))()
    assert (again.result, again.reason) == ("parked", "ConnectionError: provider down (call 1)")


async def test_drain_counts_every_event_over_every_pass(world: World) -> None:
    inbox = InMemoryEventInbox()
    for n in range(3):
        await record(world, inbox, f"e{n}", message(await group(world)))
    work = attrs.evolve(processor(world, inbox, Flaky(world, failures=0)), batch_size=1)
    assert await work.drain() == 3


class Continuing:
    """A handler whose job spent its budget: it moved on, with its progress in `payload`."""

    async def __call__(self, *, event_id: str, event: ChatEvent, lease_until: datetime) -> None:
        raise JobContinues(b'{"type": "message.new", "progress": 2}')


async def test_a_job_that_continues_is_kept_with_its_progress_and_due_after_the_first_wait(
    world: World,
) -> None:
    inbox = InMemoryEventInbox()
    await record(world, inbox, "job", message(await group(world)))
    [outcome] = await processor(world, inbox, Continuing())()
    assert (outcome.event_id, outcome.kind, outcome.result) == (
        "job",
        "message_posted",
        "continued",
    )
    kept = await inbox.get("job")
    assert kept is not None and kept.state is InboxState.PENDING
    assert kept.payload == b'{"type": "message.new", "progress": 2}'
    assert kept.due_at == world.clock.now() + timedelta(seconds=2)  # the first retry's wait


async def test_a_retry_or_continuation_taken_over_meanwhile_is_reported_lost(
    world: World,
) -> None:
    inner, metrics = InMemoryEventInbox(), PrometheusMetrics()
    channel_id = await group(world)
    outcomes = {}
    for event_id, handler in (("retry", Flaky(world, failures=1)), ("job", Continuing())):
        await record(world, inner, event_id, message(channel_id))
        [outcome] = await processor(world, Losing(inner), handler, metrics, batch_size=1)()
        outcomes[outcome.event_id] = (outcome.kind, outcome.result, outcome.attempts)
    assert outcomes == {
        "retry": ("message_posted", "lost", 1),
        "job": ("message_posted", "lost", 1),
    }
    assert metrics.total(Counted.EVENTS_FAILED) == 0
