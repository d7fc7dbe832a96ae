"""RecordChatEvent (the webhook's durable half) and ProcessInboxEvents (the worker's pass)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

import attrs

from yc_chat.domain.deadlines import NO_DEADLINES
from yc_chat.domain.events import ChatEvent, event_kind
from yc_chat.domain.inbox import InboxEvent, RetryPolicy, failure_reason
from yc_chat.domain.metrics import NO_METRICS, Counted, Timed

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from yc_chat.ports import Clock, Deadlines, EventInbox, Metrics


class EventHandler(Protocol):
    def __call__(
        self, *, event_id: str, event: ChatEvent, lease_until: datetime
    ) -> Awaitable[None]: ...


@attrs.frozen(kw_only=True)
class PassOutcome:
    """What a worker pass did with one event (for logs): handled, retried, parked, or
    lost (its lease lapsed and another worker took it meanwhile)."""

    event_id: str
    kind: str
    attempts: int
    result: Literal["processed", "ignored", "continued", "retry", "parked", "lost"]
    reason: str | None = None


class UndecodableEvent(ValueError):
    """A recorded payload that can never become an event: parked at once, never retried."""


class EventIgnored(Exception):
    """The event cannot be acted on and never will be: done, but counted and reported."""

    CHANNEL_UNKNOWN = "channel_unknown"
    NOT_OURS = "not_ours"
    MALFORMED = "malformed"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobContinues(Exception):
    """Raised by a handler whose job moved on but is not finished (it spent its budget):
    the inbox keeps it with `payload`, its progress, due again after the first retry's
    wait, and it leaves the worker free for other events meanwhile."""

    def __init__(self, payload: bytes) -> None:
        super().__init__("the job continues in a later pass")
        self.payload = payload


@attrs.frozen(kw_only=True)
class RecordChatEvent:
    """Keep a verified webhook event durably; False when its id was recorded before."""

    inbox: EventInbox
    clock: Clock
    metrics: Metrics = NO_METRICS

    async def __call__(
        self, *, event_id: str, event_type: str, payload: bytes, identity: str | None = None
    ) -> bool:
        """Record the raw event (the exact bytes Stream signed) for the worker; False when
        its delivery id or its identity (the same event replayed under a new id) was seen."""
        with self.metrics.time(Timed.WEBHOOK_RECORD):
            recorded = await self.inbox.record(
                event_id,
                event_type=event_type,
                payload=payload,
                received_at=self.clock.now(),
                identity=identity,
            )
        self.metrics.count(Counted.WEBHOOKS_RECEIVED if recorded else Counted.WEBHOOKS_DUPLICATE)
        return recorded


@attrs.frozen(kw_only=True)
class ProcessInboxEvents:
    """One worker pass: lease due events, handle each, then complete, retry later or park.

    Handling runs at least once per event (a lapsed lease is retaken), so `handle` must be
    idempotent; HandleChatEvent is. Leases make concurrent workers, in this process or
    others, take disjoint events; `handle` learns when the lease runs out (the leased
    event's `due_at`), so that what it claims lapses with it.
    """

    inbox: EventInbox
    handle: EventHandler
    decode: Callable[[bytes], ChatEvent]
    clock: Clock
    lease_for: timedelta
    policy: RetryPolicy = attrs.field(factory=RetryPolicy)
    metrics: Metrics = NO_METRICS
    batch_size: int = 16
    jitter: Callable[[], float] = random.random
    # Each event's handling gets its own budget: a dependency that hangs fails the event
    # (retried later) instead of holding the worker until the lease lapses.
    deadlines: Deadlines = NO_DEADLINES

    async def __call__(self) -> Sequence[PassOutcome]:
        """Handle the events due now, concurrently; what became of each one leased."""
        now = self.clock.now()
        leased = await self.inbox.lease(
            now=now, until=now + self.lease_for, limit=self.batch_size, lease_id=uuid.uuid4().hex
        )
        if not leased:
            return []
        return await asyncio.gather(*(self._process(event) for event in leased))

    async def drain(self, *, max_passes: int = 1000) -> int:
        """Passes until nothing is due (for tools and tests); returns events leased in total."""
        total = 0
        for _ in range(max_passes):
            handled = await self()
            if not handled:
                break
            total += len(handled)
        return total

    async def _process(self, event: InboxEvent) -> PassOutcome:
        if event.attempts > self.policy.max_attempts:
            # Earlier attempts never reported back: their workers died mid-handling. An event
            # that keeps killing workers must stop being retaken.
            reason = event.last_error or "attempts ran out without finishing (worker stopped)"
            return await self._park(event, reason, "unfinished")
        kind = "undecodable"
        try:
            decoded = self._decode(event)
            kind = event_kind(decoded)
            with self.metrics.time(Timed.EVENT_HANDLING, kind=kind):
                # The event's lease bounds the handler's claims: a worker that dies leaves
                # them to lapse exactly when the event becomes due again. The event's
                # deadline is shorter than its lease, so a live worker never outlives it.
                async with self.deadlines.bounded():
                    await self.handle(event_id=event.id, event=decoded, lease_until=event.due_at)
        except UndecodableEvent as exc:
            return await self._park(event, failure_reason(exc), kind)
        except EventIgnored as ignored:
            # Done for good (a retry would find the same), but counted and reported.
            if not await self.inbox.complete(event, now=self.clock.now()):
                return self._outcome(event, kind, "lost")
            self.metrics.count(Counted.EVENTS_IGNORED, kind=kind, reason=ignored.reason)
            return self._outcome(event, kind, "ignored", ignored.reason)
        except JobContinues as more:
            at = self.clock.now() + self.policy.delay(1, self.jitter())
            if not await self.inbox.reschedule(event, at=at, payload=more.payload):
                return self._outcome(event, kind, "lost")
            return self._outcome(event, kind, "continued")
        except Exception as exc:
            reason = failure_reason(exc)
            if self.policy.gives_up_after(event.attempts):
                return await self._park(event, reason, kind)
            delay = self.policy.delay(event.attempts, self.jitter())
            if not await self.inbox.retry_later(event, at=self.clock.now() + delay, reason=reason):
                return self._outcome(event, kind, "lost")
            self.metrics.count(Counted.EVENTS_FAILED, kind=kind)
            return self._outcome(event, kind, "retry", reason)
        now = self.clock.now()
        if not await self.inbox.complete(event, now=now):
            return self._outcome(event, kind, "lost")
        self.metrics.count(Counted.EVENTS_PROCESSED, kind=kind)
        self.metrics.observe(Timed.EVENT_LAG, max((now - event.received_at).total_seconds(), 0.0))
        return self._outcome(event, kind, "processed")

    def _decode(self, event: InboxEvent) -> ChatEvent:
        try:
            return self.decode(event.payload)
        except Exception as exc:
            raise UndecodableEvent(f"cannot decode the recorded payload: {exc}") from exc

    async def _park(self, event: InboxEvent, reason: str, kind: str) -> PassOutcome:
        if not await self.inbox.park(event, reason=reason, now=self.clock.now()):
            return self._outcome(event, kind, "lost")
        self.metrics.count(Counted.EVENTS_PARKED, kind=kind)
        return self._outcome(event, kind, "parked", reason)

    @staticmethod
    def _outcome(
        event: InboxEvent,
        kind: str,
        result: Literal["processed", "ignored", "continued", "retry", "parked", "lost"],
        reason: str | None = None,
    ) -> PassOutcome:
        return PassOutcome(
            event_id=event.id, kind=kind, attempts=event.attempts, result=result, reason=reason
        )
