"""Appointments in memory, with the chat fields this service maintains."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from yc_chat.domain.model import (
    Appointment,
    AppointmentId,
    ChannelId,
    ChatStatus,
    later_status,
)


class InMemoryAppointments:
    """AppointmentStore over a dict."""

    def __init__(self) -> None:
        self._items: dict[AppointmentId, Appointment] = {}
        # Lifecycle claims: appointment id -> (owner, until).
        self._claims: dict[AppointmentId, tuple[str, datetime]] = {}

    async def get(self, appointment_id: AppointmentId) -> Appointment | None:
        return self._items.get(appointment_id)

    async def put(self, appointment: Appointment) -> None:
        self._items[appointment.id] = appointment

    async def link_chat(
        self,
        appointment_id: AppointmentId,
        *,
        channel_id: ChannelId,
        status: ChatStatus,
        activation_minutes: int | None,
    ) -> Appointment:
        current = self._items[appointment_id]
        updated = attrs.evolve(
            current,
            chat_channel_id=channel_id,
            chat_status=later_status(current.chat_status, status),
            chat_activation_minutes=activation_minutes,
        )
        self._items[appointment_id] = updated
        return updated

    async def set_chat_status(
        self, appointment_id: AppointmentId, status: ChatStatus
    ) -> Appointment | None:
        current = self._items.get(appointment_id)
        if current is None:
            return None
        updated = attrs.evolve(current, chat_status=later_status(current.chat_status, status))
        self._items[appointment_id] = updated
        self._claims.pop(appointment_id, None)
        return updated

    async def find_by_channel(self, channel_id: ChannelId) -> Appointment | None:
        return next((a for a in self._items.values() if a.chat_channel_id == channel_id), None)

    async def unlink_chat(self, appointment_id: AppointmentId) -> None:
        current = self._items.get(appointment_id)
        if current is not None:
            self._items[appointment_id] = attrs.evolve(
                current, chat_channel_id=None, chat_status=ChatStatus.ENDED
            )

    async def due_for_activation(self, now: datetime, *, limit: int) -> Sequence[Appointment]:
        due = [
            a
            for a in self._items.values()
            if a.chat_status is ChatStatus.PENDING
            and a.chat_channel_id is not None
            and a.chat_opens_at <= now
        ]
        due.sort(key=lambda a: (a.chat_opens_at, a.id))
        return due[:limit]

    async def due_for_ending(
        self, started_before: datetime, *, limit: int
    ) -> Sequence[Appointment]:
        due = [
            a
            for a in self._items.values()
            if a.chat_status in (ChatStatus.PENDING, ChatStatus.ACTIVE)
            and a.chat_channel_id is not None
            and a.starts_at <= started_before
        ]
        due.sort(key=lambda a: (a.starts_at, a.id))
        return due[:limit]

    async def next_opening(self) -> datetime | None:
        return min(
            (
                a.chat_opens_at
                for a in self._items.values()
                if a.chat_status is ChatStatus.PENDING and a.chat_channel_id is not None
            ),
            default=None,
        )

    async def claim_transition(
        self,
        appointment_id: AppointmentId,
        *,
        status: ChatStatus,
        owner: str,
        until: datetime,
        now: datetime,
    ) -> bool:
        # No await between the checks and the write: atomic within one event loop.
        current = self._items.get(appointment_id)
        if current is None or current.chat_status is not status:
            return False
        held = self._claims.get(appointment_id)
        if held is not None and held[1] > now:
            return False
        self._claims[appointment_id] = (owner, until)
        return True

    async def ping(self) -> None:
        return None
