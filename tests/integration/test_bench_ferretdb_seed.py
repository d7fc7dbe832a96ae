"""The FerretDB bench's bulk seed writes documents the Beanie directory reads as its own.

`make bench` seeds 100k members with raw `insert_many` instead of the adapter's writer;
if that shape drifted from the documents' (a renamed field, a missing search key), the
bench would time empty or wrong answers. Here the same seed, 50 members on the real
server, is read back through the Beanie directory and compared with the in-memory
directory given the same people through its writer.
"""

from __future__ import annotations

from bench import ferretdb_bench

from tests.support.mongo_double.stores import mongo_stores
from yc_chat.adapters.memory import InMemoryDirectory
from yc_chat.domain.model import Membership, Org, User, UserId, UserKind
from yc_chat.domain.text import SearchQuery

SIZE = 50
LABEL = "1k"


async def _reference() -> InMemoryDirectory:
    users, members = ferretdb_bench.documents(LABEL, SIZE)
    directory = InMemoryDirectory()
    await directory.put_org(Org(id=ferretdb_bench.org_id(LABEL), name=f"Bench {LABEL}"))
    for user, member in zip(users, members, strict=True):
        await directory.put_user(
            User(id=UserId(user["_id"]), name=user["name"], email=user["email"],
                 kind=UserKind(user["kind"]))
        )  # fmt: skip
        await directory.put_membership(
            Membership(org_id=member["orgId"], user_id=member["userId"], role=member["role"])
        )
    return directory


async def test_seeded_members_read_back_through_the_beanie_directory() -> None:
    org = ferretdb_bench.org_id(LABEL)
    reference = await _reference()
    async with mongo_stores(backend="server") as stores:
        await ferretdb_bench.seed(stores, LABEL, SIZE)
        directory = stores.directory

        assert await directory.get_org(org) == await reference.get_org(org)
        first = ferretdb_bench.member_id(LABEL, 0)
        assert await directory.get_user(first) == await reference.get_user(first)

        page = await directory.list_members(org, limit=SIZE + 10, after=None)
        expected = await reference.list_members(org, limit=SIZE + 10, after=None)
        assert len(page.members) == SIZE
        assert page.members == expected.members

        for text in (ferretdb_bench.QUERY, "f1k-00004", "be"):
            query = SearchQuery.parse(text)
            hits = await directory.search_members(org, query, limit=SIZE, exclude=None)
            assert hits, text  # each query matches someone in this population
            assert hits == await reference.search_members(org, query, limit=SIZE, exclude=None)
