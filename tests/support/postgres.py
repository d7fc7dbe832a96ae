"""PostgreSQL stores for tests: one migrated database per session, emptied for each test.

The session's server comes from tests/support/servers.py (`POSTGRES_URL` names an existing server
instead; each session then works in its own throwaway database there). Emptying the tables
(TRUNCATE) is far cheaper than a database per test; tests run one at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests.support import servers
from yc_chat.adapters.postgres import (
    PostgresOptions,
    PostgresStores,
    create_engine,
    stores_on,
    upgrade,
)
from yc_chat.adapters.postgres.schema import METADATA

_TABLES = ", ".join(table.name for table in METADATA.sorted_tables)
_databases: dict[str, str] = {}


def with_database(url: str, database: str) -> str:
    """`url` naming another database on the same server."""
    return urlunsplit(urlsplit(url)._replace(path="/" + database))


async def create_database(server_url: str, name: str | None = None) -> str:
    """A new empty database on the server; its URL."""
    name = name or f"yc_chat_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    """Drop a database the tests made (its connections are closed by then)."""
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def migrated_database(server_url: str | None = None) -> str:
    """A fresh database brought to head: its URL."""
    url = await create_database(server_url or servers.postgres_url())
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url


async def session_database() -> str:
    """This session's migrated test database (made on first use); skips without a server."""
    server = servers.postgres_url()
    if not _databases.get(server):
        _databases[server] = await migrated_database(server)
    return _databases[server]


@asynccontextmanager
async def postgres_stores(
    options: PostgresOptions | None = None,
) -> AsyncIterator[PostgresStores]:
    """Every store on the session's database, emptied first; closed on exit."""
    url = await session_database()
    engine = create_engine(url, options)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"TRUNCATE {_TABLES}")
    async with stores_on(engine, options=options) as stores:
        yield stores
