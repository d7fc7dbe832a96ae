"""The one-statement typeahead and member page on the real PostgreSQL, across instances and
through failures of their held connections.

Two sets of stores on their own engines stand for two `serve` instances sharing the
database: a membership removed through one is gone for the other's very next read, warm
held connections or not (nothing about membership is cached). A held connection the server
drops fails one read (503), is thrown away, and the next read opens a fresh one; a read
cancelled mid-statement (a request deadline) closes its connection instead of lending it
again in an unknown state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.support.postgres import postgres_stores, session_database
from yc_chat.adapters.postgres import PostgresOptions, PostgresStores, create_engine, stores_on
from yc_chat.domain.errors import ProviderUnavailable
from yc_chat.domain.model import Membership, Org, OrgId, User, UserId
from yc_chat.domain.text import SearchQuery

ORG = OrgId("org-1")
CALLER, OTHER = UserId("u-caller"), UserId("u-ana")
QUERY = SearchQuery.parse("an")
APP = "yc-chat-reads-test"


@pytest.fixture
async def instances() -> AsyncIterator[tuple[PostgresStores, PostgresStores]]:
    async with postgres_stores() as first:
        writer = first.directory
        await writer.put_org(Org(id=ORG, name="Clinic"))
        for uid, name in ((CALLER, "Ann Caller"), (OTHER, "Ana Smith")):
            await writer.put_user(User(id=uid, name=name, email=None))
            await writer.put_membership(Membership(org_id=ORG, user_id=uid, role="vet"))
        options = PostgresOptions(read_connections=2, application_name=APP)
        engine = create_engine(await session_database(), options)
        async with stores_on(engine, options=options) as second:
            yield first, second


async def _held_backends() -> list[int]:
    """The server processes of the second instance's connections (its application name)."""
    conn = await asyncpg.connect(await session_database())
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> "
            "pg_backend_pid()",
            APP,
        )
    finally:
        await conn.close()
    return [row["pid"] for row in rows]


async def test_a_removal_through_one_instance_holds_on_the_other_at_once(
    instances: tuple[PostgresStores, PostgresStores],
) -> None:
    first, second = instances
    reads = second.member_reads
    for _ in range(3):  # warm: its held connections are open and their statements prepared
        seen = await reads.search_as(CALLER, ORG, QUERY, limit=10)
        assert [m.user.id for m in seen.answer or ()] == [OTHER]
    await first.directory.remove_membership(ORG, CALLER)
    search = await reads.search_as(CALLER, ORG, QUERY, limit=10)
    page = await reads.page_as(CALLER, ORG, limit=10, after=None)
    for view in (search, page):
        assert view.org_found and view.membership is None and view.answer is None
    await first.directory.put_membership(Membership(org_id=ORG, user_id=CALLER, role="admin"))
    back = await reads.page_as(CALLER, ORG, limit=10, after=None)
    assert back.membership is not None and back.membership.role == "admin"


async def test_a_dropped_held_connection_fails_one_read_then_is_replaced(
    instances: tuple[PostgresStores, PostgresStores],
) -> None:
    _, second = instances
    reads = second.member_reads
    assert (await reads.search_as(CALLER, ORG, QUERY, limit=10)).answer
    backends = await _held_backends()
    assert backends, "the read should hold a connection open"
    conn = await asyncpg.connect(await session_database())
    try:
        for pid in backends:
            await conn.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()
    with pytest.raises(ProviderUnavailable):
        await reads.search_as(CALLER, ORG, QUERY, limit=10)
    view = await reads.search_as(CALLER, ORG, QUERY, limit=10)
    assert [m.user.id for m in view.answer or ()] == [OTHER]
    assert set(await _held_backends()).isdisjoint(backends)


async def test_a_cancelled_read_closes_its_connection(
    instances: tuple[PostgresStores, PostgresStores],
) -> None:
    _, second = instances
    reads = second.member_reads
    assert (await reads.page_as(CALLER, ORG, limit=10, after=None)).answer
    before = await _held_backends()
    assert len(before) == 1
    blocker = await asyncpg.connect(await session_database())
    try:
        # An exclusive lock makes the next read wait inside its statement; cancel it there.
        async with blocker.transaction():
            await blocker.execute("LOCK TABLE chat_memberships IN ACCESS EXCLUSIVE MODE")
            pending = asyncio.ensure_future(reads.page_as(CALLER, ORG, limit=10, after=None))
            for _ in range(1000):  # until the read waits on the lock (polled, not timed)
                if await _waiting_on_lock(blocker):
                    break
                await asyncio.sleep(0.01)
            assert not pending.done()
            pending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pending
    finally:
        await blocker.close()
    view = await reads.page_as(CALLER, ORG, limit=10, after=None)
    assert [m.user.id for m in view.answer.members] == [OTHER, CALLER]  # type: ignore[union-attr]
    after = await _held_backends()
    assert len(after) == 1 and set(after).isdisjoint(before)


async def _waiting_on_lock(conn: asyncpg.Connection, count: int = 1) -> bool:  # type: ignore[type-arg]
    # Inside a transaction, pg_stat_activity is the snapshot of its first reading.
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    waiting = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
        "AND wait_event_type = 'Lock'",
        APP,
    )
    return int(waiting) >= count


async def test_a_burst_waits_for_the_held_connections_instead_of_opening_more(
    instances: tuple[PostgresStores, PostgresStores],
) -> None:
    _, second = instances  # two held connections
    statement = "SELECT pg_backend_pid() AS pid FROM pg_sleep(0.05)"
    rows = await asyncio.gather(*(second.read_connections.fetch(statement, []) for _ in range(6)))
    pids = {found[0]["pid"] for found in rows}
    assert len(pids) == 2
    assert pids == set(await _held_backends())


async def test_a_statement_cancelled_while_waiting_leaves_the_connections_lendable(
    instances: tuple[PostgresStores, PostgresStores],
) -> None:
    _, second = instances
    reads = second.member_reads
    blocker = await asyncpg.connect(await session_database())
    try:
        async with blocker.transaction():
            await blocker.execute("LOCK TABLE chat_memberships IN ACCESS EXCLUSIVE MODE")
            # Both held connections wait on the lock; a third statement waits for one of them.
            busy = [
                asyncio.ensure_future(reads.page_as(CALLER, ORG, limit=10, after=None))
                for _ in range(2)
            ]
            for _ in range(1000):  # until both wait on the lock (polled, not timed)
                if await _waiting_on_lock(blocker, count=2):
                    break
                await asyncio.sleep(0.01)
            queued = asyncio.ensure_future(reads.page_as(CALLER, ORG, limit=10, after=None))
            await asyncio.sleep(0)
            assert not queued.done()
            queued.cancel()
            with pytest.raises(asyncio.CancelledError):
                await queued
    finally:
        await blocker.close()
    for view in await asyncio.gather(*busy):
        assert [m.user.id for m in view.answer.members] == [OTHER, CALLER]  # type: ignore[union-attr]
    held = await _held_backends()
    views = await asyncio.gather(
        *(reads.page_as(CALLER, ORG, limit=10, after=None) for _ in range(5))
    )
    assert all(view.answer is not None for view in views)
    assert len(held) == 2 and set(await _held_backends()) == set(held)
