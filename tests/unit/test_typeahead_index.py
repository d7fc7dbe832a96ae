"""The in-memory typeahead index answers exactly like the naive rule: rank every match."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.demo import FIXTURE
from tests.support.notifier import RecordingNotifier
from yc_chat import in_memory
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamState
from yc_chat.adapters.memory import InMemoryDirectory
from yc_chat.adapters.memory import typeahead as typeahead_module
from yc_chat.adapters.memory.typeahead import TypeaheadIndex
from yc_chat.domain.model import Membership, Org, OrgId, User, UserId
from yc_chat.domain.text import SearchKeys, SearchQuery
from yc_chat.entrypoints.fixture import parse_fixture

# Few letters, so names share prefixes and queries match many members in many ways.
ALPHABET = "abñéöAB'’.- \u00e5"
names = st.text(st.sampled_from(ALPHABET), min_size=1, max_size=10)
emails = st.one_of(st.none(), st.text(st.sampled_from("abé.@"), min_size=1, max_size=6))
people = st.lists(st.tuples(names, emails), min_size=0, max_size=40)


def naive(
    keys: dict[UserId, SearchKeys], query: SearchQuery, limit: int, exclude: UserId | None
) -> list[UserId]:
    """The contract's rule, spelled out: every match ranked, then the first `limit`."""
    matches = [uid for uid, key in keys.items() if key.matches(query) and uid != exclude]
    matches.sort(key=lambda uid: keys[uid].rank(query, uid))
    return matches[:limit]


@st.composite
def queries(draw: st.DrawFn, population: list[tuple[str, str | None]]) -> SearchQuery:
    """A query that is often a prefix of someone's name, word or email, else random."""
    sources = [text for name, email in population for text in (name, email or "")]
    source = draw(st.sampled_from(sources)) if sources and draw(st.booleans()) else ""
    if source:
        start = draw(st.integers(0, max(0, len(source) - 2)))
        raw = source[start : start + draw(st.integers(2, 6))]
    else:
        raw = draw(st.text(st.sampled_from(ALPHABET), min_size=2, max_size=5))
    try:
        return SearchQuery.parse(raw)
    except ValueError:
        return SearchQuery.parse("ab")


@given(data=st.data(), population=people, limit=st.integers(1, 50))
def test_index_ranks_and_excludes_like_the_naive_rule(
    data: st.DataObject, population: list[tuple[str, str | None]], limit: int
) -> None:
    keys = {
        UserId(f"u{i}"): SearchKeys.of(name, email) for i, (name, email) in enumerate(population)
    }
    index = TypeaheadIndex(keys)
    query = data.draw(queries(population))
    exclude = data.draw(st.one_of(st.none(), st.sampled_from([*keys, UserId("nobody")])))
    found = index.search(query, limit=limit, keep=lambda uid: uid != exclude)
    assert found == naive(keys, query, limit, exclude)


@given(data=st.data(), population=people, limit=st.integers(1, 50))
def test_directory_answers_like_the_naive_rule_after_changes(
    data: st.DataObject, population: list[tuple[str, str | None]], limit: int
) -> None:
    """Through the adapter: joins, renames, new emails and departures reach the next answer
    (kept in the built index, issue 22, or after a rebuild)."""
    org = OrgId("org-a")

    async def scenario() -> tuple[list[UserId], list[UserId]]:
        directory = InMemoryDirectory()
        await directory.put_org(Org(id=org, name="A"))
        await directory.put_org(Org(id=OrgId("org-b"), name="B"))
        users: dict[UserId, tuple[str, str | None]] = {}
        for i, (name, email) in enumerate(population):
            uid = UserId(f"u{i}")
            users[uid] = (name, email)
            await directory.put_user(User(id=uid, name=name, email=email))
            in_a = data.draw(st.booleans(), label=f"{uid} in org-a")
            await directory.put_membership(
                Membership(org_id=org if in_a else OrgId("org-b"), user_id=uid, role="vet")
            )
        query = data.draw(queries(population))
        caller = data.draw(st.one_of(st.none(), st.sampled_from([*users, UserId("x")])))
        # Built at load time (as Runtime.load does) or by a first search: the same answers.
        if data.draw(st.booleans(), label="warm at load"):
            await directory.warm_search()
        else:
            await directory.search_members(org, query, limit=limit, exclude=caller)
        for uid in list(users):
            change = data.draw(
                st.sampled_from(["keep", "rename", "new email", "leave", "join"]), label=uid
            )
            if change == "rename":
                users[uid] = (data.draw(names, label=f"{uid} new name"), users[uid][1])
                await directory.put_user(User(id=uid, name=users[uid][0], email=users[uid][1]))
            elif change == "new email":
                users[uid] = (users[uid][0], data.draw(emails, label=f"{uid} new email"))
                await directory.put_user(User(id=uid, name=users[uid][0], email=users[uid][1]))
            elif change == "leave":
                await directory.remove_membership(org, uid)
            elif change == "join":  # into org-a, from org-b or again
                await directory.put_membership(Membership(org_id=org, user_id=uid, role="vet"))
        if data.draw(st.booleans(), label="warm again after the changes"):
            await directory.warm_search()
        hits = await directory.search_members(org, query, limit=limit, exclude=caller)
        members = await directory.get_memberships(org, list(users))
        keys = {uid: SearchKeys.of(*users[uid]) for uid in members}
        return [m.user.id for m in hits], naive(keys, query, limit, caller)

    found, expected = asyncio.run(scenario())
    assert found == expected


def test_a_load_builds_every_orgs_index_before_the_first_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Runtime.load builds the indexes: the first search of an org builds nothing (issue 22)."""
    built: list[int] = []

    class CountedIndex(TypeaheadIndex):
        def __init__(self, keys: Mapping[UserId, SearchKeys]) -> None:
            built.append(len(keys))
            super().__init__(keys)

    monkeypatch.setattr(typeahead_module, "TypeaheadIndex", CountedIndex)

    async def scenario() -> tuple[list[int], list[int], int]:
        runtime = in_memory(
            chat=FakeStreamChatProvider(StreamState()), notifier=RecordingNotifier()
        )
        await runtime.load(parse_fixture(FIXTURE))
        at_load = list(built)
        hits = await runtime.service.search_colleagues(
            caller=UserId("vet-1"), org_id=OrgId("org-1"), query="pri", limit=10
        )
        return at_load, list(built), len(hits)

    at_load, after_search, hits = asyncio.run(scenario())
    assert at_load and all(size > 0 for size in at_load)
    assert after_search == at_load  # the first search found its index ready
    assert hits >= 1
