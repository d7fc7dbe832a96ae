"""Offboarding's call budget at its edges, its walk over several pages, a person the
directory no longer knows, and the rule under a configured system user (surviving mutants
of `domain/usecases/offboarding.py`, docs/testing.md, "Mutation testing")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.demo import NOW
from tests.support.world import World, build_system_user_world, build_world
from yc_chat.adapters.clock import FixedClock
from yc_chat.domain import errors
from yc_chat.domain.limits import OFFBOARD_PAGE
from yc_chat.domain.model import SYSTEM_USER_ID, ChatStatus, OrgId, UserId
from yc_chat.domain.usecases.offboarding import (
    MAX_STEP_CALLS,
    OffboardMember,
    dm_closed_notice,
    left_org_notice,
)

ORG = OrgId("org-1")
ADMIN, VET, VET2, NURSE = (UserId(x) for x in ("admin-1", "vet-1", "vet-2", "nurse-1"))
# The smallest budget a run may have: revoke tokens, read a page, the dearest step.
SMALLEST = MAX_STEP_CALLS + 2

FOREIGN_GROUP: dict[str, Any] = {
    "chatCategory": "group",
    "orgId": "org-1",
    "isGroup": True,
    "status": "active",
    "name": "Happy Paws: all staff (official)",
}


@pytest.fixture
async def world() -> World:
    return await build_world()


def _offboard(world: World, budget: int) -> OffboardMember:
    ports = world.runtime.ports
    return OffboardMember(
        directory=ports.directory, chat=ports.chat, locks=ports.locks, clock=world.clock,
        budget=budget,
    )  # fmt: skip


async def _group(world: World, name: str) -> str:
    """A group of the nurse's with the vet in it, created a second after the last one."""
    world.clock.advance(timedelta(seconds=1))
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name=name, member_ids=[VET, VET2]
    )
    return str(ref.channel_id)


def test_a_budget_below_one_step_after_revoking_and_reading_is_refused(world: World) -> None:
    with pytest.raises(ValueError):
        _offboard(world, SMALLEST - 1)
    assert _offboard(world, SMALLEST).budget == SMALLEST


async def test_a_step_that_fits_the_budget_exactly_is_taken_and_the_next_is_left(
    world: World,
) -> None:
    world.clock.advance(timedelta(seconds=1))
    dm = await world.service.start_colleague_dm(
        caller=VET, org_id=ORG, member_ids=[VET, NURSE], created_by=VET
    )
    group = await _group(world, "Later")
    await world.directory.remove_membership(ORG, VET)
    offboard = _offboard(world, SMALLEST)

    first = await offboard(org_id=ORG, user_id=VET)

    # Revoke, read, then the DM's three calls: exactly the budget; the group waits.
    assert (first.dms_ended, first.groups_left, first.calls) == (1, 0, SMALLEST)
    assert not first.complete and first.resume is not None
    assert (await world.channel(dm.channel_id)).members == {NURSE}
    assert VET in (await world.channel(group)).members

    second = await offboard(org_id=ORG, user_id=VET, resume=first.resume)

    # No second revocation: a read and the group's two calls.
    assert (second.dms_ended, second.groups_left, second.calls) == (0, 1, 3)
    assert second.complete
    assert world.chat.calls["revoke_tokens"] == 1
    assert (await world.channel(group)).members == {NURSE, VET2}


async def test_a_budget_spent_exactly_at_the_end_of_a_full_page_resumes_on_the_next(
    world: World,
) -> None:
    groups = [await _group(world, f"G{i}") for i in range(OFFBOARD_PAGE + 1)]
    await world.directory.remove_membership(ORG, VET)
    # Revoke, read, and every group of the first page: nothing left for another read.
    offboard = _offboard(world, 2 + 2 * OFFBOARD_PAGE)

    first = await offboard(org_id=ORG, user_id=VET)

    assert (first.groups_left, first.calls, first.complete) == (
        OFFBOARD_PAGE,
        offboard.budget,
        False,
    )
    assert VET in (await world.channel(groups[-1])).members
    second = await offboard(org_id=ORG, user_id=VET, resume=first.resume)
    assert (second.groups_left, second.calls, second.complete) == (1, 3, True)
    for group in groups:
        assert (await world.channel(group)).members == {NURSE, VET2}


