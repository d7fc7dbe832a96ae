"""Offboarding at the edges the mutation run found untested (docs/testing.md, "Mutation
testing"): which channels it takes, a channel that changes between the page and its step,
the DM's lock, the walk's place when a passed-over channel goes, the last call of a
budget, the call guard, and RemoveOrgMember's refusals, job and revocation time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest

from tests.support.world import World, build_world
from yc_chat.adapters.clock import FixedClock
from yc_chat.domain import errors
from yc_chat.domain.limits import OFFBOARD_PAGE
from yc_chat.domain.model import (
    SYSTEM_USER_ID,
    AppointmentId,
    Channel,
    ChannelId,
    ChatCategory,
    ChatStatus,
    Membership,
    OrgId,
    UserId,
)
from yc_chat.domain.usecases._locks import end_lock_key
from yc_chat.domain.usecases.offboarding import (
    MAX_STEP_CALLS,
    OffboardMember,
    RemoveOrgMember,
    _Calls,
    dm_closed_notice,
    left_org_notice,
    offboarding_takes,
    revocation_cutoff,
)

ORG = OrgId("org-1")
ADMIN, VET, VET2, NURSE = (UserId(x) for x in ("admin-1", "vet-1", "vet-2", "nurse-1"))
SMALLEST = MAX_STEP_CALLS + 2
GONE = left_org_notice("Dr. Ana Núñez", "Happy Paws")
CLOSED = dm_closed_notice("Dr. Ana Núñez", "Happy Paws")
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


def _offboard(world: World, budget: int = 60, *, chat: Any = None, clock: Any = None) -> Any:
    ports = world.runtime.ports
    return OffboardMember(
        directory=ports.directory, chat=chat or ports.chat, locks=ports.locks,
        clock=clock or world.clock, budget=budget,
    )  # fmt: skip


def _remover(world: World, offboard: Any = None, **overrides: Any) -> RemoveOrgMember:
    ports = world.runtime.ports
    values: dict[str, Any] = {
        "directory": ports.directory,
        "writer": ports.directory_writer,
        "offboard": offboard or _offboard(world),
        "jobs": ports.inbox,
        "clock": world.clock,
        **overrides,
    }
    return RemoveOrgMember(**values)


async def _group(world: World, name: str = "G") -> str:
    world.clock.advance(timedelta(seconds=1))
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name=name, member_ids=[VET, VET2]
    )
    return str(ref.channel_id)


async def _dm(world: World) -> str:
    world.clock.advance(timedelta(seconds=1))
    ref = await world.service.start_colleague_dm(
        caller=VET, org_id=ORG, member_ids=[VET, NURSE], created_by=VET
    )
    return str(ref.channel_id)


def _foreign(world: World, name: str) -> None:
    """A channel claiming the org that yc-chat did not create: the walk passes over it."""
    world.clock.advance(timedelta(seconds=1))
    world.state.upsert_users([{"id": uid, "name": uid} for uid in ("pet-1", VET, NURSE)])
    world.state.get_or_create_channel(
        "messaging", name, created_by_id="pet-1", data=FOREIGN_GROUP,
        members=["pet-1", "vet-1", "nurse-1"],
    )  # fmt: skip


def _channel(**fields: Any) -> Channel:
    values: dict[str, Any] = {
        "id": ChannelId("apt-chat-1"),
        "category": ChatCategory.CLIENT,
        "org_id": ORG,
        "members": frozenset({VET, UserId("owner-1")}),
        "status": ChatStatus.ACTIVE,
        "appointment_id": AppointmentId("apt-1"),
        "pet_owner_id": UserId("owner-1"),
        "created_by": VET,
        "frozen": False,
        **fields,
    }
    return Channel(**values)


# -- which channels it takes -----------------------------------------------------------------


def test_a_channel_whose_id_stream_would_refuse_is_never_taken() -> None:
    """Such as the `!members-` ids of distinct channels: yc-chat never makes one, so one that
    claims the org, even created by the system user, is not the org's."""
    for category in ChatCategory:
        forged = _channel(
            id=ChannelId("!members-abc"), category=category, provider_creator=SYSTEM_USER_ID
        )
        assert not offboarding_takes(forged)
    assert offboarding_takes(_channel(provider_creator=SYSTEM_USER_ID))


