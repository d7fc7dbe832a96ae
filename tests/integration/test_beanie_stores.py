"""The Beanie stores beyond the port contracts: documents, indexes, atomicity, outages.

Tests on `mongo_stores` run on a real MongoDB when MONGODB_URI is set, else on the
in-process double; tests on `double_stores` need the double (to inspect it or take it down).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pymongo import AsyncMongoClient

from tests.support.mongo_double import DoubleClient
from tests.support.mongo_double.stores import MONGO_BACKENDS, double_stores, mongo_stores
from yc_chat.adapters.beanie import (
    CollectionNames,
    MongoClient,
    MongoOptions,
    MongoStores,
    open_mongo_stores,
)
from yc_chat.adapters.beanie._queries import to_millis
from yc_chat.adapters.beanie.documents import (
    AppointmentDocument,
    DeviceDocument,
    InboxEventDocument,
    MembershipDocument,
    UserDocument,
    WebhookEventDocument,
)
from yc_chat.adapters.beanie.inbox import BeanieEventInbox
from yc_chat.adapters.beanie.server import ATOMIC_WRITES
from yc_chat.adapters.beanie.stores import expiry_sweeper
from yc_chat.domain import errors
from yc_chat.domain.model import (
    Appointment,
    AppointmentId,
    ChannelId,
    ChatStatus,
    ClaimState,
    Device,
    Membership,
    Org,
    OrgId,
    User,
    UserId,
)
from yc_chat.domain.text import SearchQuery

ORG, OTHER = OrgId("org-1"), OrgId("org-2")
ANA = UserId("u-ana")
T0 = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)


@pytest.fixture(params=MONGO_BACKENDS)
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[MongoStores]:
    async with mongo_stores(backend=request.param) as opened:
        yield opened


async def _raw(document: type, where: dict[str, object]) -> list[dict[str, object]]:
    cursor = document.get_pymongo_collection().find(where)  # type: ignore[attr-defined]
    return list(await cursor.to_list())


def appointment(aid: str, starts_at: datetime = T0) -> Appointment:
    return Appointment(
        id=AppointmentId(aid),
        org_id=ORG,
        pet_owner_id=UserId("owner-1"),
        vet_id=UserId("vet-1"),
        starts_at=starts_at,
    )


# -- documents and indexes ------------------------------------------------------------------


async def test_declared_indexes_exist_with_uniqueness_where_idempotency_needs_it(
    stores: MongoStores,
) -> None:
    memberships = await MembershipDocument.get_pymongo_collection().index_information()
    assert memberships["org_user"]["unique"]
    assert [tuple(k) for k in memberships["org_sort_name"]["key"]] == [
        ("orgId", 1),
        ("sortName", 1),
        ("userId", 1),
    ]
    assert {"org_spelled", "org_words", "org_email", "user"} <= set(memberships)
    appointments = await AppointmentDocument.get_pymongo_collection().index_information()
    assert [tuple(k) for k in appointments["due_activation"]["key"]] == [
        ("chatStatus", 1),
        ("chatOpensAt", 1),
    ]
    assert "chat_channel" in appointments
    events = await WebhookEventDocument.get_pymongo_collection().index_information()
    inbox = await InboxEventDocument.get_pymongo_collection().index_information()
    if stores.server.ttl_indexes:
        assert events["expire_claims"]["expireAfterSeconds"] > 0
        assert inbox["expire_done"]["expireAfterSeconds"] == 0
    else:  # FerretDB 1.x: plain indexes on the same fields, for the worker's sweep
        assert "expireAfterSeconds" not in events["expire_claims"]
        assert [tuple(k) for k in inbox["expire_done"]["key"]] == [("expireAt", 1)]
    assert "user" in await DeviceDocument.get_pymongo_collection().index_information()


async def test_server_is_detected_and_only_ferretdb_loses_ttl_and_atomic_updates(
    stores: MongoStores,
) -> None:
    info = await UserDocument.get_pymongo_collection().database.command("buildInfo")
    ferretdb = "ferretdbVersion" in info
    assert stores.server.name == ("FerretDB" if ferretdb else "MongoDB")
    assert stores.server.ttl_indexes is not ferretdb
    assert stores.server.atomic_updates is not ferretdb


async def test_stores_reopen_a_database_that_has_their_indexes(stores: MongoStores) -> None:
    # A restart: FerretDB 1.24 dropped the connection when indexes were declared again.
    await stores.directory.put_org(Org(id=ORG, name="Happy Paws"))
    client, database = stores._client, stores.database
    await stores.close()
    async with await open_mongo_stores(client, database) as reopened:
        org = await reopened.directory.get_org(ORG)
        assert org is not None and org.name == "Happy Paws"
        memberships = await MembershipDocument.get_pymongo_collection().index_information()
        assert memberships["org_user"]["unique"]


async def test_done_events_expire_by_ttl_or_else_by_the_workers_sweep(stores: MongoStores) -> None:
    assert stores.sweeper.enabled is not stores.server.ttl_indexes
    # The sweep FerretDB gets, forced on here (and due at every call) to see what it removes.
    inbox = BeanieEventInbox(sweeper=expiry_sweeper(enabled=True), serial=ATOMIC_WRITES)
    inbox._sweeper.every = timedelta(0)  # type: ignore[union-attr]
    now = datetime.now(UTC)
    until = now + timedelta(minutes=1)
    for event_id in ("old", "fresh"):
        await inbox.record(event_id, event_type="message.new", payload=b"{}", received_at=now)
    for event in await inbox.lease(now=now, until=until, limit=2, lease_id="w"):
        assert await inbox.complete(event, now=now)
    expired = to_millis(now - timedelta(seconds=1))
    await InboxEventDocument.get_pymongo_collection().update_one(
        {"_id": "old"}, {"$set": {"expireAt": expired}}
    )
    await inbox.lease(now=now - timedelta(hours=1), until=until, limit=1, lease_id="w")
    assert await inbox.get("old") is None
    assert await inbox.get("fresh") is not None


async def test_collection_names_come_from_the_settings() -> None:
    names = CollectionNames(memberships="clinic_members", devices="push_tokens")
    async with double_stores(names) as (stores, double):
        await stores.directory.put_org(Org(id=ORG, name="Happy Paws"))
        await stores.directory.put_user(User(id=ANA, name="Ana"))
        await stores.directory.put_membership(Membership(org_id=ORG, user_id=ANA, role="vet"))
        await stores.devices.register(Device(user_id=ANA, token="t1", platform="ios"))
        raw = double.sync_database("yc_chat_test")
        assert raw["clinic_members"].count_documents({}) == 1
        assert raw["push_tokens"].count_documents({}) == 1
        assert raw["chat_users"].count_documents({}) == 1
        assert "chat_memberships" not in raw.list_collection_names()


def test_collection_names_must_be_distinct_and_valid() -> None:
    with pytest.raises(ValueError, match="own"):
        CollectionNames(users="same", orgs="same")
    with pytest.raises(ValueError, match="valid"):
        CollectionNames(devices="bad$name")


async def test_memberships_carry_folded_search_keys_kept_in_sync_on_rename(
    stores: MongoStores,
) -> None:
    directory = stores.directory
    for org in (ORG, OTHER):
        await directory.put_org(Org(id=org, name=org))
    await directory.put_user(User(id=ANA, name="Dr. Ana Núñez", email="Ana@Paws.example"))
    for org in (ORG, OTHER):
        await directory.put_membership(Membership(org_id=org, user_id=ANA, role="vet"))

    [doc] = await _raw(MembershipDocument, {"orgId": ORG})
    assert doc["sortName"] == "dr ana nunez"
    assert doc["searchSpelled"] == "dr. ana nunez"
    assert doc["searchWords"] == ["dr", "ana", "nunez"]
    assert doc["searchEmail"] == "ana@paws.example"
    assert doc["role"] == "vet"

    await directory.put_user(User(id=ANA, name="Zoë O'Hara", email=None))
    for raw in await _raw(MembershipDocument, {"userId": ANA}):
        assert raw["sortName"] == "zoe ohara"
        assert raw["searchWords"] == ["zoe", "ohara"]
        assert raw["searchEmail"] == ""
    renamed = await directory.search_members(ORG, SearchQuery.parse("ohar"), limit=5, exclude=None)
    assert [m.user.name for m in renamed] == ["Zoë O'Hara"]
    old = await directory.search_members(ORG, SearchQuery.parse("nunez"), limit=5, exclude=None)
    assert old == []


async def test_put_membership_needs_a_known_org_and_user(stores: MongoStores) -> None:
    await stores.directory.put_org(Org(id=ORG, name="Happy Paws"))
    with pytest.raises(KeyError, match="user"):
        await stores.directory.put_membership(Membership(org_id=ORG, user_id=ANA, role="vet"))
    await stores.directory.put_user(User(id=ANA, name="Ana"))
    with pytest.raises(KeyError, match="org"):
        await stores.directory.put_membership(Membership(org_id=OTHER, user_id=ANA, role="vet"))


async def test_role_changes_update_the_one_membership(stores: MongoStores) -> None:
    await stores.directory.put_org(Org(id=ORG, name="Happy Paws"))
    await stores.directory.put_user(User(id=ANA, name="Ana"))
    await stores.directory.put_membership(Membership(org_id=ORG, user_id=ANA, role="vet"))
    await stores.directory.put_membership(Membership(org_id=ORG, user_id=ANA, role="admin"))
    assert len(await _raw(MembershipDocument, {"orgId": ORG})) == 1
    membership = await stores.directory.get_membership(ORG, ANA)
    assert membership is not None
    assert membership.is_admin


# -- appointments: times and forward-only status ------------------------------------------


async def test_times_round_trip_as_utc_to_the_millisecond(stores: MongoStores) -> None:
    plus_two = timezone(timedelta(hours=2))
    starts = datetime(2026, 1, 15, 16, 0, 0, 123456, tzinfo=plus_two)
    await stores.appointments.put(appointment("apt-1", starts))
    got = await stores.appointments.get(AppointmentId("apt-1"))
    assert got is not None
    assert got.starts_at == starts.replace(microsecond=123000)
    assert got.starts_at.utcoffset() == timedelta(0)
    [raw] = await _raw(AppointmentDocument, {"_id": "apt-1"})
    opens = raw["chatOpensAt"]
    assert isinstance(opens, datetime)
    assert opens == got.starts_at - timedelta(minutes=5)


async def test_due_activation_is_exact_at_the_millisecond(stores: MongoStores) -> None:
    await stores.appointments.put(appointment("apt-1"))
    await stores.appointments.link_chat(
        AppointmentId("apt-1"),
        channel_id=ChannelId("ch-1"),
        status=ChatStatus.PENDING,
        activation_minutes=10,
    )
    opens = T0 - timedelta(minutes=10)
    just_before = opens - timedelta(milliseconds=1)
    assert await stores.appointments.due_for_activation(just_before, limit=5) == []
    due = await stores.appointments.due_for_activation(opens, limit=5)
    assert [a.id for a in due] == ["apt-1"]
    assert due[0].chat_opens_at == opens


async def test_link_chat_of_an_unknown_appointment_is_not_found(stores: MongoStores) -> None:
    with pytest.raises(errors.NotFound):
        await stores.appointments.link_chat(
            AppointmentId("ghost"),
            channel_id=ChannelId("c"),
            status=ChatStatus.PENDING,
            activation_minutes=None,
        )


async def test_racing_status_writers_never_move_a_chat_backwards(stores: MongoStores) -> None:
    aid = AppointmentId("apt-1")
    await stores.appointments.put(appointment("apt-1"))
    await stores.appointments.link_chat(
        aid, channel_id=ChannelId("c"), status=ChatStatus.PENDING, activation_minutes=None
    )
    writers = [
        stores.appointments.set_chat_status(aid, ChatStatus.ENDED),
        *(stores.appointments.set_chat_status(aid, ChatStatus.ACTIVE) for _ in range(10)),
        *(
            stores.appointments.link_chat(
                aid, channel_id=ChannelId("c"), status=ChatStatus.PENDING, activation_minutes=3
            )
            for _ in range(10)
        ),
    ]
    await asyncio.gather(*writers)
    final = await stores.appointments.get(aid)
    assert final is not None
    assert final.chat_status is ChatStatus.ENDED
    assert final.chat_activation_minutes == 3


async def test_put_replaces_the_whole_record(stores: MongoStores) -> None:
    aid = AppointmentId("apt-1")
    await stores.appointments.put(appointment("apt-1"))
    await stores.appointments.link_chat(
        aid, channel_id=ChannelId("c"), status=ChatStatus.ACTIVE, activation_minutes=30
    )
    moved = appointment("apt-1", T0 + timedelta(days=1))
    await stores.appointments.put(moved)
    assert await stores.appointments.get(aid) == moved
    assert await stores.appointments.find_by_channel(ChannelId("c")) is None


# -- concurrency: one result however many callers -----------------------------------------


async def test_fifty_concurrent_claims_of_one_event_yield_one_winner(stores: MongoStores) -> None:
    until = T0 + timedelta(minutes=1)
    results = await asyncio.gather(
        *(
            stores.effect_claims.claim("evt-1", owner=f"w{n}", now=T0, until=until)
            for n in range(50)
        )
    )
    assert results.count(ClaimState.TAKEN) == 1
    assert len(await _raw(WebhookEventDocument, {})) == 1


async def test_a_claim_written_before_leases_counts_as_done(stores: MongoStores) -> None:
    """Claims stored by the earlier claim-then-send code (`_id` = key, no lease) are kept:
    an event retried across the upgrade pushes nobody twice."""
    await WebhookEventDocument.get_pymongo_collection().insert_one(
        {"_id": "push:e1:ana", "claimedAt": datetime.now(UTC)}  # wall time: TTL keeps it
    )
    until = T0 + timedelta(minutes=1)
    assert await stores.effect_claims.claim("push:e1:ana", owner="w", now=T0, until=until) is (
        ClaimState.DONE
    )
    assert await stores.effect_claims.claim("push:e1:bob", owner="w", now=T0, until=until) is (
        ClaimState.TAKEN
    )


async def test_concurrent_identical_membership_upserts_leave_one_document(
    stores: MongoStores,
) -> None:
    await stores.directory.put_org(Org(id=ORG, name="Happy Paws"))
    await stores.directory.put_user(User(id=ANA, name="Ana"))
    membership = Membership(org_id=ORG, user_id=ANA, role="vet")
    await asyncio.gather(*(stores.directory.put_membership(membership) for _ in range(30)))
    assert len(await _raw(MembershipDocument, {"orgId": ORG, "userId": ANA})) == 1


async def test_concurrent_device_registrations_leave_one_owner_per_token(
    stores: MongoStores,
) -> None:
    users = [UserId(f"u{n}") for n in range(10)]
    await asyncio.gather(
        *(
            stores.devices.register(Device(user_id=uid, token="shared", platform="ios"))
            for uid in users * 3
        )
    )
    raw = await _raw(DeviceDocument, {})
    assert len(raw) == 1
    owners = await stores.devices.devices_of(users)
    assert [d.token for d in owners] == ["shared"]


# -- outages: 503, nothing written ---------------------------------------------------------


async def test_operations_during_an_outage_are_503_and_write_nothing() -> None:
    async with double_stores() as (stores, double):
        await stores.directory.put_org(Org(id=ORG, name="Happy Paws"))
        await stores.directory.put_user(User(id=ANA, name="Ana"))
        await stores.appointments.put(appointment("apt-1"))
        before = _snapshot(double)
        with double.outage():
            attempts = [
                stores.directory.ping(),
                stores.appointments.ping(),
                stores.ping(),
                stores.directory.get_user(ANA),
                stores.directory.put_membership(Membership(org_id=ORG, user_id=ANA, role="x")),
                stores.directory.search_members(
                    ORG, SearchQuery.parse("an"), limit=5, exclude=None
                ),
                stores.directory.list_members(ORG, limit=5, after=None),
                stores.appointments.link_chat(
                    AppointmentId("apt-1"),
                    channel_id=ChannelId("c"),
                    status=ChatStatus.ACTIVE,
                    activation_minutes=None,
                ),
                stores.appointments.set_chat_status(AppointmentId("apt-1"), ChatStatus.ENDED),
                stores.appointments.due_for_activation(T0, limit=5),
                stores.effect_claims.claim("evt-1", owner="w", now=T0, until=T0),
                stores.devices.register(Device(user_id=ANA, token="t", platform="ios")),
                stores.fingerprints.put_many({ANA: "f"}),
            ]
            for attempt in attempts:
                with pytest.raises(errors.ProviderUnavailable) as raised:
                    await attempt
                assert raised.value.status == 503
        assert _snapshot(double) == before
        await stores.ping()  # back once the server is


def _snapshot(double: DoubleClient) -> dict[str, list[dict[str, object]]]:
    raw = double.sync_database("yc_chat_test")
    return {
        name: sorted(raw[name].find({}), key=lambda d: str(d["_id"]))
        for name in raw.list_collection_names()
    }


async def test_opening_against_an_unreachable_server_fails_fast_without_the_password() -> None:
    started = time.monotonic()
    with pytest.raises(errors.ProviderUnavailable) as raised:
        await open_mongo_stores(
            "mongodb://chat:s3cret-pw@127.0.0.1:1/?directConnection=true",
            "yc_chat",
            options=MongoOptions(
                server_selection_timeout=timedelta(milliseconds=200),
                connect_timeout=timedelta(milliseconds=200),
            ),
        )
    assert time.monotonic() - started < 5
    message = str(raised.value)
    assert "127.0.0.1:1" in message
    assert "s3cret" not in message
    # The failed attempt released the process-wide binding: opening again works.
    async with double_stores() as (opened, _):
        await opened.ping()


async def test_one_open_store_set_per_process() -> None:
    async with double_stores() as (first, _):
        with pytest.raises(RuntimeError, match="already open"):
            await open_mongo_stores("mongodb://127.0.0.1:1", "other")
        await first.ping()
    async with double_stores() as (second, _):
        await second.ping()


async def test_close_leaves_a_given_client_open() -> None:
    async with double_stores() as (_, double):
        pass
    assert not double.closed


async def test_invalid_database_names_are_refused() -> None:
    client: MongoClient = AsyncMongoClient("mongodb://127.0.0.1:1", connect=False)
    try:
        with pytest.raises(ValueError, match="database name"):
            await open_mongo_stores(client, "bad/name")
    finally:
        await client.close()
