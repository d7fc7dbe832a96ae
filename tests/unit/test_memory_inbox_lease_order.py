"""The in-memory inbox's lease keeps a heap of due times instead of sorting every open event:
whatever happens to the events, it takes exactly what a full scan would, oldest due first
(ties by id), up to the limit, and nothing that is done, parked or not yet due."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from yc_chat.adapters.memory.inbox import InMemoryEventInbox
from yc_chat.domain.inbox import InboxEvent

T0 = datetime(2026, 1, 1, tzinfo=UTC)
IDS = [f"e{i}" for i in range(6)]

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.sampled_from(IDS)),
        st.tuples(st.just("lease"), st.integers(0, 4), st.integers(1, 5)),
        st.tuples(st.just("complete"), st.integers(0, 10)),
        st.tuples(st.just("retry"), st.integers(0, 10), st.integers(0, 6)),
        st.tuples(st.just("park"), st.integers(0, 10)),
        st.tuples(st.just("replay"), st.sampled_from(IDS)),
        st.tuples(st.just("tick"), st.integers(1, 4)),
    ),
    max_size=40,
)


def _expected(events: dict[str, InboxEvent], now: datetime, limit: int) -> list[str]:
    """What a full scan takes: open and due, oldest due first, ties by id."""
    due = [
        e for e in events.values() if e.state.value in ("pending", "processing") and e.due_at <= now
    ]
    return [e.id for e in sorted(due, key=lambda e: (e.due_at, e.id))[:limit]]


@settings(max_examples=300, deadline=None)
@given(ops=OPS)
# Retried for later than its lease ran: the lease's own due time must not bring it back early.
@example(ops=[("record", "e0"), ("lease", 4, 1), ("retry", 0, 5), ("tick", 2), ("lease", 4, 5)])
# Done: its lease's due time must not bring it back at all.
@example(ops=[("record", "e0"), ("lease", 4, 1), ("complete", 0), ("tick", 1), ("lease", 4, 1)])
def test_a_lease_takes_what_a_full_scan_would(ops: list[tuple[object, ...]]) -> None:
    async def run() -> None:
        inbox = InMemoryEventInbox()
        now = T0
        held: list[InboxEvent] = []  # leased copies, in the order taken (some stale)
        for op in ops:
            kind = op[0]
            if kind == "record":
                await inbox.record(str(op[1]), event_type="t", payload=b"{}", received_at=now)
            elif kind == "lease":
                limit, seconds = int(op[1]), int(op[2])  # type: ignore[call-overload]
                events = {i: e for i in IDS if (e := await inbox.get(i)) is not None}
                want = _expected(events, now, limit)
                got = await inbox.lease(
                    now=now, until=now + timedelta(seconds=seconds), limit=limit, lease_id="l"
                )
                assert [e.id for e in got] == want
                held += got
            elif kind == "tick":
                now += timedelta(seconds=int(op[1]))  # type: ignore[call-overload]
            elif kind == "replay":
                await inbox.retry_parked(str(op[1]), now=now)
            elif held:
                event = held[int(op[1]) % len(held)]  # type: ignore[call-overload]
                if kind == "complete":
                    await inbox.complete(event, now=now)
                elif kind == "retry":
                    at = now + timedelta(seconds=int(op[2]))  # type: ignore[call-overload]
                    await inbox.retry_later(event, at=at, reason="x")
                elif kind == "park":
                    await inbox.park(event, reason="x", now=now)

    asyncio.run(run())
