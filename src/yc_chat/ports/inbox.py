"""The webhook event inbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from yc_chat.domain.inbox import InboxEvent, InboxState


class EventInbox(Protocol):
    """Received webhook events, kept until handled; leased to one worker at a time."""

    async def record(
        self,
        event_id: str,
        *,
        event_type: str,
        payload: bytes,
        received_at: datetime,
        identity: str | None = None,
    ) -> bool:
        """Store a new event, due at once; False (and nothing changes) if `event_id` exists,
        or if an event with the same `identity` (what the event is, whatever delivery
        brought it) was recorded and is still kept."""

    async def lease(
        self, *, now: datetime, until: datetime, limit: int, lease_id: str
    ) -> Sequence[InboxEvent]:
        """Take up to `limit` due events for one worker until `until`, oldest due first.

        Due: pending with `due_at <= now`, or processing whose lease ran out (its worker
        died). Each taken event gets `lease_id`, state processing and one more attempt;
        no event is ever leased to two callers at once.
        """

    async def complete(self, event: InboxEvent, *, now: datetime) -> bool:
        """Mark a leased event done; False if the lease was lost (it lapsed and was retaken)."""

    async def retry_later(self, event: InboxEvent, *, at: datetime, reason: str) -> bool:
        """Put a leased event back, due at `at`, noting why; False if the lease was lost."""

    async def reschedule(self, event: InboxEvent, *, at: datetime, payload: bytes) -> bool:
        """Put a leased job back with `payload` (its progress), due at `at`, its attempts
        reset: a job that moved on has not failed. False if the lease was lost."""

    async def park(self, event: InboxEvent, *, reason: str, now: datetime) -> bool:
        """Give up on a leased event, keeping it with the reason; False if the lease was lost."""

    async def get(self, event_id: str) -> InboxEvent | None:
        """The event, or None."""

    async def parked(self, *, limit: int) -> Sequence[InboxEvent]:
        """Parked events, most recently parked first."""

    async def retry_parked(self, event_id: str, *, now: datetime) -> bool:
        """Make a parked event pending again, due now, with its attempts reset; False if it
        is not parked."""

    async def counts(self) -> Mapping[InboxState, int]:
        """How many events are in each state."""

    async def ping(self) -> None:
        """Raise ProviderUnavailable when the store cannot be reached."""
