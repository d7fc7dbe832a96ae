"""Short-lived channel locks on MongoDB: one document per lock key."""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError

from yc_chat.adapters.beanie._queries import literal, to_millis
from yc_chat.adapters.beanie.documents import ChannelLockDocument
from yc_chat.adapters.beanie.errors import store_errors
from yc_chat.adapters.beanie.server import ATOMIC_WRITES, WriteSerializer


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
