"""Provider calls per use case, counted through the ChatProvider spy and pinned (issue 15).

Targets: a write costs at most 2 Stream calls plus the profile upserts actually needed; a
read costs 1; an idempotent repeat at most 1. `issue_user_token` and `client_access` are
answered locally (signing, configuration) by every adapter and are no Stream request; every
other port method is one. (One port call is one request to the fake Stream; the real
adapter's `change_members` sends an add and a remove as two requests when a change does both.)
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import attrs
import pytest

from tests.support.world import World, build_world
from yc_chat.domain.model import AppointmentId, ChannelId, ChatStatus, OrgId, UserId

LOCAL = frozenset({"issue_user_token", "client_access"})

SOON = AppointmentId("apt-soon")
ORG = OrgId("org-1")
PET, VET, VET2, NURSE, ADMIN = (
    UserId(x) for x in ("pet-1", "vet-1", "vet-2", "nurse-1", "admin-1")
)


def stream_calls(world: World) -> Counter[str]:
    """The port calls since the last count that are Stream requests; resets the count."""
    remote = Counter({name: n for name, n in world.chat.calls.items() if name not in LOCAL})
    world.chat.calls.clear()
    return remote


def local_calls(world: World) -> Counter[str]:
    return Counter({name: n for name, n in world.chat.calls.items() if name in LOCAL})


@pytest.fixture
async def world() -> World:
    built = await build_world()
    built.chat.calls.clear()  # loading the fixture talks to no provider, but start at zero
    return built


async def group(world: World) -> ChannelId:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="Night shift", member_ids=[VET]
    )
    return ref.channel_id


async def test_a_token_costs_one_upsert_then_no_stream_call(world: World) -> None:
    first = await world.service.connect_user(caller=PET, user_id=PET)
    assert local_calls(world) == Counter({"issue_user_token": 1, "client_access": 1})
    assert stream_calls(world) == Counter({"upsert_profiles": 1})

    again = await world.service.connect_user(caller=PET, user_id=PET)
    # The repeat: the kept token again (issue 22), not even a signing.
    assert local_calls(world) == Counter({"client_access": 1})
    assert stream_calls(world) == Counter()
    assert again.token == first.token and again.expires_at == first.expires_at


async def test_an_appointment_chat_costs_two_then_one(world: World) -> None:
    await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    assert stream_calls(world) == Counter({"upsert_profiles": 1, "open_channel": 1})

    await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    await world.service.open_appointment_chat(caller=VET, appointment_id=SOON)
    assert stream_calls(world) == Counter({"open_channel": 2})  # one per repeated open


async def test_a_group_costs_its_create_plus_the_upserts_needed(world: World) -> None:
    await group(world)
    assert stream_calls(world) == Counter({"upsert_profiles": 1, "open_channel": 1})

    # A client-chosen id is checked first; the members' profiles are already there.
    await world.service.create_group(
        caller=NURSE,
        created_by=NURSE,
        org_id=ORG,
        name="Day shift",
        member_ids=[VET],
        channel_id=ChannelId("grp_dayshift"),
    )
    assert stream_calls(world) == Counter({"get_channel": 1, "open_channel": 1})


async def test_a_member_change_costs_one_read_and_one_change(world: World) -> None:
    cid = await group(world)
    await world.service.connect_user(caller=VET2, user_id=VET2)  # Ben's profile exists now
    stream_calls(world)

    changed = await world.service.update_group_members(
        caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2]
    )
    assert changed.members == {NURSE, VET, VET2}
    assert stream_calls(world) == Counter({"get_channel": 1, "change_members": 1})

    # A newcomer to Stream also needs the one upsert.
    await world.service.update_group_members(
        caller=NURSE, channel_id=cid, added_by=NURSE, add=[ADMIN], remove=[VET]
    )
    assert stream_calls(world) == Counter(
        {"get_channel": 1, "upsert_profiles": 1, "change_members": 1}
    )

    # The repeat changes nothing: one read.
    await world.service.update_group_members(
        caller=NURSE, channel_id=cid, added_by=NURSE, add=[ADMIN], remove=[VET]
    )
    assert stream_calls(world) == Counter({"get_channel": 1})


@pytest.mark.parametrize("kind", ["appointment", "group"])
async def test_an_end_costs_one_read_and_one_status_change_then_one_read(
    world: World, kind: str
) -> None:
    if kind == "appointment":
        cid = (
            await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
        ).channel_id
        ender = VET
    else:
        cid, ender = await group(world), NURSE
    stream_calls(world)

    ended = await world.service.end_chat(caller=ender, channel_id=cid)
    assert ended.is_ended
    assert stream_calls(world) == Counter({"get_channel": 1, "set_status": 1})

    again = await world.service.end_chat(caller=ender, channel_id=cid)
    assert again.is_ended
    assert stream_calls(world) == Counter({"get_channel": 1})


async def test_listing_my_channels_costs_one_query_per_page(world: World) -> None:
    for _ in range(3):
        await group(world)
    stream_calls(world)

    first = await world.service.list_my_channels(caller=NURSE, limit=2)
    assert len(first.channels) == 2
    assert stream_calls(world) == Counter({"query_channels": 1})

    assert first.next_cursor is not None
    second = await world.service.list_my_channels(caller=NURSE, limit=2, cursor=first.next_cursor)
    assert len(second.channels) == 1
    assert stream_calls(world) == Counter({"query_channels": 1})


async def test_org_groups_cost_one_query(world: World) -> None:
    for _ in range(3):
        await group(world)
    stream_calls(world)

    groups = await world.service.list_org_groups(caller=NURSE, org_id=ORG)
    assert len(groups) == 3
    assert stream_calls(world) == Counter({"query_channels": 1})


async def test_a_due_opening_costs_one_read_and_one_status_change(world: World) -> None:
    later = AppointmentId("apt-later")
    opened = await world.service.open_appointment_chat(caller=PET, appointment_id=later)
    assert (await world.channel(opened.channel_id)).status is ChatStatus.PENDING
    stream_calls(world)

    world.clock.advance(timedelta(hours=3))
    run = await world.service.advance_lifecycle()
    assert run.transitions == 1
    assert (await world.channel(opened.channel_id)).status is ChatStatus.ACTIVE
    assert stream_calls(world) == Counter({"get_channel": 1, "set_status": 1})

    # Nothing is due any more: the next pass asks Stream nothing.
    await world.service.advance_lifecycle()
    assert stream_calls(world) == Counter()


async def test_a_lazy_opening_costs_the_open_and_one_status_change(world: World) -> None:
    later = AppointmentId("apt-later")
    await world.service.open_appointment_chat(caller=PET, appointment_id=later)
    stream_calls(world)

    world.clock.advance(timedelta(hours=3))
    ref = await world.service.open_appointment_chat(caller=PET, appointment_id=later)
    assert (await world.channel(ref.channel_id)).status is ChatStatus.ACTIVE
    assert stream_calls(world) == Counter({"open_channel": 1, "set_status": 1})


async def test_a_due_auto_end_costs_one_read_and_one_status_change(world: World) -> None:
    cid = (await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)).channel_id
    lifecycle = attrs.evolve(world.service.advance_lifecycle, auto_end_after=timedelta(hours=1))
    stream_calls(world)

    world.clock.advance(timedelta(hours=2))
    assert (await lifecycle()).transitions == 1
    assert (await world.channel(cid)).is_ended
    # Read under the end lock, then ended with its notice: no second read.
    assert stream_calls(world) == Counter({"get_channel": 1, "set_status": 1})


async def test_listing_a_chat_whose_end_is_due_costs_the_query_and_the_end(world: World) -> None:
    cid = (await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)).channel_id
    lifecycle = attrs.evolve(world.service.advance_lifecycle, auto_end_after=timedelta(hours=1))
    listing = attrs.evolve(world.service.list_my_channels, lifecycle=lifecycle)
    stream_calls(world)

    world.clock.advance(timedelta(hours=2))
    page = await listing(caller=PET)
    assert [(c.id, c.status) for c in page.channels] == [(cid, ChatStatus.ENDED)]
    # The ended channel comes back from the status change itself, not from a re-read.
    assert stream_calls(world) == Counter({"query_channels": 1, "get_channel": 1, "set_status": 1})
