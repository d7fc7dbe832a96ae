"""The Directory port's contract, for any adapter: subclass `DirectoryContract`.

The suite needs an empty directory it may write to: override the `new_directory` fixture
to yield your adapter (it must also implement `DirectoryWriter`, to load the suite's
people; a host whose directory is read-only gives a test double over the same database).
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from yc_chat.domain.model import Membership, Org, OrgId, User, UserId, UserKind
from yc_chat.domain.text import SearchQuery

ORG = OrgId("org-1")
OTHER = OrgId("org-2")

PEOPLE = [
    ("u-ana", "Dr. Ana Núñez", "ana@happypaws.example", "vet"),
    ("u-anabel", "Anabel Smith", "bel@happypaws.example", "nurse"),
    ("u-obrien", "Liam O'Brien", "liam@happypaws.example", "admin"),
    ("u-zoe", "Zoë Adams", "zoe@happypaws.example", "receptionist"),
    ("u-bob", "Bob Anders", "bob@happypaws.example", "owner"),
    ("u-star", "Star.*Man", "star@happypaws.example", "vet"),
]


async def _populate(store: Any) -> None:
    await store.put_org(Org(id=ORG, name="Happy Paws"))
    await store.put_org(Org(id=OTHER, name="Other Clinic"))
    for uid, name, email, role in PEOPLE:
        await store.put_user(User(id=UserId(uid), name=name, email=email))
        await store.put_membership(Membership(org_id=ORG, user_id=UserId(uid), role=role))
    await store.put_user(User(id=UserId("u-outsider"), name="Ana Outsider", email="o@x.example"))
    await store.put_membership(Membership(org_id=OTHER, user_id=UserId("u-outsider"), role="vet"))
    await store.put_user(
        User(id=UserId("p-1"), name="Sam Lee", kind=UserKind.PET_OWNER, email=None)
    )


async def search(directory: Any, text: str, *, exclude: str | None = None) -> list[str]:
    hits = await directory.search_members(
        ORG, SearchQuery.parse(text), limit=50, exclude=UserId(exclude) if exclude else None
    )
    return [m.user.id for m in hits]


class DirectoryContract:
    """Every Directory answers the same way: lookups, typeahead rules, member pages."""

    pytestmark = pytest.mark.asyncio  # also where pytest-asyncio runs in strict mode

    @pytest_asyncio.fixture
    async def new_directory(self) -> Any:
        """An empty directory that is also a DirectoryWriter: override it."""
        raise NotImplementedError("override the new_directory fixture with your adapter")

    @pytest_asyncio.fixture
    async def directory(self, new_directory: Any) -> Any:
        """The directory under test, with the suite's orgs, people and memberships."""
        await _populate(new_directory)
        return new_directory

    async def test_reads_users_orgs_and_memberships(self, directory: Any) -> None:
        assert (await directory.get_user(UserId("u-ana"))).name == "Dr. Ana Núñez"
        assert await directory.get_user(UserId("nobody")) is None
        assert (await directory.get_org(ORG)).name == "Happy Paws"
        assert await directory.get_org(OrgId("nope")) is None
        membership = await directory.get_membership(ORG, UserId("u-obrien"))
        assert membership.role == "admin"
        assert membership.is_admin
        assert await directory.get_membership(OTHER, UserId("u-ana")) is None
        users = await directory.get_users([UserId("u-ana"), UserId("ghost"), UserId("p-1")])
        assert set(users) == {"u-ana", "p-1"}
        found = await directory.get_memberships(ORG, [UserId("u-ana"), UserId("u-outsider")])
        assert set(found) == {"u-ana"}

    async def test_search_is_case_and_accent_insensitive_prefix_on_any_word(
        self, directory: Any
    ) -> None:
        assert await search(directory, "NUN") == ["u-ana"]
        assert await search(directory, "zoe") == ["u-zoe"]
        assert await search(directory, "adams") == ["u-zoe"]
        assert await search(directory, "unez") == []  # prefix only, never infix

    async def test_search_matches_email_prefix_and_apostrophes(self, directory: Any) -> None:
        assert await search(directory, "bel@") == ["u-anabel"]
        assert await search(directory, "obrien") == ["u-obrien"]
        assert await search(directory, "O'Bri") == ["u-obrien"]

    async def test_search_ranks_full_name_prefix_first_then_alphabetical(
        self, directory: Any
    ) -> None:
        # "Anabel Smith" starts with "an"; "bob anders" and "dr ana nunez" match on a later word.
        assert await search(directory, "an") == ["u-anabel", "u-bob", "u-ana"]

    async def test_search_query_is_literal(self, directory: Any) -> None:
        assert await search(directory, ".*") == []
        assert await search(directory, "star.*") == ["u-star"]
        assert await search(directory, "s.*") == []
        assert await search(directory, "[a-z]") == []

    async def test_search_leaves_out_caller_other_orgs_and_non_members(
        self, directory: Any
    ) -> None:
        assert await search(directory, "an", exclude="u-anabel") == ["u-bob", "u-ana"]
        assert "u-outsider" not in await search(directory, "outsider")
        assert await search(directory, "sam") == []

    async def test_search_respects_limit(self, directory: Any) -> None:
        hits = await directory.search_members(ORG, SearchQuery.parse("an"), limit=2, exclude=None)
        assert len(hits) == 2

    async def test_removed_members_disappear(self, directory: Any) -> None:
        await directory.remove_membership(ORG, UserId("u-zoe"))
        assert await directory.get_membership(ORG, UserId("u-zoe")) is None
        assert await search(directory, "zoe") == []

    async def test_list_members_pages_by_name_without_gaps_or_repeats(self, directory: Any) -> None:
        seen: list[str] = []
        after = None
        for _ in range(10):
            page = await directory.list_members(ORG, limit=4, after=after)
            seen.extend(m.user.id for m in page.members)
            after = page.next_after
            if after is None:
                break
        assert seen == ["u-anabel", "u-bob", "u-ana", "u-obrien", "u-star", "u-zoe"]
        first = await directory.list_members(ORG, limit=6, after=None)
        assert first.next_after is None
        roles = {m.user.id: m.role for m in first.members}
        assert roles["u-obrien"] == "admin"

    async def test_list_members_renamed_user_moves(self, directory: Any) -> None:
        await directory.put_user(User(id=UserId("u-zoe"), name="Aaron Zed", email=None))
        page = await directory.list_members(ORG, limit=1, after=None)
        assert [m.user.id for m in page.members] == ["u-zoe"]
        assert page.next_after is not None

    async def test_list_members_of_unknown_org_is_empty(self, directory: Any) -> None:
        page = await directory.list_members(OrgId("ghost-org"), limit=10, after=None)
        assert page.members == ()
        assert page.next_after is None
