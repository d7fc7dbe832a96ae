"""Connections held open for the hot reads (typeahead, member pages), lent without a pool.

Measured in process on the 100k-member bench org (2026-12-07, CPU time per read, shared
machine): the same prepared statement costs about 29 µs on a connection already in hand,
about 84 µs through an asyncpg pool (its acquire and release; 112 µs with its reset query)
and about 123 µs through SQLAlchemy's pool (checkout, events, greenlet hops). A typeahead
answered by the app in about 150 µs cannot afford the checkout, so these reads take a
connection from a plain list here: up to `keep` connections of their own, opened with the
pool's settings (statement timeout, UTC, application name), beside the engine's pool. When
all of them are busy a read borrows from the engine's pool for that one call, so a burst
waits on the pool's limits, never on this list.

A connection whose read failed or was cancelled (a request deadline) is closed, never lent
again: its state after an interrupted statement is not worth reasoning about.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

# asyncpg ships no type information: its connections and records are Any to mypy.
Connection = Any
Connect = Callable[[], Awaitable[Connection]]


class ReadConnections:
    """Lend one of up to `keep` held asyncpg connections to a single read."""

    def __init__(self, engine: AsyncEngine, connect: Connect, *, keep: int) -> None:
        self._engine = engine
        self._connect = connect
        self._keep = keep
        self._idle: list[Connection] = []
        self._opened = 0  # held connections open or being opened, busy or idle
        self._closed = False

    async def fetch(self, sql: str, args: Sequence[object]) -> list[asyncpg.Record]:
        """The rows of one statement (prepared once per connection, by asyncpg's cache)."""
        if self._idle:
            conn = self._idle.pop()
        elif self._opened < self._keep and not self._closed:
            conn = await self._open()
        else:
            return await self._fetch_pooled(sql, args)
        try:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        except BaseException:
            self._drop(conn)
            raise
        if self._closed:
            self._drop(conn)
        else:
            self._idle.append(conn)
        return rows

    async def close(self) -> None:
        """Close the idle connections; a busy one is closed when its read returns."""
        self._closed = True
        idle, self._idle = self._idle, []
        self._opened -= len(idle)
        await asyncio.gather(*(conn.close(timeout=2) for conn in idle), return_exceptions=True)

    async def _open(self) -> Connection:
        self._opened += 1
        try:
            return await self._connect()
        except BaseException:
            self._opened -= 1
            raise

    def _drop(self, conn: Connection) -> None:
        self._opened -= 1
        conn.terminate()

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
