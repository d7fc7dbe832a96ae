"""Rows read back as domain records: the one place a row's columns become attrs objects."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeAlias

import sqlalchemy as sa

from yc_chat.domain.inbox import InboxEvent, InboxState
from yc_chat.domain.model import (
    Appointment,
    AppointmentId,
    ChannelId,
    ChatStatus,
    Membership,
    OrgId,
    User,
    UserId,
    UserKind,
)

# A result row of any width (SQLAlchemy 2.1 types rows by their column tuple).
AnyRow: TypeAlias = "sa.Row[*tuple[Any, ...]]"


def utc(moment: datetime) -> datetime:
    """A `timestamptz` as read (in the session's zone), as an aware UTC datetime."""
    return moment.astimezone(UTC)


def user_of(row: AnyRow | Mapping[Any, Any], *, id_column: str = "id") -> User:
    """A user row: a SQLAlchemy row, or any mapping by column name (an asyncpg record)."""
    mapping = row._mapping if isinstance(row, sa.Row) else row
    return User(
        id=UserId(mapping[id_column]),
        name=mapping["name"],
        kind=UserKind(mapping["kind"]),
        email=mapping["email"],
        image=mapping["image"],
    )


def membership_of(row: Mapping[Any, Any]) -> Membership:
    """A membership row by column name (a SQLAlchemy row's `_mapping`, an asyncpg record)."""
    return Membership(org_id=OrgId(row["org_id"]), user_id=UserId(row["user_id"]), role=row["role"])


def appointment_of(row: AnyRow) -> Appointment:
    return Appointment(
        id=AppointmentId(row.id),
        org_id=OrgId(row.org_id),
        pet_owner_id=UserId(row.pet_owner_id),
        vet_id=UserId(row.vet_id),
        starts_at=utc(row.starts_at),
        pet_name=row.pet_name,
        pet_owner_name=row.pet_owner_name,
        chat_channel_id=ChannelId(row.chat_channel_id) if row.chat_channel_id else None,
        chat_status=ChatStatus(row.chat_status) if row.chat_status else None,
        chat_activation_minutes=row.chat_activation_minutes,
    )


def inbox_event_of(row: Mapping[Any, Any]) -> InboxEvent:
    """An inbox row by column name: a SQLAlchemy row's `_mapping`, or an asyncpg record."""
    finished_at = row["finished_at"]
    return InboxEvent(
        id=row["id"],
        type=row["type"],
        payload=bytes(row["payload"]),
        state=InboxState(row["state"]),
        received_at=utc(row["received_at"]),
        due_at=utc(row["due_at"]),
        attempts=int(row["attempts"]),
        lease_id=row["lease_id"],
        last_error=row["last_error"],
        finished_at=utc(finished_at) if finished_at is not None else None,
    )