async def test_the_walk_passes_over_a_full_page_of_channels_it_does_not_take(
    world: World,
) -> None:
    # More channels than a page that claim the org but that yc-chat did not create: each
    # stays in the vet's channel list, so the cursor must count them to reach the group.
    world.state.upsert_users([{"id": uid, "name": uid} for uid in ("pet-1", VET, NURSE)])
    for i in range(OFFBOARD_PAGE + 1):
        world.clock.advance(timedelta(seconds=1))
        world.state.get_or_create_channel(
            "messaging", f"foreign-{i}", created_by_id="pet-1", data=FOREIGN_GROUP,
            members=["pet-1", "vet-1", "nurse-1"],
        )  # fmt: skip
    group = await _group(world, "Ours")
    await world.directory.remove_membership(ORG, VET)

    outcome = await _offboard(world, SMALLEST)(org_id=ORG, user_id=VET)

    # Revoke, two reads, and the group's two calls, in one run of the smallest budget.
    assert (outcome.groups_left, outcome.calls, outcome.complete) == (1, 5, True)
    assert (await world.channel(group)).members == {NURSE, VET2}
    foreign = world.state.channel("messaging", "foreign-0")
    assert foreign is not None and "vet-1" in {m.user_id for m in foreign.members}


async def test_a_person_the_directory_no_longer_knows_is_named_by_id(world: World) -> None:
    ghost = UserId("ghost-1")
    group = await _group(world, "G")
    world.state.upsert_users([{"id": ghost, "name": "Ghost"}])
    await world.chat.inner.change_members(group, add=frozenset({ghost}))

    outcome = await _offboard(world, SMALLEST)(org_id=ORG, user_id=ghost)

    assert (outcome.groups_left, outcome.complete) == (1, True)
    notice = left_org_notice("ghost-1", "Happy Paws")
    assert world.message_rows(group)[-1] == ("system", "system", notice)


async def test_the_person_must_have_left_the_org_first(world: World) -> None:
    group = await _group(world, "G")
    with pytest.raises(errors.Conflict) as refused:
        await _offboard(world, SMALLEST)(org_id=ORG, user_id=VET)
    assert refused.value.code == errors.CODE_STILL_ORG_MEMBER
    assert VET in (await world.channel(group)).members
    assert world.chat.calls["revoke_tokens"] == 0


async def test_offboarding_under_a_configured_system_user() -> None:
    runtime, state = await build_system_user_world("yc-bot", FixedClock(NOW))
    service = runtime.service
    group = await service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET, VET2]
    )
    dm = await service.start_colleague_dm(
        caller=VET, org_id=ORG, member_ids=[VET, NURSE], created_by=VET
    )
    # Someone registered the default system user's id and made a channel claiming the org.
    state.upsert_users([{"id": str(SYSTEM_USER_ID), "name": "x"}])
    state.get_or_create_channel(
        "messaging", "forged", created_by_id=str(SYSTEM_USER_ID), data=FOREIGN_GROUP,
        members=["vet-1", "nurse-1"],
    )  # fmt: skip

    outcome = await service.remove_org_member(caller=ADMIN, org_id=ORG, user_id=VET)

    assert (outcome.groups_left, outcome.dms_ended, outcome.complete) == (1, 1, True)
    ours = state.channel("messaging", group.channel_id)
    assert ours is not None and {m.user_id for m in ours.members} == {"nurse-1", "vet-2"}
    gone = left_org_notice("Dr. Ana Núñez", "Happy Paws")
    assert [(m.user_id, m.text) for m in state.messages("messaging", group.channel_id)] == [
        ("yc-bot", gone)
    ]
    closed = await runtime.ports.chat.get_channel(dm.channel_id)
    assert closed is not None and closed.status is ChatStatus.ENDED
    assert state.messages("messaging", dm.channel_id)[-1].text == dm_closed_notice(
        "Dr. Ana Núñez", "Happy Paws"
    )
    # The forged channel is nobody's to take: the vet stays in it, no message went in.
    forged = state.channel("messaging", "forged")
    assert forged is not None and {m.user_id for m in forged.members} == {"vet-1", "nurse-1"}
    assert state.messages("messaging", "forged") == ()
