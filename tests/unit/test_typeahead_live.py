"""The in-memory directory's typeahead and member order follow member changes (issue 22):
after a join, a departure, a rename, a new email, image or role the next read answers like
the naive rule with the member as last written, and no change rebuilds the index until
many have piled up.

A stateful property mixes changes, searches and member pages against a plain reference
(the contract's rule applied to the current members), with the index built at load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from tests.support.search_population import emails, names, queries
from yc_chat.adapters.memory import InMemoryDirectory
from yc_chat.adapters.memory import typeahead as typeahead_module
from yc_chat.domain.model import Membership, Org, OrgId, User, UserId
from yc_chat.domain.queries import MemberKey
from yc_chat.domain.text import SearchKeys, SearchQuery, folded_name

T = TypeVar("T")
ORG = OrgId("org-a")
PEOPLE = [UserId(f"u{i}") for i in range(12)]


def naive(
    people: Mapping[UserId, tuple[str, str | None]],
    query: SearchQuery,
    limit: int,
    exclude: UserId | None,
) -> list[UserId]:
    keys = {uid: SearchKeys.of(*person) for uid, person in people.items()}
    matches = [uid for uid, key in keys.items() if key.matches(query) and uid != exclude]
    matches.sort(key=lambda uid: keys[uid].rank(query, uid))
    return matches[:limit]


class LiveDirectory(RuleBasedStateMachine):
    """One org; people join, leave, are renamed and change email; reads in between."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.people: dict[UserId, tuple[str, str | None]] = {}  # every known user
        self.members: set[UserId] = set()
        self.roles: dict[UserId, str] = {}
        self.images: dict[UserId, str | None] = {}
        # Members changed since the index was built; whether a rebuild is due.
        self.changed: set[UserId] = set()
        self.due = False
        # Every TypeaheadIndex built from here on is counted.
        self.builds = 0
        self.original = typeahead_module.TypeaheadIndex
        machine = self

        class Counted(self.original):  # type: ignore[misc, name-defined]
            def __init__(self, keys: Any) -> None:
                machine.builds += 1
                super().__init__(keys)

        typeahead_module.TypeaheadIndex = Counted  # type: ignore[misc]

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        typeahead_module.TypeaheadIndex = self.original  # type: ignore[misc]
        self.loop.close()

    @initialize(
        start=st.lists(st.tuples(names, emails, st.booleans()), min_size=len(PEOPLE),
                       max_size=len(PEOPLE)),
        rebuild_after=st.sampled_from([2, 5, 1000]),
    )  # fmt: skip
    def load(self, start: list[tuple[str, str | None, bool]], rebuild_after: int) -> None:
        self.rebuild_after = rebuild_after
        self.directory = InMemoryDirectory(min_rebuild_after=rebuild_after)

        async def seed() -> None:
            await self.directory.put_org(Org(id=ORG, name="A"))
            for uid, (name, email, member) in zip(PEOPLE, start, strict=True):
                self.people[uid] = (name, email)
                await self.directory.put_user(User(id=uid, name=name, email=email))
                if member:
                    self.members.add(uid)
                    self.roles[uid] = "vet"
                    await self.directory.put_membership(
                        Membership(org_id=ORG, user_id=uid, role="vet")
                    )
            await self.directory.warm_search()  # as Runtime.load does

        self.run(seed())
        self.due = not self.members  # warm_search builds nothing for an empty org

    def _changed(self, uid: UserId) -> None:
        if self.due:
            return  # no index to keep: the next search builds one from scratch
        self.changed.add(uid)
        if len(self.changed) > self.rebuild_after:
            self.due, self.changed = True, set()

    @rule(uid=st.sampled_from(PEOPLE), role=st.sampled_from(["vet", "admin"]))
    def join_or_change_role(self, uid: UserId, role: str) -> None:
        if uid not in self.members:
            self.members.add(uid)
            self._changed(uid)
        self.roles[uid] = role
        self.run(self.directory.put_membership(Membership(org_id=ORG, user_id=uid, role=role)))

    @rule(uid=st.sampled_from(PEOPLE))
    def leave(self, uid: UserId) -> None:
        if uid in self.members:
            self.members.discard(uid)
            self._changed(uid)
        self.run(self.directory.remove_membership(ORG, uid))

    @rule(
        uid=st.sampled_from(PEOPLE),
        name=names,
        email=emails,
        keep_name=st.booleans(),
        image=st.sampled_from([None, "https://img.example/a.png"]),
    )
    def rename(
        self, uid: UserId, name: str, email: str | None, keep_name: bool, image: str | None
    ) -> None:
        if keep_name:
            name = self.people[uid][0]
        if (name, email) != self.people[uid] and uid in self.members:
            self._changed(uid)
        self.people[uid] = (name, email)
        self.images[uid] = image
        self.run(self.directory.put_user(User(id=uid, name=name, email=email, image=image)))

    def _current(self, member: Any) -> None:
        """What a read returned for a member is what the directory was last told."""
        uid = member.user.id
        assert (member.user.name, member.user.email) == self.people[uid]
        assert member.user.image == self.images.get(uid)
        assert member.role == self.roles[uid]

    @rule(query=queries, limit=st.integers(1, 14), caller=st.sampled_from([None, *PEOPLE]))
    def search(self, query: str, limit: int, caller: UserId | None) -> None:
        parsed = SearchQuery.parse(query)
        builds = self.builds
        hits = self.run(self.directory.search_members(ORG, parsed, limit=limit, exclude=caller))
        current = {uid: self.people[uid] for uid in self.members}
        assert [m.user.id for m in hits] == naive(current, parsed, limit, caller)
        for member in hits:
            self._current(member)
        # The index is rebuilt only when many members changed, never for one change.
        rebuilt = bool(self.due and self.members)
        assert self.builds - builds == (1 if rebuilt else 0)
        if rebuilt:
            self.due = False

    @rule(limit=st.integers(1, 5))
    def page_through(self, limit: int) -> None:
        seen: list[UserId] = []
        after: MemberKey | None = None
        while True:
            page = self.run(self.directory.list_members(ORG, limit=limit, after=after))
            seen += [m.user.id for m in page.members]
            for member in page.members:
                self._current(member)
            if page.next_after is None:
                break
            after = page.next_after
        expected = sorted(self.members, key=lambda uid: (folded_name(self.people[uid][0]), uid))
        assert seen == expected


TestLiveDirectory = LiveDirectory.TestCase
TestLiveDirectory.settings = settings(settings(), stateful_step_count=40)
