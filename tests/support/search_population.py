"""Populations and queries for the search parity properties (the in-memory directory against
each indexed one): names that fold together, share prefixes, hold apostrophes or pattern
syntax, in one or two orgs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from hypothesis import strategies as st

from yc_chat.domain.model import Membership, Org, OrgId, User, UserId
from yc_chat.domain.queries import MemberKey, MemberPage
from yc_chat.domain.text import SearchQuery

ORGS = (OrgId("org-a"), OrgId("org-b"))
# Words that fold together (é/e, Ö/o, ß/ss), share prefixes, hold apostrophes or pattern
# syntax; names join one to three of them with separators, so matches on the first word
# (ranked first) and on later words or the email (ranked after) are both common.
WORDS = [
    "ana",
    "Anabel",
    "ÁNA",
    "anders",
    "Bob",
    "o'brien",
    "Öbi",
    "st.ar",
    "a*b",
    "[ab]",
    "$gt",
    "back\\",
    "Éve",
    "eve",
    "straße",
    "ab",
]
SEPARATORS = [" ", "  ", "-", ". ", " '"]
names = st.builds(
    lambda words, seps: (
        "".join(w + s for w, s in zip(words, seps, strict=False)).strip() or words[0]
    ),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    st.lists(st.sampled_from(SEPARATORS), min_size=3, max_size=3),
)
emails = st.none() | st.builds(lambda w: f"{w}@x.example", st.sampled_from(WORDS))
people = st.lists(
    st.tuples(names, emails, st.sets(st.sampled_from(ORGS), min_size=1, max_size=2)),
    min_size=1,
    max_size=14,
)
queries = (
    st.builds(lambda w, n: w[:n], st.sampled_from(WORDS), st.integers(2, 8))
    | st.builds(lambda a, b: f"{a} {b[:2]}", st.sampled_from(WORDS), st.sampled_from(WORDS))
    | st.text(st.sampled_from("abeEéÖoßñ'’. -*[]$^\\|("), min_size=2, max_size=5)
).filter(lambda q: len(q.strip()) >= 2)


async def populate(
    directories: Iterable[Any], population: list[tuple[str, str | None, set[OrgId]]]
) -> None:
    """The same orgs, people (`u00`, `u01`, ...) and memberships in each directory."""
    for directory in directories:
        for org in ORGS:
            await directory.put_org(Org(id=org, name=org))
        for i, (name, email, orgs) in enumerate(population):
            uid = UserId(f"u{i:02d}")
            await directory.put_user(User(id=uid, name=name, email=email))
            for org in sorted(orgs):
                await directory.put_membership(Membership(org_id=org, user_id=uid, role="vet"))


async def all_pages(
    read: Callable[[MemberKey | None], Awaitable[MemberPage | None]],
) -> list[list[str]]:
    """Every page's ids, following `next_after`; none when `read` answers nothing."""
    pages: list[list[str]] = []
    after: MemberKey | None = None
    for _ in range(100):  # more pages than any population here can fill: no endless paging
        page = await read(after)
        if page is None:
            return []
        pages.append([m.user.id for m in page.members])
        after = page.next_after
        if after is None:
            return pages
    raise AssertionError(f"paging never ended: {pages[-3:]}")


def listing(directory: Any, org: OrgId, page_size: int) -> Callable[[MemberKey | None], Any]:
    """`all_pages`' reader for a directory's own member pages."""
    return lambda after: directory.list_members(org, limit=page_size, after=after)


async def assert_same_answers(
    memory: Any, other: Any, query: SearchQuery, limit: int, page_size: int, caller: UserId
) -> None:
    """`other` searches and pages every org exactly as the in-memory reference does."""
    for org in ORGS:
        for exclude in (None, caller):
            expected = await memory.search_members(org, query, limit=limit, exclude=exclude)
            got = await other.search_members(org, query, limit=limit, exclude=exclude)
            assert [m.user.id for m in got] == [m.user.id for m in expected]
            assert [m.role for m in got] == [m.role for m in expected]
        reference = await all_pages(listing(memory, org, page_size))
        assert await all_pages(listing(other, org, page_size)) == reference
