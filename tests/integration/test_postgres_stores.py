"""PostgreSQL-specific behaviour of the stores on the real server: text PostgreSQL cannot hold
(NUL, lone surrogates) finds nothing instead of failing, claim and lock keys made of it
still work, and a lease taken through one pool is invisible to another (two processes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.postgres import postgres_stores, session_database
from yc_chat.adapters.postgres import PostgresStores, create_engine, stores_on
from yc_chat.domain.inbox import InboxState
from yc_chat.domain.model import (
    AppointmentId,
    ChannelId,
    ClaimState,
    Device,
    Membership,
    Org,
    OrgId,
    User,
    UserId,
)
from yc_chat.domain.queries import MemberKey
from yc_chat.domain.text import SearchQuery

UNSTORABLE = ["a\x00b", "\ud800x"]
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def stores() -> AsyncIterator[PostgresStores]:
    async with postgres_stores() as opened:
        await opened.directory.put_org(Org(id=OrgId("org"), name="Org"))
        await opened.directory.put_user(User(id=UserId("u1"), name="Ana Lee"))
        await opened.directory.put_membership(
            Membership(org_id=OrgId("org"), user_id=UserId("u1"), role="vet")
        )
        yield opened


@pytest.mark.parametrize("text", UNSTORABLE)
async def test_unstorable_ids_find_nothing(stores: PostgresStores, text: str) -> None:
    directory = stores.directory
    assert await directory.get_user(UserId(text)) is None
    assert await directory.get_users([UserId(text), UserId("u1")]) == {
        UserId("u1"): await directory.get_user(UserId("u1"))
    }
    assert await directory.get_org(OrgId(text)) is None
    assert await directory.get_membership(OrgId("org"), UserId(text)) is None
    assert await directory.get_memberships(OrgId(text), [UserId("u1")]) == {}
    query = SearchQuery(raw=text, folded=text)
    assert await directory.search_members(OrgId("org"), query, limit=5, exclude=None) == []
    hits = await directory.search_members(
        OrgId("org"), SearchQuery.parse("ana"), limit=5, exclude=UserId(text)
    )
    assert [m.user.id for m in hits] == ["u1"]
    page = await directory.list_members(
        OrgId("org"), limit=5, after=MemberKey(sort_name=text, user_id=UserId("u0"))
    )
    assert page.members == ()
    await directory.remove_membership(OrgId(text), UserId("u1"))
    assert await stores.appointments.get(AppointmentId(text)) is None
    assert await stores.appointments.find_by_channel(ChannelId(text)) is None
    assert await stores.devices.unregister(UserId(text), "t") is False
    assert await stores.devices.devices_of([UserId(text)]) == []
    assert await stores.fingerprints.get_many([UserId(text)]) == {}
    assert await stores.inbox.get(text) is None
    assert await stores.inbox.retry_parked(text, now=NOW) is False


@pytest.mark.parametrize("text", UNSTORABLE)
async def test_unstorable_claim_and_lock_keys_still_work(stores: PostgresStores, text: str) -> None:
    claims = stores.effect_claims
    until = NOW + timedelta(seconds=30)
    key = f"push:{text}:u1"
    assert await claims.claim(key, owner=text, now=NOW, until=until) is ClaimState.TAKEN
    assert await claims.claim(key, owner="w2", now=NOW, until=until) is ClaimState.HELD
    await claims.release(key, owner=text)
    assert await claims.claim(key, owner="w2", now=NOW, until=until) is ClaimState.TAKEN
    await claims.confirm(key, owner=text)  # a stale holder's confirmation counts
    assert await claims.claim(key, owner="w3", now=until, until=until) is ClaimState.DONE
    assert await stores.locks.acquire(text, owner="a", until=until, now=NOW)
    assert not await stores.locks.acquire(text, owner="b", until=until, now=NOW)
    assert await stores.inbox.record(
        text, event_type="message.new", payload=b"{}", received_at=NOW, identity=text
    )
    assert not await stores.inbox.record(
        "other", event_type="message.new", payload=b"{}", received_at=NOW, identity=text
    )


async def test_two_pools_lease_disjoint_events(stores: PostgresStores) -> None:
    """Two engines are two processes' pools: SKIP LOCKED keeps their leases apart."""
    for n in range(40):
        await stores.inbox.record(
            f"e{n:02d}", event_type="message.new", payload=b"{}", received_at=NOW
        )
    other = stores_on(create_engine(await session_database()))
    try:
        leases = await asyncio.gather(
            *(
                inbox.lease(now=NOW, until=NOW + timedelta(minutes=1), limit=7, lease_id=f"w{i}")
                for i, inbox in enumerate([stores.inbox, other.inbox] * 4)
            )
        )
    finally:
        await other.close()
    taken = [event.id for lease in leases for event in lease]
    assert len(taken) == len(set(taken)) == 40


async def test_device_registration_keeps_the_newest_across_pools(stores: PostgresStores) -> None:
    other = stores_on(create_engine(await session_database()))
    try:
        for n in range(6):
            registry = (stores.devices, other.devices)[n % 2]
            await registry.register(
                Device(user_id=UserId("u1"), token=f"t{n}", platform="ios"), keep=3
            )
    finally:
        await other.close()
    assert {d.token for d in await stores.devices.devices_of([UserId("u1")])} == {"t3", "t4", "t5"}


async def test_the_sweep_deletes_only_what_expired(stores: PostgresStores) -> None:
    """Done events past their expiry, claims older than the retention and locks lapsed an
    hour ago go; everything else stays."""
    now = datetime.now(UTC)
    for n in range(3):
        await stores.inbox.record(
            f"ev{n}", event_type="message.new", payload=b"{}", received_at=now
        )
    leased = await stores.inbox.lease(
        now=now, until=now + timedelta(minutes=1), limit=2, lease_id="w"
    )
    for event in leased:
        assert await stores.inbox.complete(event, now=now)
    await stores.effect_claims.claim("old", owner="w", now=now, until=now)
    await stores.effect_claims.claim("new", owner="w", now=now, until=now)
    await stores.locks.acquire("lapsed", owner="w", until=now - timedelta(hours=2), now=now)
    await stores.locks.acquire("held", owner="w", until=now + timedelta(minutes=1), now=now)
    async with stores.engine.begin() as conn:
        # Age what the sweep looks at: one done event's expiry and one claim's first take.
        await conn.exec_driver_sql(
            "UPDATE chat_webhook_inbox SET expire_at = now() - interval '1 second' WHERE id = $1",
            (leased[0].id,),
        )
        await conn.exec_driver_sql(
            "UPDATE chat_effect_claims SET claimed_at = now() - interval '8 days' WHERE key = 'old'"
        )
    assert await stores.housekeeping.sweep() == 3
    assert await stores.inbox.get(leased[0].id) is None
    assert await stores.inbox.get(leased[1].id) is not None  # done, not yet expired
    assert (await stores.inbox.counts())[InboxState.PENDING] == 1
    assert (
        await stores.effect_claims.claim("old", owner="x", now=now, until=now) is ClaimState.TAKEN
    )
    assert not await stores.locks.acquire("held", owner="x", until=now, now=now)
    assert await stores.housekeeping.sweep() == 0


async def test_every_connection_carries_the_statement_timeout(stores: PostgresStores) -> None:
    async with stores.engine.connect() as conn:
        timeout = (await conn.exec_driver_sql("SHOW statement_timeout")).scalar()
        zone = (await conn.exec_driver_sql("SHOW TimeZone")).scalar()
    assert (timeout, zone) == ("5s", "UTC")
