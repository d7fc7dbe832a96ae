"""Claimed effect keys on MongoDB (`push:{event}:{user}`): one document per key."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.errors import DuplicateKeyError

from yc_chat.adapters.beanie._queries import literal
from yc_chat.adapters.beanie.documents import WebhookEventDocument
from yc_chat.adapters.beanie.errors import store_errors


class BeanieEffectClaims:
    """EffectClaims: a claim is one insert keyed by the event id; the second insert fails."""

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
