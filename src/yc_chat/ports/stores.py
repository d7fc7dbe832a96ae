"""Stores and side-effect ports: directory, appointments, devices, idempotency, push, time."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol

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
    """Webhook event ids already taken, so Stream's retries are handled once."""

    async def claim(self, event_id: str) -> bool:
        """Atomically take `event_id`; False if it was already taken."""

    async def release(self, event_id: str) -> None:
        """Give a claim back after its handling failed, so a retry can take it."""


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

    async def notify(self, notifications: Sequence[Notification]) -> None:
        """Deliver each notification to its recipient's devices."""


class Clock(Protocol):
    """Time, injected so the lifecycle can be tested."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
