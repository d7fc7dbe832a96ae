"""Push devices on MongoDB: one document per token, so a token has exactly one owner."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence

from yc_chat.adapters.beanie._queries import literal, literals, upsert_one
from yc_chat.adapters.beanie.documents import DeviceDocument
from yc_chat.adapters.beanie.errors import store_errors
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
