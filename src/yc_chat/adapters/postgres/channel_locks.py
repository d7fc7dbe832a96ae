"""Channel locks on PostgreSQL: a lock table whose rows lapse at their `until`.

Acquiring is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE`: the row lock PostgreSQL takes
on conflict makes concurrent acquirers of one key queue, and the WHERE lets the update
through only for a lapsed lock or the owner's own, so exactly one of them wins. A table
rather than advisory locks: an advisory lock belongs to a session, but this port's lock
outlives the call that takes it and must lapse by itself when its holder crashes.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from yc_chat.adapters.postgres._sql import as_key, aware, store_errors
from yc_chat.adapters.postgres.schema import CHANNEL_LOCKS

L = CHANNEL_LOCKS.c


class PostgresChannelLocks:
    """ChannelLocks on chat_channel_locks."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @store_errors
    async def acquire(self, key: str, *, owner: str, until: datetime, now: datetime) -> bool:
        owner = as_key(owner)
        statement = insert(CHANNEL_LOCKS).values(key=as_key(key), owner=owner, until=aware(until))
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=[L.key],
                        set_={"owner": statement.excluded.owner, "until": statement.excluded.until},
                        where=sa.or_(L.until <= aware(now), L.owner == owner),
                    ).returning(L.key)
                )
            ).first()
        return row is not None

    @store_errors
    async def release(self, key: str, *, owner: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.delete(CHANNEL_LOCKS).where(L.key == as_key(key), L.owner == as_key(owner))
            )
