"""Devices, processed webhook ids, channel locks and profile fingerprints on MongoDB: one
document per key."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime

from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from yc_chat.adapters.beanie._queries import literal, literals, to_millis, upsert_one
from yc_chat.adapters.beanie.documents import (
    ChannelLockDocument,
    DeviceDocument,
    FingerprintDocument,
    WebhookEventDocument,
)
from yc_chat.adapters.beanie.errors import store_errors
from yc_chat.adapters.beanie.server import ATOMIC_WRITES, WriteSerializer
from yc_chat.domain.model import Device, UserId


class BeanieDevices:
    """DeviceRegistry: the token is the `_id`, so registering moves it to its new owner."""

    @store_errors
    async def register(self, device: Device, *, keep: int | None = None) -> None:
        user_id = literal(device.user_id)
        await upsert_one(
            DeviceDocument,
            {"_id": literal(device.token)},
            # Nanoseconds order registrations; ties (same instant) fall back to the token.
            {"userId": user_id, "platform": device.platform, "registeredAt": time.time_ns()},
        )
        if keep is None:
            return
        collection = DeviceDocument.get_pymongo_collection()
        stale = (
            await collection.find({"userId": user_id}, {"_id": 1})
            .sort([("registeredAt", -1), ("_id", -1)])
            .skip(keep)
            .to_list(None)
        )
        if stale:
            await collection.delete_many({"_id": {"$in": [doc["_id"] for doc in stale]}})

    @store_errors
    async def unregister(self, user_id: UserId, token: str) -> bool:
        result = await DeviceDocument.get_pymongo_collection().delete_one(
            {"_id": literal(token), "userId": literal(user_id)}
        )
        return result.deleted_count == 1

    @store_errors
    async def devices_of(self, user_ids: Collection[UserId]) -> Sequence[Device]:
        ids = literals(user_ids)
        if not ids:
            return []
        docs = await DeviceDocument.find({"userId": {"$in": ids}}).sort("_id").to_list()
        return [
            Device(user_id=UserId(doc.user_id), token=doc.id, platform=doc.platform) for doc in docs
        ]

    @store_errors
    async def forget_token(self, token: str) -> None:
        await DeviceDocument.get_pymongo_collection().delete_one({"_id": literal(token)})


class BeanieEventLog:
    """EventLog: a claim is one insert keyed by the event id; the second insert fails."""

    @store_errors
    async def claim(self, event_id: str) -> bool:
        try:
            await WebhookEventDocument(id=literal(event_id), claimed_at=datetime.now(UTC)).insert()
        except DuplicateKeyError:
            return False
        return True

    @store_errors
    async def release(self, event_id: str) -> None:
        await WebhookEventDocument.get_pymongo_collection().delete_one({"_id": literal(event_id)})


class BeanieChannelLocks:
    """ChannelLocks: one document per key; acquiring is one conditional upsert.

    The filter matches the key's document only when its lock has lapsed or is the caller's
    own; otherwise the upsert tries to insert a second document with the same `_id` and
    fails with DuplicateKeyError: someone else holds it. So two callers never both win.
    """

    def __init__(self, *, serial: WriteSerializer = ATOMIC_WRITES) -> None:
        # Updates one at a time where the server's are not atomic (FerretDB; see server.py).
        self._serial = serial

    @store_errors
    async def acquire(self, key: str, *, owner: str, until: datetime, now: datetime) -> bool:
        try:
            async with self._serial():
                await ChannelLockDocument.get_pymongo_collection().update_one(
                    {
                        "_id": literal(key),
                        "$or": [{"until": {"$lte": to_millis(now)}}, {"owner": literal(owner)}],
                    },
                    {"$set": {"owner": literal(owner), "until": to_millis(until)}},
                    upsert=True,
                )
        except DuplicateKeyError:
            return False
        return True

    @store_errors
    async def release(self, key: str, *, owner: str) -> None:
        async with self._serial():
            await ChannelLockDocument.get_pymongo_collection().delete_one(
                {"_id": literal(key), "owner": literal(owner)}
            )


class BeanieFingerprints:
    """ProfileFingerprints: one document per user id."""

    @store_errors
    async def get_many(self, user_ids: Collection[UserId]) -> Mapping[UserId, str]:
        ids = literals(user_ids)
        if not ids:
            return {}
        docs = await FingerprintDocument.find({"_id": {"$in": ids}}).to_list()
        return {UserId(doc.id): doc.fingerprint for doc in docs}

    @store_errors
    async def put_many(self, fingerprints: Mapping[UserId, str]) -> None:
        if not fingerprints:
            return
        # One round trip; each upsert is atomic on its own `_id`.
        await FingerprintDocument.get_pymongo_collection().bulk_write(
            [
                UpdateOne({"_id": literal(uid)}, {"$set": {"fingerprint": fp}}, upsert=True)
                for uid, fp in fingerprints.items()
            ],
            ordered=False,
        )

    @store_errors
    async def invalidate(self, user_id: UserId) -> None:
        await FingerprintDocument.get_pymongo_collection().delete_one({"_id": literal(user_id)})
