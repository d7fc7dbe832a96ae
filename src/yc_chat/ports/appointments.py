"""Appointments, owned by the host platform, and the chat fields this service keeps on them.

One record per appointment carries all of it, so one adapter usually implements every port
here (`AppointmentStore`); each use case names only the narrow ports it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from yc_chat.domain.model import Appointment, AppointmentId, ChannelId, ChatStatus


class AppointmentRecords(Protocol):
    """Reading appointment records."""

    async def get(self, appointment_id: AppointmentId) -> Appointment | None:
        """The appointment, or None."""

    async def ping(self) -> None:
        """Raise ProviderUnavailable when the store cannot be reached."""


class AppointmentWriter(Protocol):
    """Loading appointment records (seed files, host sync); not used by the use cases."""

    async def put(self, appointment: Appointment) -> None:
        """Insert or replace a whole record (seeding, host sync)."""


class AppointmentChatLinks(Protocol):
    """The chat an appointment is linked to, and that chat's status."""

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
        """Move the chat status forward; an ended chat stays ended. None if unknown.

        Also ends any transition claim (see `TransitionClaims`).
        """

    async def find_by_channel(self, channel_id: ChannelId) -> Appointment | None:
        """The appointment linked to `channel_id`, or None."""

    async def unlink_chat(self, appointment_id: AppointmentId) -> None:
        """Forget the channel (it was deleted) and mark the chat ended."""


class ChatSchedule(Protocol):
    """The lifecycle scheduler's queries: which linked chats are due to move on, and when."""

    async def due_for_activation(self, now: datetime, *, limit: int) -> Sequence[Appointment]:
        """Pending chats whose opening time is at or before `now`, soonest first."""

    async def due_for_ending(
        self, started_before: datetime, *, limit: int
    ) -> Sequence[Appointment]:
        """Linked chats not yet ended whose appointment started at or before the given time,
        earliest start first."""

    async def next_opening(self) -> datetime | None:
        """The earliest opening time among pending linked chats, or None."""


class TransitionClaims(Protocol):
    """One instance at a time moves a chat on from its status."""

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
        claim. `AppointmentChatLinks.set_chat_status` ends the claim; an abandoned one
        lapses at `until`.
        """


class AppointmentStore(
    AppointmentRecords,
    AppointmentWriter,
    AppointmentChatLinks,
    ChatSchedule,
    TransitionClaims,
    Protocol,
):
    """Every appointment port at once: what an appointment adapter implements."""
