"""Appointments on MongoDB, with chat fields that only move forward, atomically."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from beanie import SortDirection, UpdateResponse

from yc_chat.adapters.beanie._queries import from_mongo, literal, to_millis
from yc_chat.adapters.beanie.documents import AppointmentDocument
from yc_chat.adapters.beanie.errors import STORE_UNAVAILABLE_MESSAGE, ping, store_errors
from yc_chat.adapters.beanie.server import ATOMIC_WRITES, WriteSerializer
from yc_chat.domain import errors
from yc_chat.domain.model import (
    Appointment,
    AppointmentId,
    ChannelId,
    ChatStatus,
    OrgId,
    UserId,
    opens_at,
    statuses_up_to,
)

# link_chat re-reads when the start time changed under it; a record rewritten this many
# times in a row is not settling, and the caller gets a 503 to retry later.
_LINK_ATTEMPTS = 3


def _replaceable_by(status: ChatStatus) -> list[str | None]:
    """Stored statuses that `status` may overwrite: none yet, or any not later than it.

    The filter of a conditional update: this is `later_status` done by the database, so
    two concurrent writers can never move a chat backwards (ended stays ended).
    """
    return [None, *(s.value for s in statuses_up_to(status))]


def _appointment(doc: AppointmentDocument) -> Appointment:
    return Appointment(
        id=AppointmentId(doc.id),
        org_id=OrgId(doc.org_id),
        pet_owner_id=UserId(doc.pet_owner_id),
        vet_id=UserId(doc.vet_id),
        starts_at=from_mongo(doc.starts_at),
        pet_name=doc.pet_name,
        pet_owner_name=doc.pet_owner_name,
        chat_channel_id=ChannelId(doc.chat_channel_id) if doc.chat_channel_id else None,
        chat_status=ChatStatus(doc.chat_status) if doc.chat_status else None,
        chat_activation_minutes=doc.chat_activation_minutes,
    )


class BeanieAppointments:
    """AppointmentStore on the appointments collection.

    Start times are kept to the millisecond (BSON dates). `chatOpensAt` is stored beside
    them so that `due_for_activation` is one range scan of the (chatStatus, chatOpensAt)
    index.
    """

    def __init__(self, *, serial: WriteSerializer = ATOMIC_WRITES) -> None:
        # Updates one at a time where the server's are not atomic (FerretDB; see server.py).
        self._serial = serial

    @store_errors
    async def get(self, appointment_id: AppointmentId) -> Appointment | None:
        doc = await AppointmentDocument.find_one({"_id": literal(appointment_id)})
        return None if doc is None else _appointment(doc)

    @store_errors
    async def put(self, appointment: Appointment) -> None:
        starts_at = to_millis(appointment.starts_at)
        document = AppointmentDocument(
            id=literal(appointment.id),
            org_id=appointment.org_id,
            pet_owner_id=appointment.pet_owner_id,
            vet_id=appointment.vet_id,
            starts_at=starts_at,
            pet_name=appointment.pet_name,
            pet_owner_name=appointment.pet_owner_name,
            chat_channel_id=appointment.chat_channel_id,
            chat_status=appointment.chat_status.value if appointment.chat_status else None,
            chat_activation_minutes=appointment.chat_activation_minutes,
            chat_opens_at=opens_at(starts_at, appointment.chat_activation_minutes),
        )
        # One find_one_and_update($set every field, upsert): the whole record, atomically.
        async with self._serial():
            await document.save()

    @store_errors
    async def link_chat(
        self,
        appointment_id: AppointmentId,
        *,
        channel_id: ChannelId,
        status: ChatStatus,
        activation_minutes: int | None,
    ) -> Appointment:
        """Set channel, minutes and opening time; the status only if it moves forward.

        The opening time depends on the stored start, so the update is conditional on the
        start read just before (optimistic: a concurrent rewrite of the start re-reads).
        """
        key = literal(appointment_id)
        for _ in range(_LINK_ATTEMPTS):
            current = await AppointmentDocument.find_one({"_id": key})
            if current is None:
                raise errors.NotFound(
                    "The appointment does not exist", code=errors.CODE_APPOINTMENT_NOT_FOUND
                )
            same_start = {"_id": key, "startsAt": current.starts_at}
            fields = {
                "chatChannelId": literal(channel_id),
                "chatActivationMinutes": activation_minutes,
                "chatOpensAt": opens_at(current.starts_at, activation_minutes),
            }
            updated = await self._update(
                {**same_start, "chatStatus": {"$in": _replaceable_by(status)}},
                {**fields, "chatStatus": status.value},
            )
            if updated is None:
                # The stored status is already later (it stays), or the start moved (retry).
                updated = await self._update(same_start, fields)
            if updated is not None:
                return _appointment(updated)
        raise errors.ProviderUnavailable(STORE_UNAVAILABLE_MESSAGE)

    @store_errors
    async def set_chat_status(
        self, appointment_id: AppointmentId, status: ChatStatus
    ) -> Appointment | None:
        key = literal(appointment_id)
        updated = await self._update(
            {"_id": key, "chatStatus": {"$in": _replaceable_by(status)}},
            # A status written ends any lifecycle claim on the chat.
            {"chatStatus": status.value, "transitionOwner": None, "transitionUntil": None},
        )
        if updated is None:  # unknown, or already at a later status, which it keeps
            updated = await AppointmentDocument.find_one({"_id": key})
        return None if updated is None else _appointment(updated)

    @store_errors
    async def find_by_channel(self, channel_id: ChannelId) -> Appointment | None:
        doc = await AppointmentDocument.find_one({"chatChannelId": literal(channel_id)})
        return None if doc is None else _appointment(doc)

    @store_errors
    async def unlink_chat(self, appointment_id: AppointmentId) -> None:
        async with self._serial():
            await AppointmentDocument.get_pymongo_collection().update_one(
                {"_id": literal(appointment_id)},
                {
                    "$set": {
                        "chatChannelId": None,
                        "chatStatus": ChatStatus.ENDED.value,
                        "transitionOwner": None,
                        "transitionUntil": None,
                    }
                },
            )

    @store_errors
    async def due_for_activation(self, now: datetime, *, limit: int) -> Sequence[Appointment]:
        if limit < 1:
            return []
        docs = (
            await AppointmentDocument.find(
                {
                    "chatStatus": ChatStatus.PENDING.value,
                    "chatOpensAt": {"$lte": to_millis(now)},
                    "chatChannelId": {"$ne": None},
                }
            )
            .sort([("chatOpensAt", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)])
            .limit(limit)
            .to_list()
        )
        return [_appointment(doc) for doc in docs]

    @store_errors
    async def due_for_ending(
        self, started_before: datetime, *, limit: int
    ) -> Sequence[Appointment]:
        if limit < 1:
            return []
        docs = (
            await AppointmentDocument.find(
                {
                    "chatStatus": {"$in": [ChatStatus.PENDING.value, ChatStatus.ACTIVE.value]},
                    "startsAt": {"$lte": to_millis(started_before)},
                    "chatChannelId": {"$ne": None},
                }
            )
            .sort([("startsAt", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)])
            .limit(limit)
            .to_list()
        )
        return [_appointment(doc) for doc in docs]

    @store_errors
    async def next_opening(self) -> datetime | None:
        docs = (
            await AppointmentDocument.find(
                {"chatStatus": ChatStatus.PENDING.value, "chatChannelId": {"$ne": None}}
            )
            .sort([("chatOpensAt", SortDirection.ASCENDING)])
            .limit(1)
            .to_list()
        )
        return from_mongo(docs[0].chat_opens_at) if docs else None

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
        """One conditional update: the status must still be `status`, and no claim live."""
        async with self._serial():
            result = await AppointmentDocument.get_pymongo_collection().update_one(
                {
                    "_id": literal(appointment_id),
                    "chatStatus": status.value,
                    "$or": [
                        {"transitionUntil": None},
                        {"transitionUntil": {"$lte": to_millis(now)}},
                    ],
                },
                {"$set": {"transitionOwner": literal(owner), "transitionUntil": to_millis(until)}},
            )
        return bool(result.matched_count == 1)

    async def ping(self) -> None:
        await ping(AppointmentDocument)

    async def _update(
        self, where: dict[str, Any], changes: dict[str, Any]
    ) -> AppointmentDocument | None:
        """One find_one_and_update: the document after the change, or None if none matched."""
        async with self._serial():
            result = await AppointmentDocument.find_one(where).update(
                {"$set": changes}, response_type=UpdateResponse.NEW_DOCUMENT
            )
        return result if isinstance(result, AppointmentDocument) else None
