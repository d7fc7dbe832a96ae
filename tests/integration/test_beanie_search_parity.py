"""The Beanie directory answers exactly as the in-memory one: same hits, same order, same pages.

The in-memory adapter applies `SearchKeys.matches` and `SearchKeys.rank` directly; the Beanie
adapter turns them into indexed MongoDB queries. Hypothesis looks for any population, query,
limit or page size on which the two disagree: on the in-process double, and (fewer examples,
each opens a database) on the real server (MONGODB_URI, else FerretDB).
"""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import servers
from tests.support.mongo_double.stores import Backend, mongo_stores
from tests.support.search_population import assert_same_answers, people, populate, queries
from yc_chat.adapters.memory import InMemoryDirectory
from yc_chat.domain.model import OrgId, UserId
from yc_chat.domain.text import SearchQuery


async def _compare(
    backend: Backend,
    population: list[tuple[str, str | None, set[OrgId]]],
    query: SearchQuery,
    limit: int,
    page_size: int,
    caller_index: int,
) -> None:
    memory = InMemoryDirectory()
    async with mongo_stores(backend=backend) as stores:
        await populate((memory, stores.directory), population)
        caller = UserId(f"u{caller_index % len(population):02d}")
        await assert_same_answers(memory, stores.directory, query, limit, page_size, caller)


_CASES = given(
    people,
    queries,
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=0),
)


@_CASES
def test_beanie_directory_agrees_with_the_reference_rule(
    population: list[tuple[str, str | None, set[OrgId]]],
    query: str,
    limit: int,
    page_size: int,
    caller_index: int,
) -> None:
    args = (population, SearchQuery.parse(query), limit, page_size, caller_index)
    asyncio.run(_compare("double", *args))


# Each example opens a fresh database; on a real server that costs index builds.
@settings(max_examples=25)
@_CASES
def test_beanie_directory_on_the_real_server_agrees_with_the_reference_rule(
    population: list[tuple[str, str | None, set[OrgId]]],
    query: str,
    limit: int,
    page_size: int,
    caller_index: int,
) -> None:
    servers.mongodb_uri()  # skips (fails under CI) before Hypothesis starts, if no server
    args = (population, SearchQuery.parse(query), limit, page_size, caller_index)
    asyncio.run(_compare("server", *args))
