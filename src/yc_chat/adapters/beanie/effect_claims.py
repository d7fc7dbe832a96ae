"""Leased effect claims on MongoDB (`push:{event}:{user}`): one document per claim.

Taking a key inserts its next numbered claim (see WebhookEventDocument), so the once-only
step is an insert on a unique `_id`: atomic on every server, FerretDB included, where two
processes' conditional updates can both win. Confirming and releasing change only the
caller's own claim document, which nobody else writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from yc_chat.adapters import deadline
from yc_chat.adapters.beanie._queries import from_mongo, literal, to_millis
from yc_chat.adapters.beanie.documents import WebhookEventDocument
from yc_chat.adapters.beanie.errors import store_errors
from yc_chat.domain.model import ClaimState

# A released claim's lease: over before any `now`.
_LAPSED = datetime(1970, 1, 1, tzinfo=UTC)


def _claim_id(key: str, generation: int) -> str:
    # The key's length keeps (generation, key) -> id one-to-one whatever the key holds.
    return f"{generation}:{len(key)}:{key}"


class BeanieEffectClaims:
    """EffectClaims: a key's claims are numbered documents; taking it inserts the next one."""

    @staticmethod
    def _collection() -> Any:
        return WebhookEventDocument.get_pymongo_collection()

    @store_errors
    async def claim(self, key: str, *, owner: str, now: datetime, until: datetime) -> ClaimState:
        key = literal(key)
        claims = await (
            self._collection()
            .find(
                # Before leases, a claim was one document keyed by the key, without `key`.
                {"$or": [{"key": key}, {"_id": key, "key": {"$exists": False}}]},
                {"key": 1, "generation": 1, "until": 1, "done": 1},
            )
            .to_list()
        )
        if any(claim.get("done") or "key" not in claim for claim in claims):
            return ClaimState.DONE
        latest = max(claims, key=lambda claim: int(claim["generation"]), default=None)
        if latest is not None and from_mongo(latest["until"]) > now:
            return ClaimState.HELD
        generation = 0 if latest is None else int(latest["generation"]) + 1
        try:
            await self._collection().insert_one(
                {
                    "_id": _claim_id(key, generation),
                    "key": key,
                    "generation": generation,
                    "owner": literal(owner),
                    "until": to_millis(until),
                    "done": False,
                    # Housekeeping (the TTL index) runs on the server's clock: wall time.
                    "claimedAt": datetime.now(UTC),
                }
            )
        except DuplicateKeyError:
            return ClaimState.HELD  # another caller took this generation first
        return ClaimState.TAKEN

    # After the send: its bookkeeping runs whatever the event's budget has left.
    @deadline.unbounded_call
    @store_errors
    async def confirm(self, key: str, *, owner: str) -> None:
        await self._collection().update_many(
            {"key": literal(key), "owner": literal(owner)}, {"$set": {"done": True}}
        )

    @deadline.unbounded_call
    @store_errors
    async def release(self, key: str, *, owner: str) -> None:
        await self._collection().update_many(
            {"key": literal(key), "owner": literal(owner), "done": False},
            {"$set": {"until": _LAPSED}},
        )
