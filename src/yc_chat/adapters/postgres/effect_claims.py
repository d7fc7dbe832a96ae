"""Claims of once-only side effects (`push:{event}:{user}`) on PostgreSQL: one row per key.

The primary key is the rule: of any number of concurrent claims of one key, one INSERT
adds the row and the others do nothing, in one statement each.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from yc_chat.adapters.postgres._sql import as_key, store_errors
from yc_chat.adapters.postgres.schema import EFFECT_CLAIMS

C = EFFECT_CLAIMS.c


class PostgresEffectClaims:
    """The once-only claims port on chat_effect_claims."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @store_errors
    async def claim(self, key: str) -> bool:
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    insert(EFFECT_CLAIMS)
                    .values(key=as_key(key), claimed_at=sa.func.now())
                    .on_conflict_do_nothing(index_elements=[C.key])
                    .returning(C.key)
                )
            ).first()
        return row is not None

    @store_errors
    async def release(self, key: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(sa.delete(EFFECT_CLAIMS).where(C.key == as_key(key)))
