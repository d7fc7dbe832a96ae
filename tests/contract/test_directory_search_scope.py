"""Typeahead through the Directory port, as a property on every adapter: only that org's
members, never the caller, and every one of them that matches."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contract.adapters import DIRECTORIES
from yc_chat.domain.model import Membership, Org, OrgId, User, UserId
from yc_chat.domain.text import SearchKeys, SearchQuery

word = st.text(st.sampled_from("abcdeñéö'. -"), min_size=1, max_size=8)
people = st.lists(
    st.tuples(word, st.sampled_from(["org-a", "org-b", None])), min_size=1, max_size=12
)
queries = st.text(st.sampled_from("abcdeñéö'. -*[]%$"), min_size=2, max_size=6).filter(
    lambda q: len(q.strip()) >= 2
)


async def _search(
    factory: object, population: list[tuple[str, str | None]], caller_index: int, query: str
) -> tuple[list[str], dict[str, tuple[str, str | None]]]:
    async with factory() as directory:  # type: ignore[operator]
        return await _search_in(directory, population, caller_index, query)


async def _search_in(
    directory: Any, population: list[tuple[str, str | None]], caller_index: int, query: str
) -> tuple[list[str], dict[str, tuple[str, str | None]]]:
    for org in ("org-a", "org-b"):
        await directory.put_org(Org(id=OrgId(org), name=org))
    index: dict[str, tuple[str, str | None]] = {}
    for i, (name, org) in enumerate(population):
        uid = UserId(f"u{i}")
        index[uid] = (name, org)
        await directory.put_user(User(id=uid, name=name, email=f"{name}@x.example"))
        if org is not None:
            await directory.put_membership(Membership(org_id=OrgId(org), user_id=uid, role="vet"))
    caller = UserId(f"u{caller_index % len(population)}")
    hits = await directory.search_members(
        OrgId("org-a"), SearchQuery.parse(query), limit=50, exclude=caller
    )
    return [m.user.id for m in hits], {"caller": (caller, None), **index}


@pytest.mark.parametrize("adapter", sorted(DIRECTORIES))
def test_results_are_matching_members_of_that_org_but_not_the_caller(adapter: str) -> None:
    factory = DIRECTORIES[adapter]

    @given(people, st.integers(min_value=0), queries)
    def run(population: list[tuple[str, str | None]], caller_index: int, query: str) -> None:
        parsed = SearchQuery.parse(query)
        hits, index = asyncio.run(_search(factory, population, caller_index, query))
        caller = index.pop("caller")[0]
        assert caller not in hits
        for uid in hits:
            name, org = index[uid]
            assert org == "org-a"
            assert SearchKeys.of(name, f"{name}@x.example").matches(parsed)
        # Completeness: every matching member of org-a other than the caller is found.
        expected = {
            uid
            for uid, (name, org) in index.items()
            if org == "org-a"
            and uid != caller
            and SearchKeys.of(name, f"{name}@x.example").matches(parsed)
        }
        assert set(hits) == expected

    run()
