"""Concurrent EndChat and UpdateGroupMembers: one system message per change, never two.

The world's provider waits a little on every call (`latency`), so that calls started
together interleave between their reads and their writes as they would over a network;
`asyncio.gather` starts them in order, so who gets the lock first is fixed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest

from tests.support.world import World, build_world
from yc_chat.domain import errors
from yc_chat.domain.model import AppointmentId, ChannelId, ChatStatus, OrgId, UserId

SOON = AppointmentId("apt-soon")  # active at the world's NOW
ORG = OrgId("org-1")
PET, VET, VET2, NURSE, ADMIN = (
    UserId(x) for x in ("pet-1", "vet-1", "vet-2", "nurse-1", "admin-1")
)
LATENCY = 0.01

T = TypeVar("T")


@pytest.fixture
async def world() -> World:
    built = await build_world()
    built.chat.latency = LATENCY
    return built


def system_messages(world: World, channel_id: str) -> list[str]:
    return [text for user, _, text in world.message_rows(channel_id) if user == "system"]


async def appointment_chat(world: World) -> ChannelId:
    ref = await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    return ref.channel_id


async def group(world: World) -> ChannelId:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="Night shift", member_ids=[VET]
    )
    return ref.channel_id


def held_until_released(method: Callable[..., Awaitable[T]]) -> tuple[Any, asyncio.Event]:
    """`method` whose first call waits for the returned event: a caller paused mid-way."""
    release = asyncio.Event()
    calls = 0

    async def gated(*args: Any, **kwargs: Any) -> T:
        nonlocal calls
        calls += 1
        if calls == 1:
            await release.wait()
        return await method(*args, **kwargs)

    return gated, release


# -- EndChat ---------------------------------------------------------------------------------


async def test_two_concurrent_ends_post_one_notice_and_both_succeed(world: World) -> None:
    cid = await appointment_chat(world)
    first, second = await asyncio.gather(
        world.service.end_chat(caller=VET, channel_id=cid),
        world.service.end_chat(caller=ADMIN, channel_id=cid),
    )
    assert first.is_ended
    assert first.id == second.id == cid
    assert system_messages(world, cid) == ["This chat was closed by Dr. Ana Núñez."]
    assert world.chat.calls["set_status"] == 1
    assert (await world.channel(cid)).status is ChatStatus.ENDED
    record = await world.appointments.get(SOON)
    assert record is not None
    assert record.chat_status is ChatStatus.ENDED
    # The lock went with the call that took it: a later end is the ordinary idempotent one.
    await world.service.end_chat(caller=VET, channel_id=cid)
    assert len(system_messages(world, cid)) == 1


async def test_many_concurrent_ends_of_a_group_post_one_notice(world: World) -> None:
    cid = await group(world)
    results = await asyncio.gather(
        *(world.service.end_chat(caller=caller, channel_id=cid) for caller in [NURSE, ADMIN] * 5)
    )
    assert len(results) == 10
    assert system_messages(world, cid) == ["This chat was closed by Priya Shah."]
    assert (await world.channel(cid)).is_ended


async def test_an_end_while_another_holds_the_lock_posts_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = await appointment_chat(world)
    # The admin's call takes the lock, reads the channel (active), then pauses...
    gated, resume = held_until_released(world.directory.get_membership)
    monkeypatch.setattr(world.directory, "get_membership", gated)
    late = asyncio.ensure_future(world.service.end_chat(caller=ADMIN, channel_id=cid))
    await asyncio.sleep(LATENCY * 3)
    # ...while the vet's end finds the lock held: it answers the chat as it is.
    meanwhile = await world.service.end_chat(caller=VET, channel_id=cid)
    assert not meanwhile.is_ended
    assert system_messages(world, cid) == []
    resume.set()
    channel = await late
    assert channel.is_ended
    assert system_messages(world, cid) == ["This chat was closed by Maya Ortega."]
    # The vet's retry is the ordinary idempotent one.
    assert (await world.service.end_chat(caller=VET, channel_id=cid)).is_ended
    assert system_messages(world, cid) == ["This chat was closed by Maya Ortega."]


async def test_a_crashed_holder_blocks_ending_only_until_its_lock_lapses(world: World) -> None:
    cid = await appointment_chat(world)
    now = world.clock.now()
    # A caller took the lock and died: never released.
    assert await world.locks.acquire(
        f"end:{cid}", owner="crashed", until=now + timedelta(seconds=30), now=now
    )
    blocked = await world.service.end_chat(caller=VET, channel_id=cid)
    assert not blocked.is_ended  # answered with the chat as it is; nothing posted
    assert system_messages(world, cid) == []
    record = await world.appointments.get(SOON)
    assert record is not None
    assert record.chat_status is ChatStatus.ACTIVE  # the record does not run ahead

    world.clock.advance(timedelta(seconds=30))
    ended = await world.service.end_chat(caller=VET, channel_id=cid)
    assert ended.is_ended
    assert system_messages(world, cid) == ["This chat was closed by Dr. Ana Núñez."]
    record = await world.appointments.get(SOON)
    assert record is not None
    assert record.chat_status is ChatStatus.ENDED


async def test_a_failed_end_releases_its_lock(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = await appointment_chat(world)
    working = world.chat.inner.set_status

    async def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise errors.ProviderUnavailable()

    monkeypatch.setattr(world.chat.inner, "set_status", unavailable)
    with pytest.raises(errors.ProviderUnavailable):
        await world.service.end_chat(caller=VET, channel_id=cid)
    monkeypatch.setattr(world.chat.inner, "set_status", working)
    # No wait for a lapse: the failed call gave its lock back.
    assert (await world.service.end_chat(caller=VET, channel_id=cid)).is_ended
    assert system_messages(world, cid) == ["This chat was closed by Dr. Ana Núñez."]


# -- UpdateGroupMembers ----------------------------------------------------------------------


async def test_two_concurrent_identical_changes_post_one_notice(world: World) -> None:
    cid = await group(world)
    first, second = await asyncio.gather(
        world.service.update_group_members(
            caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2]
        ),
        world.service.update_group_members(
            caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2]
        ),
        return_exceptions=True,
    )
    # The first takes the lock; the second finds it held and is told to try again.
    assert not isinstance(first, BaseException)
    assert first.members == {NURSE, VET, VET2}
    assert isinstance(second, errors.Conflict)
    assert second.status == 409
    assert second.code == errors.CODE_CHANGE_IN_PROGRESS == "change_in_progress"
    assert system_messages(world, cid) == ["Priya Shah added Tom O'Brien."]
    # Its retry, on the state the first left, changes nothing and posts nothing.
    again = await world.service.update_group_members(
        caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2]
    )
    assert again.members == {NURSE, VET, VET2}
    assert system_messages(world, cid) == ["Priya Shah added Tom O'Brien."]
    assert (await world.channel(cid)).member_count == 3


async def test_a_change_is_decided_on_its_read_under_the_lock(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = await group(world)
    # The admin's call takes the lock, reads the group (without Ben), then pauses...
    gated, resume = held_until_released(world.directory.get_memberships)
    monkeypatch.setattr(world.directory, "get_memberships", gated)
    late = asyncio.ensure_future(
        world.service.update_group_members(
            caller=ADMIN, channel_id=cid, added_by=ADMIN, add=[VET2], remove=[VET]
        )
    )
    await asyncio.sleep(LATENCY * 3)
    # ...so the creator's same change cannot decide on that state too: try again.
    with pytest.raises(errors.Conflict) as busy:
        await world.service.update_group_members(
            caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2], remove=[VET]
        )
    assert (busy.value.code, busy.value.message) == (
        "change_in_progress", "Another change to this group is in progress, try again"
    )  # fmt: skip
    resume.set()
    channel = await late
    assert channel.members == {NURSE, VET2}
    # The creator's retry finds the change made: nothing changes, nothing is announced.
    again = await world.service.update_group_members(
        caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2], remove=[VET]
    )
    assert again.members == {NURSE, VET2}
    assert system_messages(world, cid) == [
        "Maya Ortega added Tom O'Brien and removed Dr. Ana Núñez."
    ]


async def test_concurrent_different_changes_are_applied_one_at_a_time(world: World) -> None:
    cid = await group(world)
    add_ben, add_ada = await asyncio.gather(
        world.service.update_group_members(
            caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2]
        ),
        world.service.update_group_members(
            caller=ADMIN, channel_id=cid, added_by=ADMIN, add=[ADMIN]
        ),
        return_exceptions=True,
    )
    assert not isinstance(add_ben, BaseException)
    assert isinstance(add_ada, errors.Conflict)
    assert add_ada.code == "change_in_progress"
    await world.service.update_group_members(
        caller=ADMIN, channel_id=cid, added_by=ADMIN, add=[ADMIN]
    )
    assert (await world.channel(cid)).members == {NURSE, VET, VET2, ADMIN}
    assert system_messages(world, cid) == [
        "Priya Shah added Tom O'Brien.",
        "Maya Ortega added Maya Ortega.",
    ]


async def test_a_crashed_member_change_blocks_only_until_its_lock_lapses(world: World) -> None:
    cid = await group(world)
    now = world.clock.now()
    assert await world.locks.acquire(
        f"members:{cid}", owner="crashed", until=now + timedelta(seconds=30), now=now
    )
    with pytest.raises(errors.Conflict) as blocked:
        await world.service.update_group_members(
            caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2]
        )
    assert blocked.value.code == "change_in_progress"
    world.clock.advance(timedelta(seconds=30))
    await world.service.update_group_members(
        caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2]
    )
    assert system_messages(world, cid) == ["Priya Shah added Tom O'Brien."]


async def test_a_change_that_changes_nothing_needs_no_lock(world: World) -> None:
    cid = await group(world)
    now = world.clock.now()
    assert await world.locks.acquire(
        f"members:{cid}", owner="other", until=now + timedelta(seconds=30), now=now
    )
    unchanged = await world.service.update_group_members(
        caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET]
    )
    assert unchanged.members == {NURSE, VET}
    assert system_messages(world, cid) == []


async def test_a_group_is_not_ended_under_a_member_change_in_flight(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = await group(world)
    # The change has read the group (active) under its lock and pauses before writing...
    gated, resume = held_until_released(world.directory.get_memberships)
    monkeypatch.setattr(world.directory, "get_memberships", gated)
    late = asyncio.ensure_future(
        world.service.update_group_members(caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2])
    )
    await asyncio.sleep(LATENCY * 3)
    # ...so an end now would let the change land on an ended group: it is told to retry.
    with pytest.raises(errors.Conflict) as busy:
        await world.service.end_chat(caller=NURSE, channel_id=cid)
    assert busy.value.code == "change_in_progress"
    assert not (await world.channel(cid)).is_ended
    resume.set()
    assert (await late).members == {NURSE, VET, VET2}
    assert (await world.service.end_chat(caller=NURSE, channel_id=cid)).is_ended
    with pytest.raises(errors.Conflict) as ended:
        await world.service.update_group_members(
            caller=NURSE, channel_id=cid, added_by=NURSE, add=[ADMIN]
        )
    assert ended.value.code == "chat_ended"
    assert (await world.channel(cid)).members == {NURSE, VET, VET2}
    assert system_messages(world, cid) == [
        "Priya Shah added Tom O'Brien.",
        "This chat was closed by Priya Shah.",
    ]


async def test_a_refused_caller_holding_the_end_lock_does_not_void_a_real_end(
    world: World,
) -> None:
    cid = await appointment_chat(world)
    # The nurse may not end an appointment chat, but her call takes the end lock first
    # (it reads before it is refused); the vet's end, started with it, must still end it.
    refused, ended = await asyncio.gather(
        world.service.end_chat(caller=NURSE, channel_id=cid),
        world.service.end_chat(caller=VET, channel_id=cid),
        return_exceptions=True,
    )
    assert isinstance(refused, errors.Forbidden)
    assert not isinstance(ended, BaseException)
    assert ended.is_ended
    assert system_messages(world, cid) == ["This chat was closed by Dr. Ana Núñez."]
