"""A member page as PostgreSQL writes it: the JSON of each membership (`listed`, computed by
the server) joined by the page's statement is, byte for byte, what the HTTP layer encodes
from the same members through msgspec, for any text a profile can hold (quotes,
backslashes, control characters, non-ASCII, line separators); and it reads back as the very
members, kinds and cursors the directory's own page gives.
"""

from __future__ import annotations

import asyncio

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import servers
from tests.support.postgres import postgres_stores
from yc_chat.domain.model import Membership, Org, OrgId, User, UserId, UserKind
from yc_chat.domain.queries import ListedMembers, MemberKey
from yc_chat.domain.usecases import MembersPage
from yc_chat.entrypoints.http.controllers.orgs import member_out, members_body
from yc_chat.entrypoints.http.schemas import MembersResponse

ORG = OrgId("org-1")
# Anything PostgreSQL's text holds: no NUL, no lone surrogate.
TEXT = st.characters(codec="utf-8", exclude_characters="\x00")
ODD = st.sampled_from(['"', "\\", "\x01", "\x1f", "\x7f", "\n", "\t", "\u2028", "é", "/", "'"])
texts = st.text(TEXT | ODD, min_size=1, max_size=12)
profiles = st.lists(
    st.tuples(texts, st.none() | texts, st.none() | texts, texts, st.sampled_from(UserKind)),
    min_size=1,
    max_size=6,
)


async def _check(population: list[tuple[str, str | None, str | None, str, UserKind]]) -> None:
    async with postgres_stores() as stores:
        directory = stores.directory
        await directory.put_org(Org(id=ORG, name="Clinic"))
        for i, (name, email, image, role, kind) in enumerate(population):
            user = User(id=UserId(f"u{i:02d}"), name=name, kind=kind, email=email, image=image)
            await directory.put_user(user)
            await directory.put_membership(Membership(org_id=ORG, user_id=user.id, role=role))
        after: MemberKey | None = None
        for _ in range(len(population)):
            view = await stores.member_reads.page_as(UserId("u00"), ORG, limit=2, after=after)
            page = view.answer
            assert page is not None and isinstance(page.members, ListedMembers)
            expected = await directory.list_members(ORG, limit=2, after=after)
            assert page == expected
            assert list(page.members) == list(expected.members)
            encoded = MembersResponse(
                members=[member_out(member) for member in expected.members], next_cursor="c"
            )
            body = members_body(MembersPage(members=page.members, next_cursor="c"))
            assert body == msgspec.json.encode(encoded)
            after = page.next_after
            if after is None:
                return
        raise AssertionError("paging never ended")


@settings(max_examples=30)
@given(profiles)
def test_a_page_written_by_postgres_is_what_msgspec_writes(
    population: list[tuple[str, str | None, str | None, str, UserKind]],
) -> None:
    servers.postgres_url()  # skips (fails under CI) before Hypothesis starts, if no server
    asyncio.run(_check(population))
