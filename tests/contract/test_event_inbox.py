"""Contract of EventInbox: record once, lease exclusively, settle only under one's lease."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.contract.adapters import EVENT_INBOXES
from yc_chat.domain.inbox import InboxState

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


@pytest.fixture(params=sorted(EVENT_INBOXES))
async def inbox(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    async with EVENT_INBOXES[request.param]() as built:
        yield built


async def _record(inbox: Any, event_id: str, at: datetime = T0, payload: bytes = b"{}") -> bool:
    result: bool = await inbox.record(
        event_id, event_type="message.new", payload=payload, received_at=at
    )
    return result


async def _lease(inbox: Any, now: datetime = T0, limit: int = 10, lease_id: str = "w1") -> Any:
    return await inbox.lease(now=now, until=now + LEASE, limit=limit, lease_id=lease_id)


async def test_an_event_id_is_recorded_once_with_its_exact_bytes(inbox: Any) -> None:
    raw = b'{ "type":"message.new" ,"text":"caf\\u00e9"}\n'
    assert await _record(inbox, "e1", payload=raw)
    assert not await _record(inbox, "e1", payload=b"{}")
    event = await inbox.get("e1")
    assert event.payload == raw
    assert (event.state, event.type, event.attempts) == (InboxState.PENDING, "message.new", 0)
    assert event.received_at == T0
    assert await inbox.get("nope") is None


async def test_an_event_identity_is_recorded_once_whatever_the_delivery_id(inbox: Any) -> None:
    """A captured event replayed under new delivery ids is the same event."""

    async def record(event_id: str, identity: str | None) -> bool:
        result: bool = await inbox.record(
            event_id, event_type="message.new", payload=b"{}", received_at=T0, identity=identity
        )
        return result

    assert await record("d1", "message:m1")
    assert not await record("d2", "message:m1")
    assert not await record("d1", "message:m2")  # the delivery id alone still dedupes
    assert await inbox.get("d2") is None
    assert await record("d3", "message:m2")
    # Events without an identity dedupe by delivery id only, and never collide with each other.
    assert await record("d4", None)
    assert await record("d5", None)
    assert not await record("d5", None)
    assert (await inbox.counts())[InboxState.PENDING] == 4


async def test_concurrent_records_of_one_identity_have_one_winner(inbox: Any) -> None:
    results = await asyncio.gather(
        *(
            inbox.record(
                f"d{i}", event_type="message.new", payload=b"{}", received_at=T0, identity="same"
            )
            for i in range(20)
        )
    )
    assert results.count(True) == 1
    assert (await inbox.counts())[InboxState.PENDING] == 1


async def test_concurrent_records_of_one_id_have_one_winner(inbox: Any) -> None:
    results = await asyncio.gather(*(_record(inbox, "same") for _ in range(20)))
    assert results.count(True) == 1
    assert (await inbox.counts())[InboxState.PENDING] == 1


async def test_lease_takes_due_events_oldest_first_up_to_the_limit(inbox: Any) -> None:
    for i in range(5):
        await _record(inbox, f"e{i}", at=T0 + timedelta(seconds=i))
    await _record(inbox, "future", at=T0 + timedelta(hours=1))
    first = await _lease(inbox, now=T0 + timedelta(seconds=10), limit=3)
    assert [e.id for e in first] == ["e0", "e1", "e2"]
    assert all(e.state is InboxState.PROCESSING and e.attempts == 1 for e in first)
    assert all(e.lease_id == "w1" for e in first)
    rest = await _lease(inbox, now=T0 + timedelta(seconds=10), lease_id="w2")
    assert [e.id for e in rest] == ["e3", "e4"]
    assert await _lease(inbox, now=T0 + timedelta(seconds=10)) == []
    counts = await inbox.counts()
    assert counts[InboxState.PROCESSING] == 5 and counts[InboxState.PENDING] == 1


async def test_concurrent_leases_never_share_an_event(inbox: Any) -> None:
    for i in range(30):
        await _record(inbox, f"e{i:02d}")
    batches = await asyncio.gather(*(_lease(inbox, limit=4, lease_id=f"w{n}") for n in range(10)))
    taken = [e.id for batch in batches for e in batch]
    assert len(taken) == len(set(taken)) == 30


async def test_a_lapsed_lease_is_retaken_and_fences_off_its_old_holder(inbox: Any) -> None:
    await _record(inbox, "e1")
    [old] = await _lease(inbox, lease_id="dead")
    assert await _lease(inbox, now=T0 + LEASE - timedelta(seconds=1)) == []
    [new] = await _lease(inbox, now=T0 + LEASE, lease_id="alive")
    assert new.attempts == 2
    assert not await inbox.complete(old, now=T0 + LEASE)
    assert not await inbox.retry_later(old, at=T0, reason="late")
    assert not await inbox.park(old, reason="late", now=T0)
    assert not await inbox.reschedule(old, at=T0, payload=b"late")
    assert (await inbox.get("e1")).payload == b"{}"
    assert await inbox.complete(new, now=T0 + LEASE)
    done = await inbox.get("e1")
    assert done.state is InboxState.DONE and done.finished_at == T0 + LEASE


async def test_retry_later_makes_the_event_due_again_at_its_time(inbox: Any) -> None:
    await _record(inbox, "e1")
    [leased] = await _lease(inbox)
    at = T0 + timedelta(seconds=30)
    assert await inbox.retry_later(leased, at=at, reason="ProviderUnavailable: down")
    event = await inbox.get("e1")
    assert (event.state, event.due_at, event.last_error) == (
        InboxState.PENDING,
        at,
        "ProviderUnavailable: down",
    )
    assert await _lease(inbox, now=at - timedelta(milliseconds=1)) == []
    [again] = await _lease(inbox, now=at)
    assert again.attempts == 2


async def test_a_rescheduled_job_keeps_its_progress_and_starts_its_attempts_again(
    inbox: Any,
) -> None:
    """A job that moved on (offboarding past its call budget) is not a failure."""
    await _record(inbox, "job", payload=b"yc-offboard:{}")
    [first] = await _lease(inbox)
    assert await inbox.retry_later(first, at=T0, reason="ProviderUnavailable: down")
    [second] = await _lease(inbox)
    assert second.attempts == 2
    at = T0 + timedelta(seconds=2)
    assert await inbox.reschedule(second, at=at, payload=b'yc-offboard:{"resume": 1}')
    event = await inbox.get("job")
    assert (event.state, event.due_at, event.attempts, event.last_error) == (
        InboxState.PENDING,
        at,
        0,
        None,
    )
    assert event.payload == b'yc-offboard:{"resume": 1}'
    assert await _lease(inbox, now=at - timedelta(milliseconds=1)) == []
    [again] = await _lease(inbox, now=at)
    assert (again.attempts, again.payload) == (1, b'yc-offboard:{"resume": 1}')


async def test_parked_events_are_listed_and_can_be_replayed(inbox: Any) -> None:
    for i in range(3):
        await _record(inbox, f"e{i}")
    leased = await _lease(inbox)
    for i, event in enumerate(leased):
        assert await inbox.park(event, reason=f"broken {i}", now=T0 + timedelta(minutes=i))
    assert not await inbox.complete(leased[0], now=T0)  # parked: the lease is over
    parked = await inbox.parked(limit=2)
    assert [(e.id, e.last_error) for e in parked] == [("e2", "broken 2"), ("e1", "broken 1")]
    assert (await inbox.counts())[InboxState.PARKED] == 3
    assert await _lease(inbox, now=T0 + timedelta(days=1)) == []

    later = T0 + timedelta(hours=1)
    assert await inbox.retry_parked("e1", now=later)
    assert not await inbox.retry_parked("e1", now=later)  # pending now, not parked
    assert not await inbox.retry_parked("missing", now=later)
    [replayed] = await _lease(inbox, now=later)
    assert (replayed.id, replayed.attempts) == ("e1", 1)
    assert await inbox.complete(replayed, now=later)
    counts = await inbox.counts()
    assert counts == {
        InboxState.PENDING: 0,
        InboxState.PROCESSING: 0,
        InboxState.DONE: 1,
        InboxState.PARKED: 2,
    }


async def test_done_events_still_dedupe_redeliveries(inbox: Any) -> None:
    await _record(inbox, "e1")
    [leased] = await _lease(inbox)
    await inbox.complete(leased, now=T0)
    assert not await _record(inbox, "e1", at=T0 + timedelta(minutes=5))
    assert await _lease(inbox, now=T0 + timedelta(days=1)) == []