def test_an_appointment_chat_only_a_record_could_vouch_for_is_taken() -> None:
    """Under a configured system user, an appointment chat opened before it created
    channels (by the default system user, or with no creator Stream reports) is taken:
    taking a departing vet out of it gives nobody anything. Any other such channel is not."""
    bot = UserId("yc-bot")
    by_default = _channel(provider_creator=SYSTEM_USER_ID)
    no_creator = _channel(provider_creator=None)
    assert offboarding_takes(by_default, bot)
    assert offboarding_takes(no_creator, bot)
    assert offboarding_takes(no_creator)
    assert not offboarding_takes(_channel(provider_creator=None, appointment_id=None), bot)
    group = _channel(category=ChatCategory.GROUP, appointment_id=None)
    assert not offboarding_takes(attrs.evolve(group, provider_creator=SYSTEM_USER_ID), bot)
    assert offboarding_takes(attrs.evolve(group, provider_creator=bot), bot)


async def test_their_own_appointment_chat_as_a_pet_owner_stays(world: World) -> None:
    """owner-2 was never on the org's staff; offboarding them takes nothing of theirs."""
    opened = await world.service.open_appointment_chat(
        caller=UserId("owner-2"), appointment_id=AppointmentId("apt-2")
    )
    channel_id = str(opened.channel_id)
    owner = UserId("owner-2")
    assert owner in (await world.channel(channel_id)).members

    outcome = await _offboard(world)(org_id=ORG, user_id=owner)

    assert (outcome.appointment_chats_left, outcome.complete) == (0, True)
    assert owner in (await world.channel(channel_id)).members
    assert "change_members" not in world.chat.calls


async def test_only_the_orgs_channels_are_walked(world: World) -> None:
    """A person who leaves org-1 stays in org-2's group (they are still on its staff)."""
    await world.directory.put_membership(Membership(org_id=OrgId("org-2"), user_id=VET, role="vet"))
    ref = await world.service.create_group(
        caller=UserId("vet-x"), created_by=UserId("vet-x"), org_id=OrgId("org-2"), name="X",
        member_ids=[VET],
    )  # fmt: skip
    ours = await _group(world)
    await world.directory.remove_membership(ORG, VET)

    outcome = await _offboard(world)(org_id=ORG, user_id=VET)

    assert (outcome.groups_left, outcome.complete) == (1, True)
    assert VET not in (await world.channel(ours)).members
    assert VET in (await world.channel(ref.channel_id)).members
    assert GONE not in world.messages(str(ref.channel_id))


# -- a channel that changes between the page and its step ------------------------------------


class _Meanwhile:
    """The chat provider, where something happens to a channel just before its step reads it
    (a concurrent change, between the page and the lock)."""

    def __init__(self, inner: Any, happens: Any) -> None:
        self.inner = inner
        self.happens = happens

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get_channel(self, channel_id: ChannelId) -> Channel | None:
        if await self.happens(channel_id):
            return None  # deleted meanwhile
        return await self.inner.get_channel(channel_id)  # type: ignore[no-any-return]


