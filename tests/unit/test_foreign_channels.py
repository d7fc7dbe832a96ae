"""Stream is a second door: channels yc-chat did not create are never listed or pushed.

A person holding a Stream token can create channels directly (before the setup's grants,
or on an app without them), with any custom data. These tests make such channels in the
simulation as that person would and check every pass over provider data ignores them,
while the service's own channels, and chats from before the system user created them that
the service's records vouch for, keep working.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.world import World, build_system_user_world, build_world
from yc_chat.domain import errors
from yc_chat.domain.channel_ids import appointment_channel_id, colleague_dm_channel_id
from yc_chat.domain.events import MessagePosted
from yc_chat.domain.model import (
    SYSTEM_USER_ID,
    AppointmentId,
    ChannelId,
    ChatStatus,
    OrgId,
    UserId,
)
from yc_chat.domain.usecases.inbox import EventIgnored

VET, VET_2, NURSE, PET = UserId("vet-1"), UserId("vet-2"), UserId("nurse-1"), UserId("pet-1")
ORG = OrgId("org-1")
# Finding 1 of issue 19: a pet owner's forged "all staff" group of a clinic he is not in.
FORGED_GROUP: dict[str, Any] = {
    "chatCategory": "group",
    "orgId": "org-1",
    "isGroup": True,
    "status": "active",
    "name": "Happy Paws: all staff (official)",
}


def posted(channel_id: str, sender: str, text: str) -> MessagePosted:
    return MessagePosted(
        channel_id=ChannelId(channel_id),
        sender_id=UserId(sender),
        sender_name=None,
        text=text,
        has_attachments=False,
        is_system=False,
    )


@pytest.fixture
async def world() -> World:
    return await build_world()


def forge(
    world: World,
    channel_id: str,
    *,
    creator: str,
    members: list[str],
    data: dict[str, Any],
    text: str | None = "Reset your password at http://phish.example",
) -> None:
    """A channel made directly on Stream by `creator`, who then posts in it."""
    # Everyone who ever fetched a token exists on Stream.
    world.state.upsert_users([{"id": uid, "name": uid} for uid in {creator, *members}])
    world.state.get_or_create_channel(
        "messaging", channel_id, created_by_id=creator, data=data, members=members
    )
    if text is not None:
        world.state.send_message("messaging", channel_id, text=text, user_id=creator)


async def listed(world: World, user: UserId, **query: Any) -> list[str]:
    page = await world.service.list_my_channels(caller=user, **query)
    return [c.id for c in page.channels]


async def test_a_forged_org_group_is_in_no_list(world: World) -> None:
    real = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="Real", member_ids=[VET]
    )
    forge(
        world, "forged", creator="pet-1", members=["pet-1", "vet-1", "nurse-1"], data=FORGED_GROUP
    )

    for user in (VET, NURSE):
        assert await listed(world, user) == [real.channel_id]
        assert await listed(world, user, org_id=ORG) == [real.channel_id]
        groups = await world.service.list_org_groups(caller=user, org_id=ORG)
        assert [g.id for g in groups] == [real.channel_id]
    # The forger's own list shows it neither: nothing yc-chat did not create is listed.
    assert "forged" not in await listed(world, PET)


async def test_messages_in_a_forged_channel_are_never_pushed(world: World) -> None:
    forge(
        world, "forged", creator="pet-1", members=["pet-1", "vet-1", "nurse-1"], data=FORGED_GROUP
    )
    real = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="Real", member_ids=[VET]
    )

    # Done with, and reported as not ours: never pushed, never retried.
    with pytest.raises(EventIgnored) as ignored:
        await world.service.handle_chat_event(
            event_id="e1", event=posted("forged", "pet-1", "phish")
        )
    assert ignored.value.reason == EventIgnored.NOT_OURS
    assert world.notifier.sent == []
    # The push path itself works: a message in the service's own group is pushed.
    await world.service.handle_chat_event(event_id="e2", event=posted(real.channel_id, NURSE, "hi"))
    assert [n.recipient_id for n in world.notifier.sent] == [VET]


async def test_a_forged_chat_claiming_an_appointment_is_ignored_by_the_lifecycle(
    world: World,
) -> None:
    opened = await world.service.open_appointment_chat(
        caller=PET, appointment_id=AppointmentId("apt-later")
    )
    data = {
        "chatCategory": "client",
        "orgId": "org-1",
        "status": "pending",
        "appointmentId": "apt-later",
    }
    forge(world, "forged-apt", creator="pet-1", members=["pet-1", "vet-1"], data=data, text=None)
    world.state.update_channel_partial("messaging", "forged-apt", set_fields={"frozen": True})
    world.clock.advance(timedelta(hours=3))  # apt-later is due to open

    assert await listed(world, PET) == [opened.channel_id]
    forged = world.state.channel("messaging", "forged-apt")
    assert forged is not None and forged.frozen and forged.data["status"] == "pending"
    real = await world.channel(opened.channel_id)
    assert real.status is ChatStatus.ACTIVE


async def test_chats_from_before_the_system_user_created_them_stay_listed(world: World) -> None:
    # A vet created the appointment chat (Stream's creator) before this change; the
    # appointment record links it, so it is still the service's own.
    apt = AppointmentId("apt-soon")
    chat_id = appointment_channel_id(apt)
    data = {
        "chatCategory": "client",
        "orgId": "org-1",
        "status": "active",
        "appointmentId": apt,
        "petOwnerId": "pet-1",
        "vetId": "vet-1",
    }
    forge(world, chat_id, creator="vet-1", members=["pet-1", "vet-1"], data=data, text=None)
    await world.appointments.link_chat(
        apt, channel_id=chat_id, status=ChatStatus.ACTIVE, activation_minutes=None
    )
    # A colleague DM a nurse opened then: its id is the one the service derives.
    dm_id = colleague_dm_channel_id(ORG, VET, NURSE)
    dm = {"chatCategory": "colleague", "orgId": "org-1", "status": "active"}
    forge(world, dm_id, creator="nurse-1", members=["vet-1", "nurse-1"], data=dm, text=None)
    # A chat claiming the same appointment under another id is not vouched for.
    forge(world, "apt_copy", creator="pet-1", members=["pet-1", "vet-1"], data=data, text=None)

    assert sorted(await listed(world, VET)) == sorted([chat_id, dm_id])
    assert await listed(world, PET) == [chat_id]


async def test_the_system_user_is_configurable() -> None:
    runtime, state = await build_system_user_world("yc-bot")
    service = runtime.service
    ref = await service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET]
    )
    await service.end_chat(caller=NURSE, channel_id=ref.channel_id)

    channel = state.channel("messaging", ref.channel_id)
    assert channel is not None and channel.created_by_id == "yc-bot"
    assert [m.user_id for m in state.messages("messaging", ref.channel_id)] == ["yc-bot"]
    page = await service.list_my_channels(caller=VET)
    assert [c.id for c in page.channels] == [ref.channel_id]
    # A channel by the default system user is someone else's on this app.
    state.upsert_users([{"id": str(SYSTEM_USER_ID), "name": "x"}])
    state.get_or_create_channel(
        "messaging",
        "other",
        created_by_id=str(SYSTEM_USER_ID),
        data=FORGED_GROUP,
        members=["vet-1", "nurse-1"],
    )
    page = await service.list_my_channels(caller=VET)
    assert [c.id for c in page.channels] == [ref.channel_id]


async def test_a_group_creator_keeps_the_contracts_rights_without_owning_the_channel(
    world: World,
) -> None:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET, VET_2]
    )
    channel = world.state.channel("messaging", ref.channel_id)
    assert channel is not None and channel.created_by_id == str(SYSTEM_USER_ID)
    # The contract's creator still manages the group and is still its creator.
    await world.service.update_group_members(
        caller=NURSE, channel_id=ChannelId(ref.channel_id), remove=[VET_2], added_by=NURSE
    )
    read = await world.channel(ref.channel_id)
    assert read.created_by == NURSE and read.members == {NURSE, VET}


async def test_the_service_never_changes_a_forged_group(world: World) -> None:
    # The forger names himself the group's creator and picks a clinic he works at.
    data = dict(FORGED_GROUP, createdBy="vet-2")
    forge(world, "forged", creator="vet-2", members=["vet-2", "nurse-1"], data=data)
    before = world.messages("forged")

    for caller in (VET_2, UserId("admin-1")):
        with pytest.raises(errors.NotFound):
            await world.service.update_group_members(
                caller=caller, channel_id=ChannelId("forged"), add=[VET], added_by=caller
            )
        with pytest.raises(errors.NotFound):
            await world.service.end_chat(caller=caller, channel_id=ChannelId("forged"))
    forged = world.state.channel("messaging", "forged")
    assert forged is not None and forged.member_ids == ("vet-2", "nurse-1") and not forged.frozen
    assert world.messages("forged") == before
