"""EventInbox in memory: the webhook inbox of one process."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from yc_chat.domain.inbox import InboxEvent, InboxState

# Finished events are kept this long to recognise Stream's redeliveries, then dropped.
INBOX_RETENTION = timedelta(days=7)
_SWEEP_EVERY = 1000


class InMemoryEventInbox:
    """EventInbox over a dict. Lost on exit: only for tests, demos and embedded use."""

    def __init__(self, retention: timedelta = INBOX_RETENTION) -> None:
        self._events: dict[str, InboxEvent] = {}
        # Ids of pending and processing events.
        self._open: set[str] = set()
        # (due_at, id) of open events, oldest due first, so a lease pops what it takes instead
        # of sorting every open event (a backlog of thousands made each 16-event lease sort
        # them all). Entries go stale when their event moves on; a lease skips those.
        self._due: list[tuple[datetime, str]] = []
        self._retention = retention
        self._recorded = 0
        # Event identity -> the id it was recorded under (see EventInbox.record).
        self._identities: dict[str, str] = {}

    async def record(
        self,
        event_id: str,
        *,
        event_type: str,
        payload: bytes,
        received_at: datetime,
        identity: str | None = None,
    ) -> bool:
        if event_id in self._events or (identity is not None and identity in self._identities):
            return False
        if identity is not None:
            self._identities[identity] = event_id
        self._events[event_id] = InboxEvent(
            id=event_id,
            type=event_type,
            payload=payload,
            state=InboxState.PENDING,
            received_at=received_at,
            due_at=received_at,
        )
        self._open.add(event_id)
        heapq.heappush(self._due, (received_at, event_id))
        self._recorded += 1
        if self._recorded % _SWEEP_EVERY == 0:
            self._sweep(received_at)
        return True

    async def lease(
        self, *, now: datetime, until: datetime, limit: int, lease_id: str
    ) -> Sequence[InboxEvent]:
        leased: list[InboxEvent] = []
        while self._due and len(leased) < limit and self._due[0][0] <= now:
            due_at, event_id = heapq.heappop(self._due)
            event = self._events.get(event_id)
            if event is None or event_id not in self._open or event.due_at != due_at:
                continue  # stale: the event moved on since this entry was pushed
            taken = attrs.evolve(
                event,
                state=InboxState.PROCESSING,
                due_at=until,
                lease_id=lease_id,
                attempts=event.attempts + 1,
            )
            self._events[event.id] = taken
            heapq.heappush(self._due, (until, event.id))  # due again if its worker dies
            leased.append(taken)
        return leased

    async def complete(self, event: InboxEvent, *, now: datetime) -> bool:
        current = self._leased(event)
        if current is None:
            return False
        self._events[event.id] = attrs.evolve(
            current, state=InboxState.DONE, due_at=now, finished_at=now, lease_id=None
        )
        self._open.discard(event.id)
        return True

    async def retry_later(self, event: InboxEvent, *, at: datetime, reason: str) -> bool:
        current = self._leased(event)
        if current is None:
            return False
        self._events[event.id] = attrs.evolve(
            current, state=InboxState.PENDING, due_at=at, last_error=reason, lease_id=None
        )
        heapq.heappush(self._due, (at, event.id))
        return True

    async def reschedule(self, event: InboxEvent, *, at: datetime, payload: bytes) -> bool:
        current = self._leased(event)
        if current is None:
            return False
        self._events[event.id] = attrs.evolve(
            current,
            state=InboxState.PENDING,
            due_at=at,
            payload=payload,
            attempts=0,
            last_error=None,
            lease_id=None,
        )
        heapq.heappush(self._due, (at, event.id))
        return True

    async def park(self, event: InboxEvent, *, reason: str, now: datetime) -> bool:
        current = self._leased(event)
        if current is None:
            return False
        self._events[event.id] = attrs.evolve(
            current,
            state=InboxState.PARKED,
            due_at=now,
            last_error=reason,
            finished_at=now,
            lease_id=None,
        )
        self._open.discard(event.id)
        return True

    async def get(self, event_id: str) -> InboxEvent | None:
        return self._events.get(event_id)

    async def parked(self, *, limit: int) -> Sequence[InboxEvent]:
        found = [e for e in self._events.values() if e.state is InboxState.PARKED]
        found.sort(key=lambda e: (e.finished_at or e.received_at, e.id), reverse=True)
        return found[: max(limit, 0)]

    async def retry_parked(self, event_id: str, *, now: datetime) -> bool:
        event = self._events.get(event_id)
        if event is None or event.state is not InboxState.PARKED:
            return False
        self._events[event_id] = attrs.evolve(
            event, state=InboxState.PENDING, due_at=now, attempts=0, lease_id=None
        )
        self._open.add(event_id)
        heapq.heappush(self._due, (now, event_id))
        return True

    async def counts(self) -> Mapping[InboxState, int]:
        found = Counter(e.state for e in self._events.values())
        return {state: found.get(state, 0) for state in InboxState}

    async def ping(self) -> None:
        return None

    def _leased(self, event: InboxEvent) -> InboxEvent | None:
        """The stored event if `event`'s lease still holds it (the lease is the fence)."""
        current = self._events.get(event.id)
        if (
            current is None
            or current.state is not InboxState.PROCESSING
            or current.lease_id != event.lease_id
        ):
            return None
        return current

    def _sweep(self, now: datetime) -> None:
        horizon = now - self._retention
        for key in [
            e.id
            for e in self._events.values()
            if e.state is InboxState.DONE and (e.finished_at or e.received_at) < horizon
        ]:
            del self._events[key]
        kept = self._events.keys()
        self._identities = {k: v for k, v in self._identities.items() if v in kept}