@pytest.mark.parametrize("what", ["left", "deleted"])
@pytest.mark.parametrize("kind", ["group", "dm"])
async def test_a_channel_the_person_is_gone_from_by_its_step_is_passed_over(
    world: World, kind: str, what: str
) -> None:
    """No notice for someone already gone, no DM closed for it, no crash on a deleted one."""
    channel_id = await (_group(world) if kind == "group" else _dm(world))
    await world.directory.remove_membership(ORG, VET)
    before = world.messages(channel_id)

    async def happens(read: ChannelId) -> bool:
        if what == "left":
            await world.chat.inner.change_members(read, remove=frozenset({VET}))
        return what == "deleted"

    outcome = await _offboard(world, chat=_Meanwhile(world.chat, happens))(org_id=ORG, user_id=VET)

    assert (outcome.groups_left, outcome.dms_ended, outcome.complete) == (0, 0, True)
    assert world.messages(channel_id) == before
    assert (await world.channel(channel_id)).status is ChatStatus.ACTIVE


async def test_a_dm_being_ended_is_left_on_a_later_run(world: World) -> None:
    """The DM's step takes the lock every path that ends a chat takes."""
    dm = await _dm(world)
    group = await _group(world)
    key = end_lock_key(dm)
    locks, now = world.runtime.ports.locks, world.clock.now()
    assert await locks.acquire(key, owner="someone", until=now + timedelta(minutes=1), now=now)
    await world.directory.remove_membership(ORG, VET)
    offboard = _offboard(world)

    first = await offboard(org_id=ORG, user_id=VET)

    # The group behind the busy DM was left in this run, and counted in it.
    assert (first.dms_ended, first.groups_left, first.complete) == (0, 1, False)
    assert (await world.channel(dm)).status is ChatStatus.ACTIVE
    assert CLOSED not in world.messages(dm)
    # The group's step ran alongside; the place stops before the busy DM all the same.
    assert VET not in (await world.channel(group)).members
    await locks.release(key, owner="someone")
    second = await offboard(org_id=ORG, user_id=VET, resume=first.resume)
    assert (second.dms_ended, second.groups_left, second.complete) == (1, 0, True)
    assert world.messages(dm).count(CLOSED) == 1


# -- the walk's place and the budget's last call ---------------------------------------------


async def test_a_passed_over_channel_that_goes_before_the_next_run_skips_nothing(
    world: World,
) -> None:
    """The place is the last channel's creation time and a count from it, not a count from
    the start: a channel before it that leaves the list cannot shift the rest past it."""
    _foreign(world, "foreign-0")
    first_group = await _group(world, "First")
    last_group = await _group(world, "Last")
    await world.directory.remove_membership(ORG, VET)
    offboard = _offboard(world, SMALLEST)

    # Revoke, read, the first group's two calls; the last group's two do not fit.
    first = await offboard(org_id=ORG, user_id=VET)
    assert (first.groups_left, first.complete) == (1, False)
    # The foreign channel's owner removes the vet from it before the next run.
    await world.chat.inner.change_members(ChannelId("foreign-0"), remove=frozenset({VET}))
    second = await offboard(org_id=ORG, user_id=VET, resume=first.resume)

    assert (second.groups_left, second.complete) == (1, True)
    for group in (first_group, last_group):
        assert VET not in (await world.channel(group)).members


async def test_the_last_call_of_a_budget_still_reads_the_next_page(world: World) -> None:
    """A run with one call left reads on: the next page may hold only channels it passes
    over, and then the offboarding is complete."""
    dm = await _dm(world)
    for i in range(OFFBOARD_PAGE):  # the rest of a full first page, and one more
        _foreign(world, f"foreign-{i}")
    await world.directory.remove_membership(ORG, VET)

    # Revoke, read, the DM's three calls: one left, for the second page.
    outcome = await _offboard(world, SMALLEST + 1)(org_id=ORG, user_id=VET)

    assert (outcome.dms_ended, outcome.calls, outcome.complete) == (1, SMALLEST + 1, True)
    assert VET not in (await world.channel(dm)).members


def test_a_run_never_makes_more_calls_than_its_budget() -> None:
    calls = _Calls(3)
    for _ in range(3):
        calls.spend()
    assert calls.left() == 0
    with pytest.raises(errors.ProviderUnavailable) as refused:
        calls.spend()
    assert refused.value.message == "Offboarding ran out of its call budget"
    assert calls.spent == 3


