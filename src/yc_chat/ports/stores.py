"""Stores and side-effect ports: directory, appointments, devices, idempotency, inbox, channel
locks, push, metrics, time."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from yc_chat.domain.inbox import InboxEvent, InboxState
from yc_chat.domain.metrics import Counted, Timed
from yc_chat.domain.model import (
    Appointment,
    AppointmentId,
    ChannelId,
    ChatStatus,
    Device,
    Member,
    Membership,
    Notification,
    Org,
    OrgId,
    PushOutcome,
    User,
    UserId,
)
from yc_chat.domain.queries import MemberPage
from yc_chat.domain.text import SearchQuery


class Directory(Protocol):
    """Users, orgs and memberships, owned by the host platform (read-only here)."""

    async def get_user(self, user_id: UserId) -> User | None:
        """The user, or None."""

    async def get_users(self, user_ids: Collection[UserId]) -> Mapping[UserId, User]:
        """The users that exist among `user_ids`."""

    async def get_org(self, org_id: OrgId) -> Org | None:
        """The org, or None."""

    async def get_membership(self, org_id: OrgId, user_id: UserId) -> Membership | None:
        """The user's current membership of the org, or None."""

    async def get_memberships(
        self, org_id: OrgId, user_ids: Collection[UserId]
    ) -> Mapping[UserId, Membership]:
        """Current memberships of the org among `user_ids`."""

    async def search_members(
        self, org_id: OrgId, query: SearchQuery, *, limit: int, exclude: UserId | None
    ) -> Sequence[Member]:
        """Current members matching `query` (SearchKeys rule), ranked by SearchKeys.rank."""

    async def list_members(
        self, org_id: OrgId, *, limit: int, after: tuple[str, str] | None
    ) -> MemberPage:
        """Current members by (folded name, id), strictly after the key `after`."""

    async def ping(self) -> None:
        """Raise ProviderUnavailable when the store cannot be reached."""


class DirectoryWriter(Protocol):
    """Loading directory data (seed files, host sync); not used by the use cases."""

    async def put_org(self, org: Org) -> None: ...

    async def put_user(self, user: User) -> None: ...

    async def put_membership(self, membership: Membership) -> None: ...

    async def remove_membership(self, org_id: OrgId, user_id: UserId) -> None: ...


class AppointmentStore(Protocol):
    """Appointments, with the chat fields this service maintains on them."""

    async def get(self, appointment_id: AppointmentId) -> Appointment | None:
        """The appointment, or None."""

    async def put(self, appointment: Appointment) -> None:
        """Insert or replace a whole record (seeding, host sync)."""

    async def link_chat(
        self,
        appointment_id: AppointmentId,
        *,
        channel_id: ChannelId,
        status: ChatStatus,
        activation_minutes: int | None,
    ) -> Appointment:
        """Record the chat's channel and status; an ended chat stays ended."""

    async def set_chat_status(
        self, appointment_id: AppointmentId, status: ChatStatus
    ) -> Appointment | None:
        """Move the chat status forward; an ended chat stays ended. None if unknown."""

    async def find_by_channel(self, channel_id: ChannelId) -> Appointment | None:
        """The appointment linked to `channel_id`, or None."""

    async def unlink_chat(self, appointment_id: AppointmentId) -> None:
        """Forget the channel (it was deleted) and mark the chat ended."""

    async def due_for_activation(self, now: datetime, *, limit: int) -> Sequence[Appointment]:
        """Pending chats whose opening time is at or before `now`, soonest first."""

    async def due_for_ending(
        self, started_before: datetime, *, limit: int
    ) -> Sequence[Appointment]:
        """Linked chats not yet ended whose appointment started at or before the given time,
        earliest start first."""

    async def next_opening(self) -> datetime | None:
        """The earliest opening time among pending linked chats, or None."""

    async def claim_transition(
        self,
        appointment_id: AppointmentId,
        *,
        status: ChatStatus,
        owner: str,
        until: datetime,
        now: datetime,
    ) -> bool:
        """Atomically take the right to move the chat on from `status`, until `until`.

        False when the chat is no longer at `status` or someone else holds an unexpired
        claim. `set_chat_status` ends the claim; an abandoned one lapses at `until`.
        """

    async def ping(self) -> None:
        """Raise ProviderUnavailable when the store cannot be reached."""


class DeviceRegistry(Protocol):
    """Push tokens per user. A token belongs to one user at a time."""

    async def register(self, device: Device) -> None:
        """Store the token for its user (moving it from any previous owner)."""

    async def unregister(self, user_id: UserId, token: str) -> bool:
        """Forget the user's token; False when that user had no such token."""

    async def devices_of(self, user_ids: Collection[UserId]) -> Sequence[Device]:
        """Every device of these users."""

    async def forget_token(self, token: str) -> None:
        """Drop a token whoever owns it (the push provider reported it dead)."""


class EventLog(Protocol):
    """Keys of side effects already taken (e.g. `push:{event id}:{recipient}`), so a
    redelivered or retried event repeats none of them."""

    async def claim(self, key: str) -> bool:
        """Atomically take `key`; False if it was already taken."""

    async def release(self, key: str) -> None:
        """Give a claim back after its effect failed, so a retry can take it."""


class ChannelLocks(Protocol):
    """Short-lived mutual exclusion between callers (on any instance) changing one channel.

    A lock lapses by itself at its `until`, so a holder that crashed never blocks the key
    for longer than that; it is not a fence for work that outlives it.
    """

    async def acquire(self, key: str, *, owner: str, until: datetime, now: datetime) -> bool:
        """Atomically hold `key` for `owner` until `until`.

        False when another owner holds an unexpired lock on `key` (one whose `until` is
        after `now`); a lapsed lock is taken over, and the same owner may renew its own.
        """

    async def release(self, key: str, *, owner: str) -> None:
        """Drop `owner`'s lock on `key`; a lock held by anyone else is left alone."""


class EventInbox(Protocol):
    """Received webhook events, kept until handled; leased to one worker at a time."""

    async def record(
        self, event_id: str, *, event_type: str, payload: bytes, received_at: datetime
    ) -> bool:
        """Store a new event, due at once; False (and nothing changes) if `event_id` exists."""

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


class ProfileFingerprints(Protocol):
    """What each user's provider profile was last upserted as."""

    async def get_many(self, user_ids: Collection[UserId]) -> Mapping[UserId, str]:
        """Stored fingerprints among `user_ids`."""

    async def put_many(self, fingerprints: Mapping[UserId, str]) -> None:
        """Remember fingerprints after a successful upsert."""

    async def invalidate(self, user_id: UserId) -> None:
        """Mark the user's provider profile stale: the next use upserts it."""


class Notifier(Protocol):
    """Push notifications to users' devices."""

    async def notify(self, notifications: Sequence[Notification]) -> Sequence[PushOutcome]:
        """Deliver each notification to its recipient's devices; one outcome per notification.

        Raises only when nothing could be attempted at all (then every one may be retried).
        """


class Metrics(Protocol):
    """Counters and durations for operators (exported as Prometheus text by an adapter)."""

    def count(self, name: Counted, amount: float = 1, **labels: str) -> None:
        """Add `amount` to a counter."""

    def observe(self, name: Timed, seconds: float, **labels: str) -> None:
        """Record one duration."""

    def time(self, name: Timed, **labels: str) -> AbstractContextManager[None]:
        """Record the duration of the `with` block (also when it raises)."""


class Clock(Protocol):
    """Time, injected so the lifecycle can be tested."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
