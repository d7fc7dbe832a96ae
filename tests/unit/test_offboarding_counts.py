"""What offboarding reports it did: every channel it took the person out of is counted once,
in the run that did it, also when that run stops at a channel a concurrent change holds
(found by mutation testing: the channels after the busy one in the same batch were left
but not counted, and, having left the query, no later run counted them either)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.world import World, build_world
from yc_chat.domain import errors
from yc_chat.domain.inbox import InboxState
from yc_chat.domain.model import AppointmentId, ChatCategory, OrgId, UserId
from yc_chat.domain.usecases._locks import end_lock_key, members_lock_key
from yc_chat.domain.usecases.offboarding import (
    MAX_STEP_CALLS,
    OffboardMember,
    OffboardOutcome,
    left_org_notice,
)

ORG = OrgId("org-1")
ADMIN, VET, NURSE = (UserId(x) for x in ("admin-1", "vet-1", "nurse-1"))
GONE = left_org_notice("Dr. Ana Núñez", "Happy Paws")
OTHER = "another change"


@pytest.fixture
async def world() -> World:
    return await build_world()


def _offboard(world: World, budget: int = 60, *, chat: Any = None) -> OffboardMember:
    ports = world.runtime.ports
    return OffboardMember(
        directory=ports.directory, chat=chat or ports.chat, locks=ports.locks,
        clock=world.clock, budget=budget,
    )  # fmt: skip


async def _group(world: World, name: str) -> str:
    world.clock.advance(timedelta(seconds=1))
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name=name, member_ids=[VET]
    )
    return str(ref.channel_id)


async def _dm(world: World, other: str) -> str:
    world.clock.advance(timedelta(seconds=1))
    ref = await world.service.start_colleague_dm(
        caller=VET, org_id=ORG, member_ids=[VET, UserId(other)], created_by=VET
    )
    return str(ref.channel_id)


async def _hold(world: World, key: str) -> None:
    """Another change (a member edit, an ending) holds the channel's lock for an hour."""
    now = world.clock.now()
    locks = world.runtime.ports.locks
    assert await locks.acquire(key, owner=OTHER, until=now + timedelta(hours=1), now=now)


def _counts(outcome: OffboardOutcome) -> tuple[int, int, int]:
    return (outcome.groups_left, outcome.dms_ended, outcome.appointment_chats_left)


async def test_channels_left_after_a_busy_group_in_the_same_batch_are_counted(
    world: World,
) -> None:
    busy, later = await _group(world, "Busy"), await _group(world, "Later")
    dm = await _dm(world, "nurse-1")
    await _hold(world, members_lock_key(busy))
    await world.directory.remove_membership(ORG, VET)
    offboard = _offboard(world)

    first = await offboard(org_id=ORG, user_id=VET)

    # The later group and the DM were left in this run: it says so.
    assert VET not in (await world.channel(later)).members
    assert VET not in (await world.channel(dm)).members
    assert VET in (await world.channel(busy)).members
    assert _counts(first) == (1, 1, 0) and first.changed_anything
    assert not first.complete

    await world.runtime.ports.locks.release(members_lock_key(busy), owner=OTHER)
    second = await offboard(org_id=ORG, user_id=VET, resume=first.resume)

    # The busy group is the only one left to count; the others are not counted again.
    assert _counts(second) == (1, 0, 0) and second.complete
    assert world.messages(busy).count(GONE) == 1
    assert world.messages(later).count(GONE) == 1


async def test_a_dm_left_after_a_busy_dm_is_counted(world: World) -> None:
    busy, later = await _dm(world, "nurse-1"), await _dm(world, "vet-2")
    await _hold(world, end_lock_key(busy))
    await world.directory.remove_membership(ORG, VET)

    first = await _offboard(world)(org_id=ORG, user_id=VET)

    assert _counts(first) == (0, 1, 0) and not first.complete
    assert VET not in (await world.channel(later)).members


async def test_the_removal_reports_what_it_did_behind_a_busy_group(world: World) -> None:
    """The library call behind DELETE /api/orgs/{orgId}/members/{userId} (RemoveOrgMember):
    its outcome, and the worker's job that finishes the rest."""
    busy, later = await _group(world, "Busy"), await _group(world, "Later")
    dm = await _dm(world, "nurse-1")
    await _hold(world, members_lock_key(busy))

    outcome = await world.service.remove_org_member(caller=ADMIN, org_id=ORG, user_id=VET)

    assert _counts(outcome) == (1, 1, 0) and not outcome.complete
    assert VET not in (await world.channel(later)).members
    assert VET not in (await world.channel(dm)).members

    await world.runtime.ports.locks.release(members_lock_key(busy), owner=OTHER)
    assert await world.drain() == 1
    assert VET not in (await world.channel(busy)).members
    assert world.messages(busy).count(GONE) == 1
    assert (await world.inbox.counts()).get(InboxState.DONE) == 1


async def test_a_job_run_that_left_a_channel_behind_a_busy_one_made_progress(
    world: World,
) -> None:
    """Its place did not move, but it took the person out of a channel: the job goes on
    (attempts reset), not back off as if stuck on the busy channel."""
    busy, later = await _group(world, "Busy"), await _group(world, "Later")
    await _hold(world, members_lock_key(busy))
    await _hold(world, members_lock_key(later))
    await world.service.remove_org_member(caller=ADMIN, org_id=ORG, user_id=VET)
    [first] = await world.service.process_inbox_events()
    assert first.result == "continued"  # its first run revokes the tokens again
    await world.runtime.ports.locks.release(members_lock_key(later), owner=OTHER)
    world.clock.advance(timedelta(minutes=1))

    [second] = await world.service.process_inbox_events()

    assert VET not in (await world.channel(later)).members
    assert second.result == "continued", second.reason
    stored = await world.inbox.get(second.event_id)
    assert stored is not None and stored.attempts == 0
    # Still stuck on the busy group, with nothing else to do: that is a retry.
    world.clock.advance(timedelta(minutes=1))
    [third] = await world.service.process_inbox_events()
    assert third.result == "retry"


