"""Claims of once-only side effects (`push:{event}:{user}`) on PostgreSQL: one row per key.

Taking a key is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE`: a new key inserts; an
existing one is updated only when it is not done and its lease ran out. The row lock the
conflict takes makes concurrent claimers of one key queue, and the WHERE lets exactly one of
them through: of any number of callers, in any process, at most one gets TAKEN.

These are the worker's per-push statements (a claim and a confirmation per recipient of
every message): each is compiled once and sent on a held connection in autocommit
(read_connections.py). Built per call through SQLAlchemy and run in a transaction, a claim
and its confirmation cost about 0.9 ms of CPU (measured 2026-12-07, in process).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert

from yc_chat.adapters.postgres._sql import as_key, aware, store_errors
from yc_chat.adapters.postgres.read_connections import Compiled, ReadConnections
from yc_chat.adapters.postgres.schema import EFFECT_CLAIMS
from yc_chat.domain.model import ClaimState

C = EFFECT_CLAIMS.c
# A released claim's lease: over before any `now`.
_LAPSED: sa.ColumnElement[datetime] = sa.literal_column("'-infinity'::timestamptz")


def _param(name: str, column: sa.Column[object] | None = None) -> sa.BindParameter[object]:
    return sa.bindparam(name, type_=column.type if column is not None else sa.Text)


def _claim_statement() -> Compiled:
    new = insert(EFFECT_CLAIMS).values(
        key=_param("key", C.key),
        owner=_param("owner", C.owner),
        until=_param("until", C.until),
        owners=sa.bindparam("owners", type_=ARRAY(sa.Text)),
        done=sa.false(),
        claimed_at=sa.func.now(),
    )
    return Compiled.of(
        new.on_conflict_do_update(
            index_elements=[C.key],
            set_={
                "owner": new.excluded.owner,
                "until": new.excluded.until,
                "owners": sa.func.array_append(C.owners, new.excluded.owner),
            },
            where=sa.and_(sa.not_(C.done), C.until <= _param("now", C.until)),
        ).returning(C.key)
    )


_CLAIM = _claim_statement()
_DONE = Compiled.of(sa.select(C.done).where(C.key == _param("key", C.key)))
_CONFIRM = Compiled.of(
    sa.update(EFFECT_CLAIMS)
    .where(C.key == _param("key", C.key), _param("owner") == sa.any_(C.owners))
    .values(done=sa.true())
)
_RELEASE = Compiled.of(
    sa.update(EFFECT_CLAIMS)
    .where(C.key == _param("key", C.key), C.owner == _param("owner", C.owner), sa.not_(C.done))
    .values(until=_LAPSED)
)


class PostgresEffectClaims:
    """EffectClaims on chat_effect_claims."""

    def __init__(self, connections: ReadConnections) -> None:
        self._connections = connections

    @store_errors
    async def claim(self, key: str, *, owner: str, now: datetime, until: datetime) -> ClaimState:
        key, owner = as_key(key), as_key(owner)
        values = {
            "key": key, "owner": owner, "owners": [owner], "until": aware(until), "now": aware(now),
        }  # fmt: skip
        if await self._connections.fetch(_CLAIM.sql, _CLAIM.args(values)):
            return ClaimState.TAKEN
        # Held, or done: as committed when asked (a claim is a snapshot either way).
        rows = await self._connections.fetch(_DONE.sql, _DONE.args({"key": key}))
        return ClaimState.DONE if rows and rows[0]["done"] else ClaimState.HELD

    @store_errors
    async def confirm(self, key: str, *, owner: str) -> None:
        values = {"key": as_key(key), "owner": as_key(owner)}
        await self._connections.fetch(_CONFIRM.sql, _CONFIRM.args(values))

    @store_errors
    async def release(self, key: str, *, owner: str) -> None:
        values = {"key": as_key(key), "owner": as_key(owner)}
        await self._connections.fetch(_RELEASE.sql, _RELEASE.args(values))
