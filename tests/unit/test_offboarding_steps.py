"""Offboarding's steps in each kind of staff chat, from the use cases down (the fast suites
never had the person in a group: every clause of leaving one was a surviving mutant of
`domain/usecases/offboarding.py`, docs/testing.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.world import World, build_world
from yc_chat.domain import errors
from yc_chat.domain.events import MemberLeftOrg
from yc_chat.domain.model import AppointmentId, ChatStatus, OrgId, UserId
from yc_chat.domain.usecases._locks import members_lock_key
from yc_chat.domain.usecases.offboarding import (
    dm_closed_notice,
    inbox_payload_decoder,
    left_org_notice,
    revocation_cutoff,
)

ORG = OrgId("org-1")
ADMIN, VET, VET2, NURSE, OWNER = (
    UserId(x) for x in ("admin-1", "vet-1", "vet-2", "nurse-1", "owner-1")
)
GONE = left_org_notice("Dr. Ana Núñez", "Happy Paws")


@pytest.fixture
async def world() -> World:
    return await build_world()


async def test_an_offboarded_member_leaves_every_group_and_dm_of_the_org(world: World) -> None:
    svc = world.service
    group = await svc.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET, VET2]
    )
    ended = await svc.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="Old", member_ids=[VET, VET2]
    )
    await svc.end_chat(caller=NURSE, channel_id=ended.channel_id)
    without = await svc.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="Not theirs", member_ids=[VET2]
    )
    dm = await svc.start_colleague_dm(
        caller=VET, org_id=ORG, member_ids=[VET, NURSE], created_by=VET
    )
    appointment = await svc.open_appointment_chat(
        caller=OWNER, appointment_id=AppointmentId("apt-1")
    )
    before_ended = world.message_rows(ended.channel_id)
    before_without = world.message_rows(without.channel_id)

    outcome = await svc.remove_org_member(caller=ADMIN, org_id=ORG, user_id=VET)

    assert (outcome.groups_left, outcome.dms_ended, outcome.resume) == (2, 1, None)
    # Their staff seat in the appointment's chat goes; the pet owner stays.
    assert outcome.appointment_chats_left == 1
    assert (await world.channel(appointment.channel_id)).members == {OWNER}
    assert (await world.channel(group.channel_id)).members == {NURSE, VET2}
    assert world.message_rows(group.channel_id)[-1] == ("system", "system", GONE)
    # An ended group is frozen: the member still goes out, no message goes in.
    assert (await world.channel(ended.channel_id)).members == {NURSE, VET2}
    assert world.message_rows(ended.channel_id) == before_ended
    # A group they are not in is left as it is.
    assert (await world.channel(without.channel_id)).members == {NURSE, VET2}
    assert world.message_rows(without.channel_id) == before_without
    closed = await world.channel(dm.channel_id)
    assert closed.status is ChatStatus.ENDED and closed.members == {NURSE}
    closing = dm_closed_notice("Dr. Ana Núñez", "Happy Paws")
    assert world.message_rows(dm.channel_id)[-1] == ("system", "system", closing)


async def test_a_group_whose_members_are_being_changed_is_left_on_a_later_run(
    world: World,
) -> None:
    svc = world.service
    group = await svc.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET, VET2]
    )
    key = members_lock_key(group.channel_id)
    locks, now = world.runtime.ports.locks, world.clock.now()
    assert await locks.acquire(key, owner="someone", until=now + timedelta(minutes=1), now=now)
    first = await svc.remove_org_member(caller=ADMIN, org_id=ORG, user_id=VET)
    assert first.groups_left == 0 and first.resume is not None
    assert VET in (await world.channel(group.channel_id)).members
    await locks.release(key, owner="someone")
    second = await svc.remove_org_member(caller=ADMIN, org_id=ORG, user_id=VET)
    assert (second.groups_left, second.resume) == (1, None)
    assert (await world.channel(group.channel_id)).members == {NURSE, VET2}
    assert [row for row in world.message_rows(group.channel_id) if row[2] == GONE] == [
        ("system", "system", GONE)
    ]


async def test_the_departing_persons_tokens_are_revoked_and_the_calls_are_counted(
    world: World,
) -> None:
    svc = world.service
    await svc.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET, VET2]
    )
    await svc.start_colleague_dm(caller=VET, org_id=ORG, member_ids=[VET, NURSE], created_by=VET)
    outcome = await svc.remove_org_member(caller=ADMIN, org_id=ORG, user_id=VET)
    # Stream refuses the person's tokens from the end of the removal's second; nobody else's.
    gone, stays = world.state.user(VET), world.state.user(VET2)
    assert gone is not None and gone.revoke_tokens_issued_before is not None
    assert stays is not None and stays.revoke_tokens_issued_before is None
    assert world.chat.calls["revoke_tokens"] == 1
    # One revocation, one page, a group (read, leave) and a DM (read, end, leave).
    assert outcome.calls == 1 + 1 + 2 + 3


def test_the_revocation_cutoff_is_the_end_of_the_removals_second() -> None:
    removed = datetime(2026, 12, 7, 9, 30, 15, 500_000, tzinfo=UTC)
    assert revocation_cutoff(removed) == datetime(2026, 12, 7, 9, 30, 16, tzinfo=UTC)
    on_the_second = datetime(2026, 12, 7, 9, 30, 15, tzinfo=UTC)
    assert revocation_cutoff(on_the_second) == datetime(2026, 12, 7, 9, 30, 16, tzinfo=UTC)


async def test_the_removal_is_kept_as_a_job_before_the_membership_goes(world: World) -> None:
    await world.service.remove_org_member(caller=ADMIN, org_id=ORG, user_id=VET)
    now = world.clock.now()
    later = now + timedelta(days=1)  # whenever it falls due
    until = later + timedelta(minutes=1)
    leased = await world.inbox.lease(now=later, until=until, limit=10, lease_id="look")
    [job] = [event for event in leased if event.type == "yc.offboard"]
    assert job.received_at == now
    decoded = inbox_payload_decoder(lambda _: pytest.fail("not a job"))(job.payload)
    assert decoded == MemberLeftOrg(org_id=ORG, user_id=VET, removed_at=now, resume=None)


async def test_only_an_admin_removes_and_nobody_is_removed_twice(world: World) -> None:
    svc = world.service
    with pytest.raises(errors.Forbidden) as refused:
        await svc.remove_org_member(caller=NURSE, org_id=ORG, user_id=VET)
    assert (refused.value.code, refused.value.message) == (
        "admin_only", "Only org admins can remove members"
    )  # fmt: skip
    await svc.remove_org_member(caller=ADMIN, org_id=ORG, user_id=VET)
    with pytest.raises(errors.NotFound) as missing:
        await svc.remove_org_member(caller=ADMIN, org_id=ORG, user_id=VET)
    assert (missing.value.code, missing.value.message) == (
        "member_not_found", "Not a member of this organisation"
    )  # fmt: skip


async def test_a_current_member_is_never_offboarded(world: World) -> None:
    # A late job, or a host calling too early: the person is (again) in the org.
    with pytest.raises(errors.Conflict) as refused:
        await world.service.offboard_member(org_id=ORG, user_id=VET)
    assert (refused.value.code, refused.value.message) == (
        "still_org_member",
        "The person is still a member of this organisation: remove the membership first",
    )
    assert world.chat.calls["revoke_tokens"] == 0
    with pytest.raises(errors.InvalidInput) as invalid:
        await world.service.offboard_member(org_id=OrgId(""), user_id=UserId(""))
    assert [p.field for p in invalid.value.details] == ["org_id", "user_id"]  # type: ignore[union-attr]
