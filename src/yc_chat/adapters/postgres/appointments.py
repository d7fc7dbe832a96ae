"""Appointments on PostgreSQL: chat fields that only move forward, each change one statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from yc_chat.adapters.postgres._sql import aware, storable, store_errors
from yc_chat.adapters.postgres.records import appointment_of, utc
from yc_chat.adapters.postgres.schema import APPOINTMENTS
from yc_chat.domain import errors
from yc_chat.domain.limits import DEFAULT_ACTIVATION_MINUTES
from yc_chat.domain.model import (
    Appointment,
    AppointmentId,
    ChannelId,
    ChatStatus,
    opens_at,
    statuses_up_to,
)

A = APPOINTMENTS.c


def _replaceable_by(status: ChatStatus) -> sa.ColumnElement[bool]:
    """The stored status may become `status`: none yet, or one not later than it.

    `later_status` done by the database inside the UPDATE, so concurrent writers never
    move a chat backwards (ended stays ended).
    """
    return sa.or_(
        A.chat_status.is_(None), A.chat_status.in_([s.value for s in statuses_up_to(status)])
    )


def _forward_to(status: ChatStatus) -> sa.ColumnElement[Any]:
    return sa.case((_replaceable_by(status), status.value), else_=A.chat_status)


class PostgresAppointments:
    """AppointmentStore on chat_appointments.

    `chat_opens_at` is stored beside the start, so `due_for_activation` is one range of a
    partial index holding only pending linked chats.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # One statement per read, so no transaction around it: no BEGIN/COMMIT round trips.
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")

    @store_errors
    async def get(self, appointment_id: AppointmentId) -> Appointment | None:
        if not storable(appointment_id):
            return None
        async with self._reads.connect() as conn:
            row = (
                await conn.execute(sa.select(APPOINTMENTS).where(A.id == appointment_id))
            ).first()
        return None if row is None else appointment_of(row)

    @store_errors
    async def put(self, appointment: Appointment) -> None:
        starts_at = aware(appointment.starts_at)
        values = {
            "org_id": appointment.org_id,
            "pet_owner_id": appointment.pet_owner_id,
            "vet_id": appointment.vet_id,
            "starts_at": starts_at,
            "pet_name": appointment.pet_name,
            "pet_owner_name": appointment.pet_owner_name,
            "chat_channel_id": appointment.chat_channel_id,
            "chat_status": appointment.chat_status.value if appointment.chat_status else None,
            "chat_activation_minutes": appointment.chat_activation_minutes,
            "chat_opens_at": opens_at(starts_at, appointment.chat_activation_minutes),
        }
        statement = insert(APPOINTMENTS).values(id=appointment.id, **values)
        async with self._engine.begin() as conn:
            await conn.execute(statement.on_conflict_do_update(index_elements=[A.id], set_=values))

    @store_errors
    async def link_chat(
        self,
        appointment_id: AppointmentId,
        *,
        channel_id: ChannelId,
        status: ChatStatus,
        activation_minutes: int | None,
    ) -> Appointment:
        """One UPDATE: channel, minutes, opening time from the stored start, status forward."""
        minutes = DEFAULT_ACTIVATION_MINUTES if activation_minutes is None else activation_minutes
        row = None
        if storable(appointment_id):
            async with self._engine.begin() as conn:
                row = (
                    await conn.execute(
                        sa.update(APPOINTMENTS)
                        .where(A.id == appointment_id)
                        .values(
                            chat_channel_id=channel_id,
                            chat_activation_minutes=activation_minutes,
                            chat_opens_at=A.starts_at - timedelta(minutes=minutes),
                            chat_status=_forward_to(status),
                        )
                        .returning(*APPOINTMENTS.c)
                    )
                ).first()
        if row is None:
            raise errors.NotFound(
                "The appointment does not exist", code=errors.CODE_APPOINTMENT_NOT_FOUND
            )
        return appointment_of(row)

    @store_errors
    async def set_chat_status(
        self, appointment_id: AppointmentId, status: ChatStatus
    ) -> Appointment | None:
        if not storable(appointment_id):
            return None
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.update(APPOINTMENTS)
                    .where(A.id == appointment_id)
                    # A status written ends any lifecycle claim on the chat.
                    .values(
                        chat_status=_forward_to(status),
                        transition_owner=None,
                        transition_until=None,
                    )
                    .returning(*APPOINTMENTS.c)
                )
            ).first()
        return None if row is None else appointment_of(row)

    @store_errors
    async def find_by_channel(self, channel_id: ChannelId) -> Appointment | None:
        if not storable(channel_id):
            return None
        async with self._reads.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(APPOINTMENTS)
                    .where(A.chat_channel_id == channel_id)
                    .order_by(A.id)
                    .limit(1)
                )
            ).first()
        return None if row is None else appointment_of(row)

    @store_errors
    async def unlink_chat(self, appointment_id: AppointmentId) -> None:
        if not storable(appointment_id):
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.update(APPOINTMENTS)
                .where(A.id == appointment_id)
                .values(
                    chat_channel_id=None,
                    chat_status=ChatStatus.ENDED.value,
                    transition_owner=None,
                    transition_until=None,
                )
            )

    @store_errors
    async def due_for_activation(self, now: datetime, *, limit: int) -> Sequence[Appointment]:
        if limit < 1:
            return []
        return await self._rows(due_for_activation_query(aware(now)).limit(limit))

    @store_errors
    async def due_for_ending(
        self, started_before: datetime, *, limit: int
    ) -> Sequence[Appointment]:
        if limit < 1:
            return []
        return await self._rows(due_for_ending_query(aware(started_before)).limit(limit))

    @store_errors
    async def next_opening(self) -> datetime | None:
        async with self._reads.connect() as conn:
            found = (
                await conn.execute(
                    sa.select(A.chat_opens_at)
                    .where(*_pending_linked())
                    .order_by(A.chat_opens_at)
                    .limit(1)
                )
            ).scalar()
        return None if found is None else utc(found)

    @store_errors
    async def claim_transition(
        self,
        appointment_id: AppointmentId,
        *,
        status: ChatStatus,
        owner: str,
        until: datetime,
        now: datetime,
    ) -> bool:
        """One conditional UPDATE: the status must still be `status`, and no claim live."""
        if not storable(appointment_id):
            return False
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.update(APPOINTMENTS)
                    .where(
                        A.id == appointment_id,
                        A.chat_status == status.value,
                        sa.or_(A.transition_until.is_(None), A.transition_until <= aware(now)),
                    )
                    .values(transition_owner=owner, transition_until=aware(until))
                    .returning(A.id)
                )
            ).first()
        return row is not None

    @store_errors
    async def ping(self) -> None:
        async with self._reads.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def _rows(self, query: sa.Select[Any]) -> list[Appointment]:
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [appointment_of(row) for row in rows]


def _pending_linked() -> tuple[sa.ColumnElement[bool] | sa.TextClause, ...]:
    # The partial index's predicate, as literal SQL: a parameter in its place would keep a
    # prepared statement's generic plan from proving that the index covers the query.
    return (
        sa.text("chat_appointments.chat_status = 'pending'"),
        A.chat_channel_id.is_not(None),
    )


def _open_linked() -> tuple[sa.ColumnElement[bool] | sa.TextClause, ...]:
    return (
        sa.text("chat_appointments.chat_status IN ('pending', 'active')"),
        A.chat_channel_id.is_not(None),
    )


def due_for_activation_query(now: datetime) -> sa.Select[Any]:
    """Pending linked chats opening at or before `now`, soonest first (the lifecycle's scan)."""
    return (
        sa.select(APPOINTMENTS)
        .where(*_pending_linked(), A.chat_opens_at <= now)
        .order_by(A.chat_opens_at, A.id)
    )


def due_for_ending_query(started_before: datetime) -> sa.Select[Any]:
    """Linked chats not ended whose appointment started by then, earliest first."""
    return (
        sa.select(APPOINTMENTS)
        .where(*_open_linked(), A.starts_at <= started_before)
        .order_by(A.starts_at, A.id)
    )
