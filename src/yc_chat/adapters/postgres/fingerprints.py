"""Profile fingerprints on PostgreSQL: one row per user id."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from yc_chat.adapters.postgres._sql import storable, storable_all, store_errors
from yc_chat.adapters.postgres.schema import FINGERPRINTS
from yc_chat.domain.model import UserId

F = FINGERPRINTS.c


class PostgresFingerprints:
    """ProfileFingerprints on chat_profile_fingerprints."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # One statement per read, so no transaction around it: no BEGIN/COMMIT round trips.
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")

    @store_errors
    async def get_many(self, user_ids: Collection[UserId]) -> Mapping[UserId, str]:
        ids = storable_all(user_ids)
        if not ids:
            return {}
        async with self._reads.connect() as conn:
            rows = (
                await conn.execute(sa.select(F.user_id, F.fingerprint).where(F.user_id.in_(ids)))
            ).all()
        return {UserId(row.user_id): row.fingerprint for row in rows}

    @store_errors
    async def put_many(self, fingerprints: Mapping[UserId, str]) -> None:
        # Sorted: two concurrent upserts of overlapping users lock rows in the same order,
        # so they queue instead of deadlocking.
        rows = [
            {"user_id": uid, "fingerprint": fp}
            for uid, fp in sorted(fingerprints.items())
            if storable(uid) and storable(fp)
        ]
        if not rows:
            return
        statement = insert(FINGERPRINTS).values(rows)
        async with self._engine.begin() as conn:
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[F.user_id], set_={"fingerprint": statement.excluded.fingerprint}
                )
            )

    @store_errors
    async def invalidate(self, user_id: UserId) -> None:
        if not storable(user_id):
            return
        async with self._engine.begin() as conn:
            await conn.execute(sa.delete(FINGERPRINTS).where(F.user_id == user_id))
