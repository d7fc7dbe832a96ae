"""Profile fingerprints on MongoDB: one document per user id."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping

from pymongo import UpdateOne

from yc_chat.adapters.beanie._queries import literal, literals, upsert_one
from yc_chat.adapters.beanie.documents import FingerprintDocument
from yc_chat.adapters.beanie.errors import store_errors
from yc_chat.domain.model import UserId


class BeanieFingerprints:
    """ProfileFingerprints: one document per user id."""

    def __init__(self, *, bulk_upserts: bool = True) -> None:
        # FerretDB answers an unordered bulk of upserts that meets a concurrent insert of
        # the same key without `nModified`, which PyMongo cannot read; there each upsert
        # goes alone, retried once on a duplicate key (see server.py).
        self._bulk_upserts = bulk_upserts

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
        if not self._bulk_upserts:
            await asyncio.gather(
                *(
                    upsert_one(FingerprintDocument, {"_id": literal(uid)}, {"fingerprint": fp})
                    for uid, fp in fingerprints.items()
                )
            )
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