# -- RemoveOrgMember ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["org_id", "user_id"])
async def test_a_bad_id_is_refused_naming_its_field(world: World, field: str) -> None:
    ids = {"org_id": ORG, "user_id": VET, field: " "}
    with pytest.raises(errors.InvalidInput) as refused:
        await _remover(world)(caller=ADMIN, **ids)
    assert refused.value.field == field
    assert [d.field for d in refused.value.details] == [field]
    assert await world.directory.get_membership(ORG, VET) is not None


async def test_a_directory_the_host_owns_is_not_written(world: World) -> None:
    group = await _group(world)
    with pytest.raises(errors.Forbidden) as refused:
        await _remover(world, writer=None)(caller=ADMIN, org_id=ORG, user_id=VET)
    assert refused.value.code == errors.CODE_DIRECTORY_READ_ONLY
    assert refused.value.message == (
        "The directory belongs to the host platform: remove members there"
    )
    assert await world.directory.get_membership(ORG, VET) is not None
    assert VET in (await world.channel(group)).members
    assert sum((await world.inbox.counts()).values()) == 0


async def test_without_a_job_store_the_removal_runs_once_and_records_nothing(
    world: World,
) -> None:
    group = await _group(world)
    outcome = await _remover(world, jobs=None)(caller=ADMIN, org_id=ORG, user_id=VET)
    assert (outcome.groups_left, outcome.complete) == (1, True)
    assert await world.directory.get_membership(ORG, VET) is None
    assert VET not in (await world.channel(group)).members
    assert sum((await world.inbox.counts()).values()) == 0


async def test_each_removal_keeps_a_job_of_its_own(world: World) -> None:
    """Removed, re-added, removed again: the second removal's job is not taken for a
    repeat of the first."""
    remove = _remover(world)
    await remove(caller=ADMIN, org_id=ORG, user_id=VET)
    await world.directory.put_membership(Membership(org_id=ORG, user_id=VET, role="vet"))
    await remove(caller=ADMIN, org_id=ORG, user_id=VET)
    assert sum((await world.inbox.counts()).values()) == 2


class _Cutoffs:
    """IssuedTokens that records each revocation's cut-off."""

    def __init__(self) -> None:
        self.revoked: list[tuple[UserId, datetime]] = []

    async def revoke(self, user_id: UserId, *, issued_before: datetime) -> None:
        self.revoked.append((user_id, issued_before))


async def test_tokens_are_revoked_as_of_the_removal_not_of_the_run(world: World) -> None:
    """The run may start seconds after the removal (a lock, the job, the directory): a
    token issued in between was issued to a non-member."""
    removed_at = world.clock.now()
    later = FixedClock(removed_at + timedelta(seconds=5))
    issued = _Cutoffs()
    ports = world.runtime.ports
    offboard = OffboardMember(
        directory=ports.directory, chat=ports.chat, locks=ports.locks, clock=later,
        issued=issued,  # type: ignore[arg-type]
    )  # fmt: skip
    await _remover(world, offboard)(caller=ADMIN, org_id=ORG, user_id=VET)
    assert issued.revoked == [(VET, revocation_cutoff(removed_at))]


async def test_finishing_a_stopped_offboarding_does_not_revoke_again(world: World) -> None:
    """Tokens were revoked at the removal; any issued since are left alone."""
    await _group(world)
    remove = _remover(world)
    await remove(caller=ADMIN, org_id=ORG, user_id=VET)
    revoked = world.state.user(VET)
    assert revoked is not None
    cutoff = revoked.revoke_tokens_issued_before
    world.clock.advance(timedelta(minutes=5))
    with pytest.raises(errors.NotFound):
        await remove(caller=ADMIN, org_id=ORG, user_id=VET)
    assert world.chat.calls["revoke_tokens"] == 1
    after = world.state.user(VET)
    assert after is not None and after.revoke_tokens_issued_before == cutoff
