"""The webhook inbox on MongoDB: one document per event, every transition one atomic write.

Recording is an insert keyed by the webhook id (the unique `_id` makes a redelivery fail
once, cheaply). Leasing is `find_one_and_update` on `(state, dueAt)`: the server picks and
changes the document in one step, so two workers, in one process or many, never lease the
same event. Completing, rescheduling and parking are conditional on the lease id, which
fences off a worker whose lease lapsed and was retaken.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from yc_chat.adapters.beanie._queries import from_mongo, literal, to_millis
from yc_chat.adapters.beanie.documents import (
    WEBHOOK_EVENT_RETENTION_SECONDS,
    InboxEventDocument,
)
from yc_chat.adapters.beanie.errors import ping, store_errors
from yc_chat.adapters.beanie.server import ATOMIC_WRITES, ExpirySweeper, WriteSerializer
from yc_chat.domain.inbox import InboxEvent, InboxState

_LEASABLE = [InboxState.PENDING.value, InboxState.PROCESSING.value]


def _event(doc: Mapping[str, Any]) -> InboxEvent:
    finished = doc.get("finishedAt")
    return InboxEvent(
        id=doc["_id"],
        type=doc["type"],
        payload=bytes(doc["payload"]),
        state=InboxState(doc["state"]),
        received_at=from_mongo(doc["receivedAt"]),
        due_at=from_mongo(doc["dueAt"]),
        attempts=int(doc.get("attempts", 0)),
        lease_id=doc.get("leaseId"),
        last_error=doc.get("lastError"),
        finished_at=from_mongo(finished) if finished is not None else None,
    )


class BeanieEventInbox:
    """EventInbox on the inbox collection (raw PyMongo calls: the hot path skips models)."""

    def __init__(
        self,
        retention: timedelta = timedelta(seconds=WEBHOOK_EVENT_RETENTION_SECONDS),
        *,
        sweeper: ExpirySweeper | None = None,
        serial: WriteSerializer = ATOMIC_WRITES,
    ) -> None:
        self._retention = retention
        # Where the server ignores TTL indexes, the worker's polling expires done events.
        self._sweeper = sweeper
        # Updates one at a time where the server's are not atomic (FerretDB; see server.py).
        self._serial = serial

    @staticmethod
    def _collection() -> Any:
        return InboxEventDocument.get_pymongo_collection()

    @store_errors
    async def record(
        self,
        event_id: str,
        *,
        event_type: str,
        payload: bytes,
        received_at: datetime,
        identity: str | None = None,
    ) -> bool:
        at = to_millis(received_at)
        try:
            # One insert checks both unique keys: the delivery id and the event identity
            # (an event without one is its own identity, so the index never holds nulls).
            await self._collection().insert_one(
                {
                    "_id": literal(event_id),
                    "identity": literal(identity) if identity is not None else "id:" + event_id,
                    "type": event_type,
                    "payload": payload,
                    "state": InboxState.PENDING.value,
                    "receivedAt": at,
                    "dueAt": at,
                    "attempts": 0,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    @store_errors
    async def lease(
        self, *, now: datetime, until: datetime, limit: int, lease_id: str
    ) -> Sequence[InboxEvent]:
        if self._sweeper is not None:
            await self._sweeper.maybe_sweep()
        leased: list[InboxEvent] = []
        for _ in range(max(limit, 0)):
            async with self._serial():
                doc = await self._lease_one(now=now, until=until, lease_id=lease_id)
            if doc is None:
                break
            leased.append(_event(doc))
        return leased

    async def _lease_one(self, *, now: datetime, until: datetime, lease_id: str) -> Any:
        return await self._collection().find_one_and_update(
            {"state": {"$in": _LEASABLE}, "dueAt": {"$lte": to_millis(now)}},
            {
                "$set": {
                    "state": InboxState.PROCESSING.value,
                    "dueAt": to_millis(until),
                    "leaseId": literal(lease_id),
                },
                "$inc": {"attempts": 1},
            },
            sort=[("dueAt", ASCENDING), ("_id", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    @store_errors
    async def complete(self, event: InboxEvent, *, now: datetime) -> bool:
        at = to_millis(now)
        return await self._settle(
            event,
            {
                "state": InboxState.DONE.value,
                "dueAt": at,
                "finishedAt": at,
                # Housekeeping runs on the server's clock, not the caller's: wall time here.
                "expireAt": to_millis(datetime.now(UTC) + self._retention),
            },
        )

    @store_errors
    async def retry_later(self, event: InboxEvent, *, at: datetime, reason: str) -> bool:
        return await self._settle(
            event, {"state": InboxState.PENDING.value, "dueAt": to_millis(at), "lastError": reason}
        )

    @store_errors
    async def reschedule(self, event: InboxEvent, *, at: datetime, payload: bytes) -> bool:
        return await self._settle(
            event,
            {
                "state": InboxState.PENDING.value,
                "dueAt": to_millis(at),
                "payload": payload,
                "attempts": 0,
                "lastError": None,
            },
        )

    @store_errors
    async def park(self, event: InboxEvent, *, reason: str, now: datetime) -> bool:
        at = to_millis(now)
        return await self._settle(
            event,
            {"state": InboxState.PARKED.value, "dueAt": at, "finishedAt": at, "lastError": reason},
        )

    @store_errors
    async def get(self, event_id: str) -> InboxEvent | None:
        doc = await self._collection().find_one({"_id": literal(event_id)})
        return None if doc is None else _event(doc)

    @store_errors
    async def parked(self, *, limit: int) -> Sequence[InboxEvent]:
        if limit < 1:
            return []
        docs = (
            await self._collection()
            .find({"state": InboxState.PARKED.value})
            .sort([("finishedAt", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
            .to_list()
        )
        return [_event(doc) for doc in docs]

    @store_errors
    async def retry_parked(self, event_id: str, *, now: datetime) -> bool:
        async with self._serial():
            result = await self._collection().update_one(
                {"_id": literal(event_id), "state": InboxState.PARKED.value},
                {
                    "$set": {
                        "state": InboxState.PENDING.value,
                        "dueAt": to_millis(now),
                        "attempts": 0,
                        "leaseId": None,
                        "finishedAt": None,
                    }
                },
            )
        return bool(result.matched_count == 1)

    @store_errors
    async def counts(self) -> Mapping[InboxState, int]:
        collection = self._collection()
        return {
            state: int(await collection.count_documents({"state": state.value}))
            for state in InboxState
        }

    async def ping(self) -> None:
        await ping(InboxEventDocument)

    async def _settle(self, event: InboxEvent, changes: dict[str, Any]) -> bool:
        """Apply `changes` if `event`'s lease still holds the document."""
        async with self._serial():
            result = await self._collection().update_one(
                {
                    "_id": literal(event.id),
                    "state": InboxState.PROCESSING.value,
                    "leaseId": literal(event.lease_id or ""),
                },
                {"$set": {**changes, "leaseId": None}},
            )
        return bool(result.matched_count == 1)
