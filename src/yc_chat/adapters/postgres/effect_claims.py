"""Claims of once-only side effects (`push:{event}:{user}`) on PostgreSQL: one row per key.

Taking a key is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE`: a new key inserts; an
existing one is updated only when it is not done and its lease ran out. The row lock the
conflict takes makes concurrent claimers of one key queue, and the WHERE lets exactly one of
them through: of any number of callers, in any process, at most one gets TAKEN.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from yc_chat.adapters.postgres._sql import as_key, aware, store_errors
from yc_chat.adapters.postgres.schema import EFFECT_CLAIMS
from yc_chat.domain.model import ClaimState

C = EFFECT_CLAIMS.c
# A released claim's lease: over before any `now`.
_LAPSED: sa.ColumnElement[datetime] = sa.literal_column("'-infinity'::timestamptz")


class PostgresEffectClaims:
    """EffectClaims on chat_effect_claims."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @store_errors
    async def claim(self, key: str, *, owner: str, now: datetime, until: datetime) -> ClaimState:
        key, owner = as_key(key), as_key(owner)
        new = insert(EFFECT_CLAIMS).values(
            key=key,
            owner=owner,
            until=aware(until),
            owners=[owner],
            done=False,
            claimed_at=sa.func.now(),
        )
        statement = new.on_conflict_do_update(
            index_elements=[C.key],
            set_={
                "owner": new.excluded.owner,
                "until": new.excluded.until,
                "owners": sa.func.array_append(C.owners, new.excluded.owner),
            },
            where=sa.and_(sa.not_(C.done), C.until <= aware(now)),
        ).returning(C.key)
        async with self._engine.begin() as conn:
            if (await conn.execute(statement)).first() is not None:
                return ClaimState.TAKEN
            done = (await conn.execute(sa.select(C.done).where(C.key == key))).scalar()
        return ClaimState.DONE if done else ClaimState.HELD

    @store_errors
    async def confirm(self, key: str, *, owner: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.update(EFFECT_CLAIMS)
                .where(
                    C.key == as_key(key), sa.literal(as_key(owner), sa.Text) == sa.any_(C.owners)
                )
                .values(done=True)
            )

    @store_errors
    async def release(self, key: str, *, owner: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.update(EFFECT_CLAIMS)
                .where(C.key == as_key(key), C.owner == as_key(owner), sa.not_(C.done))
                .values(until=_LAPSED)
            )
