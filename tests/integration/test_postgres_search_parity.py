"""The PostgreSQL directory answers exactly as the in-memory one: same hits, same order, pages.

The Hypothesis property of test_beanie_search_parity (same populations, queries, limits and
page sizes), run on the real PostgreSQL server: the adapter's range scans on `COLLATE "C"`
keys must give `SearchKeys.matches` and `SearchKeys.rank` exactly. The one-statement reads
a caller's request sends (`PostgresMemberReads`) must give the same, the caller left out,
and nothing where the caller is not a member.
"""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import servers
from tests.support.postgres import postgres_stores
from tests.support.search_population import ORGS, people, queries
from yc_chat.adapters.memory import InMemoryDirectory
from yc_chat.domain.model import Membership, Org, OrgId, User, UserId
from yc_chat.domain.queries import MemberKey
from yc_chat.domain.text import SearchQuery


async def _all_pages(
    directory: object, org: OrgId, page_size: int, caller: UserId | None = None
) -> list[list[str]]:
    """Every page's ids; as seen by `caller` through MemberReads when given."""
    pages: list[list[str]] = []
    after: MemberKey | None = None
    for _ in range(100):  # more pages than any population here can fill: no endless paging
        if caller is None:
            page = await directory.list_members(org, limit=page_size, after=after)  # type: ignore[attr-defined]
        else:
            view = await directory.page_as(caller, org, limit=page_size, after=after)  # type: ignore[attr-defined]
            if view.answer is None:
                return []
            page = view.answer
        pages.append([m.user.id for m in page.members])
        after = page.next_after
        if after is None:
            return pages
    raise AssertionError(f"paging never ended: {pages[-3:]}")


async def _compare(
    population: list[tuple[str, str | None, set[OrgId]]],
    query: SearchQuery,
    limit: int,
    page_size: int,
    caller_index: int,
) -> None:
    memory = InMemoryDirectory()
    async with postgres_stores() as stores:
        postgres = stores.directory
        for directory in (memory, postgres):
            for org in ORGS:
                await directory.put_org(Org(id=org, name=org))
            for i, (name, email, orgs) in enumerate(population):
                uid = UserId(f"u{i:02d}")
                await directory.put_user(User(id=uid, name=name, email=email))
                for org in sorted(orgs):
                    await directory.put_membership(Membership(org_id=org, user_id=uid, role="vet"))
        caller = UserId(f"u{caller_index % len(population):02d}")
        for org in ORGS:
            for exclude in (None, caller):
                expected = await memory.search_members(org, query, limit=limit, exclude=exclude)
                got = await postgres.search_members(org, query, limit=limit, exclude=exclude)
                assert [m.user.id for m in got] == [m.user.id for m in expected]
                assert [m.role for m in got] == [m.role for m in expected]
            reference = await _all_pages(memory, org, page_size)
            assert await _all_pages(postgres, org, page_size) == reference
            # The caller's own request: one statement with the org and membership checks.
            member = await memory.get_membership(org, caller) is not None
            view = await stores.member_reads.search_as(caller, org, query, limit=limit)
            pages = await _all_pages(stores.member_reads, org, page_size, caller)
            assert view.org_found
            if member:
                expected = await memory.search_members(org, query, limit=limit, exclude=caller)
                assert list(view.answer or ()) == list(expected)
                assert pages == reference
            else:
                assert view.membership is None and view.answer is None and pages == []


@settings(max_examples=25)
@given(
    people,
    queries,
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=0),
)
def test_postgres_directory_agrees_with_the_reference_rule(
    population: list[tuple[str, str | None, set[OrgId]]],
    query: str,
    limit: int,
    page_size: int,
    caller_index: int,
) -> None:
    servers.postgres_url()  # skips (fails under CI) before Hypothesis starts, if no server
    asyncio.run(_compare(population, SearchQuery.parse(query), limit, page_size, caller_index))