# -- the property: what the runs report is what they did ----------------------------------


class _FailingAt:
    """The chat provider, failing (as in an outage) at one given call of the run."""

    def __init__(self, inner: Any, fail_at: int | None) -> None:
        self.inner = inner
        self.fail_at = fail_at
        self.made = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.made += 1
            if self.made == self.fail_at:
                raise errors.ProviderUnavailable("Stream is down")
            return await method(*args, **kwargs)

        return call


KINDS = st.lists(st.sampled_from(["group", "dm", "apt"]), min_size=1, max_size=8)
# A DM with each of these is a new one; a repeated pair is the same DM, as is a repeated
# appointment's chat (the vet is vet-1 in each).
PARTNERS = ("nurse-1", "vet-2", "admin-1", "owner-org")
APPOINTMENTS = (("apt-1", "owner-1"), ("apt-soon", "pet-1"), ("apt-later", "pet-1"))
# Runs that fail part-way, at most: the job runs again after each.
FAILURES = 3


@given(
    kinds=KINDS,
    data=st.data(),
    budget=st.integers(min_value=MAX_STEP_CALLS + 2, max_value=20),
)
def test_every_run_reports_exactly_the_channels_it_took_the_person_out_of(
    kinds: list[str], data: st.DataObject, budget: int
) -> None:
    """Runs over channels some of which are busy for a while, with outages in some runs:
    each run that completes reports exactly the channels it took the person out of, so
    the runs' totals never count one twice, and equal every channel left when no run
    failed part-way (a failed run reports nothing: its channels are never counted)."""
    asyncio.run(_runs(kinds, data, budget))


async def _channel_of(world: World, kind: str, n: int) -> tuple[str, ChatCategory]:
    if kind == "group":
        return await _group(world, f"G{n}"), ChatCategory.GROUP
    if kind == "dm":
        return await _dm(world, PARTNERS[n % len(PARTNERS)]), ChatCategory.COLLEAGUE
    world.clock.advance(timedelta(seconds=1))
    appointment, owner = APPOINTMENTS[n % len(APPOINTMENTS)]
    opened = await world.service.open_appointment_chat(
        caller=UserId(owner), appointment_id=AppointmentId(appointment)
    )
    return str(opened.channel_id), ChatCategory.CLIENT


async def _runs(kinds: list[str], data: st.DataObject, budget: int) -> None:
    world = await build_world()
    channels = dict([await _channel_of(world, kind, n) for n, kind in enumerate(kinds)])
    locks = world.runtime.ports.locks
    # Appointment chats take no lock: only groups and DMs can be busy.
    lockable = sorted(c for c, category in channels.items() if category is not ChatCategory.CLIENT)
    busy = data.draw(
        st.sets(st.sampled_from(lockable)) if lockable else st.just(set()), label="busy"
    )
    keys = {
        cid: members_lock_key(cid) if channels[cid] is ChatCategory.GROUP else end_lock_key(cid)
        for cid in busy
    }
    for key in keys.values():
        await _hold(world, key)
    await world.directory.remove_membership(ORG, VET)
    reported = dict.fromkeys(ChatCategory, 0)
    failures = 0
    resume = None
    stuck = False
    for _ in range(60):
        # Some runs find a busy channel freed first; a run stuck on one always does.
        if keys and (stuck or data.draw(st.booleans(), label="free one")):
            freed = data.draw(st.sampled_from(sorted(keys)), label="freed")
            await locks.release(keys.pop(freed), owner=OTHER)
        fail_at = None
        if failures < FAILURES:
            calls = st.integers(min_value=1, max_value=budget)
            fail_at = data.draw(st.none() | calls, label="fail at")
        before = {cid: VET in (await world.channel(cid)).members for cid in channels}
        offboard = _offboard(world, budget, chat=_FailingAt(world.runtime.ports.chat, fail_at))
        try:
            outcome = await offboard(org_id=ORG, user_id=VET, resume=resume)
        except errors.ProviderUnavailable:
            failures += 1
            # The failed run's other steps finish on their own (gather does not cancel
            # them); the next run starts after them, as a job retried later does.
            for _ in range(20):
                await asyncio.sleep(0)
            continue
        left_now = dict.fromkeys(ChatCategory, 0)
        for cid, category in channels.items():
            if before[cid] and VET not in (await world.channel(cid)).members:
                left_now[category] += 1
        assert _counts(outcome) == (
            left_now[ChatCategory.GROUP],
            left_now[ChatCategory.COLLEAGUE],
            left_now[ChatCategory.CLIENT],
        )
        for category, count in left_now.items():
            reported[category] += count
        stuck = outcome.resume == resume and not outcome.changed_anything
        resume = outcome.resume
        if outcome.complete:
            break
    assert resume is None and not keys
    for cid in channels:
        assert VET not in (await world.channel(cid)).members
    expected = {c: sum(k is c for k in channels.values()) for c in ChatCategory}
    if failures:
        assert all(reported[c] <= expected[c] for c in ChatCategory)
    else:
        assert reported == expected
