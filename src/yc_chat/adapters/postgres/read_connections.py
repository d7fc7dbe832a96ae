"""Connections held open for the hot statements (typeahead, member pages, recording a
webhook event), lent without a pool.

Measured in process on the 100k-member bench org (2026-12-07, CPU time per read, shared
machine): the same prepared statement costs about 29 µs on a connection already in hand,
about 84 µs through an asyncpg pool (its acquire and release; 112 µs with its reset query)
and about 123 µs through SQLAlchemy's pool (checkout, events, greenlet hops). A typeahead
answered by the app in about 150 µs cannot afford the checkout, so these reads take a
connection from a plain list here: up to `keep` connections of their own, opened with the
pool's settings (statement timeout, UTC, application name), beside the engine's pool. When
all of them are busy a statement waits for the first one free (in arrival order, within
its caller's deadline): a statement holds one for a round trip, and borrowing from the
engine's pool instead meant, past its size, a new connection opened and closed per
statement (the webhook worker's claims under load: about 2 ms of CPU each). With `keep` 0
every statement borrows from the engine's pool.

A connection whose read failed or was cancelled (a request deadline) is closed, never lent
again: its state after an interrupted statement is not worth reasoning about.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg
import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler

# asyncpg ships no type information: its connections and records are Any to mypy.
Connection = Any
Connect = Callable[[], Awaitable[Connection]]
_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]


@attrs.frozen
class Compiled:
    """A statement as asyncpg takes it: the SQL text and its parameters' names in order.
    Compiled once (SQLAlchemy's per-call construction and cache key cost more than the
    round trip), prepared once per connection by asyncpg's statement cache."""

    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, statement: sa.ClauseElement) -> Compiled:
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        return cls(sql=compiled.string, names=tuple(compiled.positiontup or ()))

    def args(self, values: Mapping[str, object]) -> list[object]:
        return [values[name] for name in self.names]


class ReadConnections:
    """Lend one of up to `keep` held asyncpg connections to a single statement."""

    def __init__(self, engine: AsyncEngine, connect: Connect, *, keep: int) -> None:
        self._engine = engine
        self._connect = connect
        self._keep = keep
        self._idle: list[Connection] = []
        # Statements waiting for a held connection, first come first served; each is handed
        # one, or None when one was dropped (it may open another) or on close.
        self._waiting: collections.deque[asyncio.Future[Connection | None]] = collections.deque()
        self._opened = 0  # held connections open or being opened, busy or idle
        self._closed = False

    async def fetch(self, sql: str, args: Sequence[object]) -> list[asyncpg.Record]:
        """The rows of one statement (prepared once per connection, by asyncpg's cache),
        outside any transaction: a write commits on its own."""
        conn = await self._take()
        if conn is None:
            return await self._fetch_pooled(sql, args)
        try:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        except BaseException:
            self._drop(conn)
            raise
        self._give_back(conn)
        return rows

    async def close(self) -> None:
        """Close the idle connections; a busy one is closed when its statement returns."""
        self._closed = True
        idle, self._idle = self._idle, []
        self._opened -= len(idle)
        while self._waiting:
            self._hand(None)
        await asyncio.gather(*(conn.close(timeout=2) for conn in idle), return_exceptions=True)

    async def _take(self) -> Connection | None:
        """A held connection for one statement; None: use the engine's pool."""
        while True:
            if self._idle:
                return self._idle.pop()
            if self._closed or self._keep == 0:
                return None
            if self._opened < self._keep:
                return await self._open()
            turn: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
            try:
                conn = await turn
            except BaseException:
                if turn.done() and not turn.cancelled() and turn.result() is not None:
                    self._give_back(turn.result())  # handed one just as it was cancelled
                elif not turn.done():
                    self._waiting.remove(turn)
                raise
            if conn is not None:
                return conn

    def _give_back(self, conn: Connection) -> None:
        if self._closed:
            self._drop(conn)
        elif not self._hand(conn):
            self._idle.append(conn)

    def _hand(self, conn: Connection | None) -> bool:
        """Give `conn` to the first statement still waiting; False if none is."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(conn)
                return True
        return False

    async def _open(self) -> Connection:
        self._opened += 1
        try:
            return await self._connect()
        except BaseException:
            self._opened -= 1
            self._hand(None)  # a waiting statement may try opening one itself
            raise

    def _drop(self, conn: Connection) -> None:
        self._opened -= 1
        conn.terminate()
        self._hand(None)

    async def _fetch_pooled(self, sql: str, args: Sequence[object]) -> list[asyncpg.Record]:
        async with self._engine.connect() as pooled:
            raw = await pooled.get_raw_connection()
            driver: Connection = raw.driver_connection
            try:
                rows: list[asyncpg.Record] = await driver.fetch(sql, *args)
                return rows
            except BaseException:
                await pooled.invalidate()  # not back into the pool after a broken read
                raise
