"""The TTL sweeps: plain deletes by an indexed expiry column, at most once a minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from yc_chat.adapters.postgres.schema import CHANNEL_LOCKS, EFFECT_CLAIMS, INBOX

# Side-effect claims outlive Stream's redeliveries (hours) by far; locks are kept a while
# after they lapse only to make debugging easier.
CLAIM_RETENTION = timedelta(days=7)
LOCK_RETENTION = timedelta(hours=1)


class Housekeeping:
    """Deletes done inbox events, old claims and long-lapsed locks.

    `maybe_sweep()` is cheap to call often (the worker calls it from every lease): it
    sweeps at most once per `every` in this process. Several processes sweeping at once
    is harmless: a delete of rows another delete removed deletes nothing. The database's
    clock decides what expired, as a TTL index would.
    """

    def __init__(self, engine: AsyncEngine, *, every: timedelta = timedelta(seconds=60)) -> None:
        self._engine = engine
        self._every = every
        self._last: datetime | None = None

    async def maybe_sweep(self) -> int:
        now = datetime.now(UTC)
        if self._last is not None and now - self._last < self._every:
            return 0
        self._last = now
        return await self.sweep()

    async def sweep(self) -> int:
        """Delete everything expired now; how many rows went."""
        statements = (
            sa.delete(INBOX).where(INBOX.c.expire_at <= sa.func.now()),
            sa.delete(EFFECT_CLAIMS).where(
                EFFECT_CLAIMS.c.claimed_at <= sa.func.now() - CLAIM_RETENTION
            ),
            sa.delete(CHANNEL_LOCKS).where(CHANNEL_LOCKS.c.until <= sa.func.now() - LOCK_RETENTION),
        )
        deleted = 0
        async with self._engine.begin() as conn:
            for statement in statements:
                deleted += (await conn.execute(statement)).rowcount
        return deleted
