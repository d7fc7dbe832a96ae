"""MemberReads contract: a caller's typeahead and member page, with the org and membership
checks, answer exactly as the Directory's own reads; nothing for a stranger or an unknown
org; nothing for an ex-member from the next read on (no cached membership).

Runs on the composition every store gets (`ReadsThroughDirectory` over the in-memory
directory) and on PostgreSQL's single statements, both with held connections and with
none (every read borrowing from the pool).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from tests.support.postgres import postgres_stores
from yc_chat.adapters.memory import InMemoryDirectory
from yc_chat.adapters.postgres import PostgresOptions
from yc_chat.domain.model import Member, Membership, Org, OrgId, User, UserId, UserKind
from yc_chat.domain.queries import MemberKey
from yc_chat.domain.text import SearchQuery
from yc_chat.domain.usecases.org_checks import ReadsThroughDirectory

ORG, OTHER = OrgId("org-1"), OrgId("org-2")
CALLER = UserId("u-caller")
PEOPLE = [
    ("u-caller", "Ann Caller", "caller@clinic.example"),
    ("u-ana", "Ana Smith", "ana@clinic.example"),
    ("u-anja", "Anja Berg", "anja@clinic.example"),
    ("u-bob", "Bob Anders", "bob@clinic.example"),
    ("u-carl", "Carl Zed", "anx@clinic.example"),
    ("u-dora", "Dora Quist", "dora@clinic.example"),
]

Pair = tuple[Any, Any]  # (directory and writer, member reads)


def _memory() -> AbstractAsyncContextManager[Pair]:
    @asynccontextmanager
    async def opened() -> AsyncIterator[Pair]:
        directory = InMemoryDirectory()
        yield directory, ReadsThroughDirectory(directory)

    return opened()


def _postgres(keep: int) -> Callable[[], AbstractAsyncContextManager[Pair]]:
    @asynccontextmanager
    async def opened() -> AsyncIterator[Pair]:
        async with postgres_stores(PostgresOptions(read_connections=keep)) as stores:
            yield stores.directory, stores.member_reads

    return opened


READS: dict[str, Callable[[], AbstractAsyncContextManager[Pair]]] = {
    "memory": _memory,
    "postgres": _postgres(keep=2),
    "postgres-pooled": _postgres(keep=0),
}


@pytest.fixture(params=sorted(READS))
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    async with READS[request.param]() as (directory, reads):
        await directory.put_org(Org(id=ORG, name="Clinic"))
        await directory.put_org(Org(id=OTHER, name="Other"))
        for uid, name, email in PEOPLE:
            await directory.put_user(User(id=UserId(uid), name=name, email=email))
            await directory.put_membership(Membership(org_id=ORG, user_id=UserId(uid), role="vet"))
        await directory.put_user(User(id=UserId("u-other"), name="Ana Other", email=None))
        await directory.put_membership(
            Membership(org_id=OTHER, user_id=UserId("u-other"), role="admin")
        )
        yield directory, reads


def _ids(members: Any) -> list[str]:
    return [m.user.id for m in members]


async def test_search_ranks_whole_names_then_words_and_emails_without_the_caller(
    stores: Pair,
) -> None:
    directory, reads = stores
    for limit in (1, 2, 3, 10):
        view = await reads.search_as(CALLER, ORG, SearchQuery.parse("an"), limit=limit)
        expected = await directory.search_members(
            ORG, SearchQuery.parse("an"), limit=limit, exclude=CALLER
        )
        assert view.org_found
        assert view.membership == Membership(org_id=ORG, user_id=CALLER, role="vet")
        assert _ids(view.answer) == ["u-ana", "u-anja", "u-bob", "u-carl"][:limit]
        assert list(view.answer) == list(expected)


async def test_search_finds_nothing_quietly(stores: Pair) -> None:
    _, reads = stores
    view = await reads.search_as(CALLER, ORG, SearchQuery.parse("zz"), limit=10)
    assert view.org_found and view.membership is not None
    assert list(view.answer) == []


async def test_pages_walk_every_member_as_the_directory_does(stores: Pair) -> None:
    directory, reads = stores
    seen: list[str] = []
    after: MemberKey | None = None
    for _ in range(10):
        view = await reads.page_as(CALLER, ORG, limit=4, after=after)
        expected = await directory.list_members(ORG, limit=4, after=after)
        assert view.org_found and view.membership is not None
        assert view.answer == expected
        seen += _ids(view.answer.members)
        after = view.answer.next_after
        if after is None:
            break
    assert seen == ["u-ana", "u-anja", "u-caller", "u-bob", "u-carl", "u-dora"]


async def test_a_stranger_gets_the_org_but_no_answer(stores: Pair) -> None:
    _, reads = stores
    stranger = UserId("u-other")
    search = await reads.search_as(stranger, ORG, SearchQuery.parse("an"), limit=10)
    page = await reads.page_as(stranger, ORG, limit=10, after=None)
    for view in (search, page):
        assert view.org_found and view.membership is None and view.answer is None


async def test_an_unknown_org_is_not_found(stores: Pair) -> None:
    _, reads = stores
    ghost = OrgId("org-ghost")
    search = await reads.search_as(CALLER, ghost, SearchQuery.parse("an"), limit=10)
    page = await reads.page_as(CALLER, ghost, limit=10, after=None)
    for view in (search, page):
        assert not view.org_found and view.membership is None and view.answer is None


async def test_an_ex_member_sees_nothing_from_the_next_read_on(stores: Pair) -> None:
    directory, reads = stores
    query = SearchQuery.parse("an")
    assert (await reads.search_as(CALLER, ORG, query, limit=10)).answer
    await directory.remove_membership(ORG, CALLER)
    search = await reads.search_as(CALLER, ORG, query, limit=10)
    page = await reads.page_as(CALLER, ORG, limit=10, after=None)
    for view in (search, page):
        assert view.org_found and view.membership is None and view.answer is None


async def test_ids_no_store_can_hold_find_no_membership(stores: Pair) -> None:
    _, reads = stores
    for caller, org in ((UserId("u-\x00caller"), ORG), (CALLER, OrgId("org-\udcff"))):
        view = await reads.search_as(caller, org, SearchQuery.parse("an"), limit=10)
        assert view.membership is None and view.answer is None
        assert view.org_found is (org == ORG)
        page = await reads.page_as(caller, org, limit=10, after=None)
        assert page.membership is None and page.answer is None


async def test_a_renamed_member_is_found_by_the_new_name(stores: Pair) -> None:
    directory, reads = stores
    await directory.put_user(User(id=UserId("u-dora"), name="Anouk Quist", email=None))
    view = await reads.search_as(CALLER, ORG, SearchQuery.parse("anou"), limit=10)
    assert _ids(view.answer) == ["u-dora"]


async def test_a_changed_profile_is_listed_as_changed_in_every_org(stores: Pair) -> None:
    directory, reads = stores
    await directory.put_membership(Membership(org_id=OTHER, user_id=UserId("u-ana"), role="admin"))
    await directory.put_membership(Membership(org_id=OTHER, user_id=CALLER, role="vet"))
    changed = User(
        id=UserId("u-ana"),
        name="Zora Smith-Jones",
        kind=UserKind.PET_OWNER,
        email=None,
        image="https://img.example/ana.png",
    )
    await directory.put_user(changed)
    for org, role in ((ORG, "vet"), (OTHER, "admin")):
        page = await reads.page_as(CALLER, org, limit=10, after=None)
        assert Member(user=changed, role=role) in page.answer.members
        assert page.answer == await directory.list_members(org, limit=10, after=None)
        search = await reads.search_as(CALLER, org, SearchQuery.parse("zora"), limit=10)
        assert list(search.answer) == [Member(user=changed, role=role)]
