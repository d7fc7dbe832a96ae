"""Org roles on removal (issue 19, finding 6): only an owner removes an owner, and an org
never loses its last owner or admin, whoever asks and in whatever order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from yc_chat.adapters.clock import FixedClock
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamState
from yc_chat.adapters.memory import InMemoryChannelLocks, InMemoryDirectory
from yc_chat.domain import errors, policies
from yc_chat.domain.model import Membership, Org, OrgId, User, UserId
from yc_chat.domain.policies import RemovalDecision
from yc_chat.domain.queries import MemberPage
from yc_chat.domain.usecases.offboarding import OffboardMember, RemoveOrgMember
from yc_chat.domain.usecases.org_roles import other_admin_remains

ORG = OrgId("org-1")
NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)
# Host roles are free-form strings: case and spaces vary, unknown roles are not admins.
ROLES = ("owner", "admin", "vet", "nurse", "receptionist", " Owner", "ADMIN ", "owners", "")


def _member(user: str, role: str) -> Membership:
    return Membership(org_id=ORG, user_id=UserId(user), role=role)


class _SlowDirectory(InMemoryDirectory):
    """A directory whose member list yields to other tasks, as a database round trip does."""

    async def list_members(self, *args: Any, **kwargs: Any) -> MemberPage:
        await asyncio.sleep(0)
        return await super().list_members(*args, **kwargs)


async def _org(
    roles: list[str], *, slow: bool = False
) -> tuple[InMemoryDirectory, RemoveOrgMember]:
    directory = _SlowDirectory() if slow else InMemoryDirectory()
    await directory.put_org(Org(id=ORG, name="Happy Paws"))
    for n, role in enumerate(roles):
        await directory.put_user(User(id=UserId(f"u{n}"), name=f"Person {n:03d}"))
        await directory.put_membership(_member(f"u{n}", role))
    offboard = OffboardMember(
        directory=directory,
        chat=FakeStreamChatProvider(StreamState(clock=lambda: NOW)),
        locks=InMemoryChannelLocks(),
        clock=FixedClock(NOW),
    )
    return directory, RemoveOrgMember(directory=directory, writer=directory, offboard=offboard)


async def _admins(directory: InMemoryDirectory, size: int) -> set[str]:
    found = await directory.get_memberships(ORG, [UserId(f"u{n}") for n in range(size)])
    return {uid for uid, m in found.items() if m.is_admin}


@settings(max_examples=150, deadline=None)
@given(
    roles=st.lists(st.sampled_from(ROLES), min_size=1, max_size=7),
    attempts=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=12),
)
def test_removals_follow_the_role_rules_and_never_leave_an_org_without_an_admin(
    roles: list[str], attempts: list[tuple[int, int]]
) -> None:
    async def run() -> None:
        directory, remove = await _org(roles)
        size = len(roles)
        had_admin = bool(await _admins(directory, size))
        for caller_n, target_n in attempts:
            caller, target = UserId(f"u{caller_n % size}"), UserId(f"u{target_n % size}")
            caller_m = await directory.get_membership(ORG, caller)
            target_m = await directory.get_membership(ORG, target)
            admins_before = await _admins(directory, size)
            try:
                await remove(caller=caller, org_id=ORG, user_id=target)
                outcome = "removed"
            except errors.ChatError as caught:
                outcome = caught.code
            # The model: what each attempt must come to, from the state before it.
            if caller_m is None:
                expected = errors.CODE_NOT_ORG_MEMBER_CALLER
            elif not caller_m.is_admin:
                expected = errors.CODE_ADMIN_ONLY
            elif target_m is None:
                expected = errors.CODE_MEMBER_NOT_FOUND
            elif target_m.is_owner and not caller_m.is_owner:
                expected = errors.CODE_OWNER_ONLY
            elif target_m.is_admin and admins_before == {target}:
                expected = errors.CODE_LAST_ADMIN
            else:
                expected = "removed"
            assert outcome == expected, (roles, caller, target)
            assert (await directory.get_membership(ORG, target) is None) == (
                outcome == "removed" or target_m is None
            )
            if had_admin:
                assert await _admins(directory, size), "the org lost its last admin"

    asyncio.run(run())


@given(caller=st.sampled_from(ROLES), target=st.sampled_from(ROLES), others=st.booleans())
def test_the_removal_decision_is_the_contracts_rule(caller: str, target: str, others: bool) -> None:
    decision = policies.member_removal_decision(
        _member("a", caller), _member("b", target), other_admin_remains=others
    )
    c, t = _member("a", caller), _member("b", target)
    if decision is RemovalDecision.ALLOW:
        assert c.is_admin
        assert c.is_owner or not t.is_owner  # only an owner removes an owner
        assert others or not t.is_admin  # never the last admin
    else:
        assert not (c.is_admin and (c.is_owner or not t.is_owner) and (others or not t.is_admin))


async def test_an_admin_racing_the_owner_never_removes_them() -> None:
    directory, remove = await _org(["admin", "owner", "vet"])
    # u1 is the owner, u0 an admin: they race to remove each other.
    results = await asyncio.gather(
        remove(caller=UserId("u0"), org_id=ORG, user_id=UserId("u1")),
        remove(caller=UserId("u1"), org_id=ORG, user_id=UserId("u0")),
        return_exceptions=True,
    )
    assert isinstance(results[0], errors.Forbidden)
    assert results[0].code == errors.CODE_OWNER_ONLY
    assert not isinstance(results[1], BaseException)
    assert await _admins(directory, 3) == {"u1"}


async def test_two_owners_removing_each_other_at_once_leave_one() -> None:
    # Both checks run while the other removal is in flight: without the org's admin lock,
    # each would see the other still there and both would go.
    directory, remove = await _org(["owner", "owner", "vet"], slow=True)
    results = await asyncio.gather(
        remove(caller=UserId("u0"), org_id=ORG, user_id=UserId("u1")),
        remove(caller=UserId("u1"), org_id=ORG, user_id=UserId("u0")),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, errors.ChatError)]
    assert [r.code for r in refused] == [errors.CODE_CHANGE_IN_PROGRESS]
    assert len(await _admins(directory, 3)) == 1


async def test_another_admin_is_found_beyond_the_first_page() -> None:
    # 1,200 members named so that the only other admin sorts last: three pages of 500.
    directory, _ = await _org(["admin"] + ["vet"] * 1_198 + ["owner"])
    assert await other_admin_remains(directory, ORG, UserId("u0"))
    assert await other_admin_remains(directory, ORG, UserId("u1199"))
    await directory.remove_membership(ORG, UserId("u1199"))
    assert not await other_admin_remains(directory, ORG, UserId("u0"))
