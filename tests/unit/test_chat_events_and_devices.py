"""HandleChatEvent and device registration."""

from __future__ import annotations

import pytest

from tests.support.world import World, build_world
from yc_chat.domain import errors
from yc_chat.domain.events import ChannelDeleted, MessagePosted, OtherEvent, UserUpdated
from yc_chat.domain.model import AppointmentId, ChannelId, ChatCategory, ChatStatus, OrgId, UserId
from yc_chat.domain.usecases.inbox import EventIgnored

VET, NURSE, PET = UserId("vet-1"), UserId("nurse-1"), UserId("pet-1")


@pytest.fixture
async def world() -> World:
    return await build_world()


def posted(channel_id: str, sender: str, text: str, **extra: object) -> MessagePosted:
    fields: dict[str, object] = {
        "channel_id": ChannelId(channel_id),
        "sender_id": UserId(sender),
        "sender_name": None,
        "text": text,
        "has_attachments": False,
        "is_system": False,
    }
    fields.update(extra)
    return MessagePosted(**fields)  # type: ignore[arg-type]


async def test_new_message_pushes_to_everyone_but_the_sender(world: World) -> None:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=OrgId("org-1"), name="G", member_ids=[VET, "vet-2"]
    )
    await world.service.handle_chat_event(
        event_id="e1", event=posted(ref.channel_id, NURSE, "x" * 150)
    )
    assert sorted(n.recipient_id for n in world.notifier.sent) == ["vet-1", "vet-2"]
    first = world.notifier.sent[0]
    assert first.title == "Priya Shah"
    assert first.body == "x" * 100
    assert (first.channel_id, first.category, first.appointment_id) == (
        ref.channel_id,
        ChatCategory.GROUP,
        None,
    )


async def test_redelivered_event_pushes_once(world: World) -> None:
    ref = await world.service.open_appointment_chat(
        caller=PET, appointment_id=AppointmentId("apt-soon")
    )
    event = posted(ref.channel_id, PET, "", has_attachments=True)
    for _ in range(5):
        await world.service.handle_chat_event(event_id="same", event=event)
    assert len(world.notifier.sent) == 1
    push = world.notifier.sent[0]
    assert (push.recipient_id, push.body) == (VET, "[Media Message]")
    assert (push.appointment_id, push.category) == ("apt-soon", ChatCategory.CLIENT)


async def test_system_messages_and_unknown_events_push_nothing(world: World) -> None:
    ref = await world.service.open_appointment_chat(
        caller=PET, appointment_id=AppointmentId("apt-soon")
    )
    await world.service.handle_chat_event(
        event_id="a", event=posted(ref.channel_id, "system", "closed")
    )
    await world.service.handle_chat_event(
        event_id="b", event=posted(ref.channel_id, VET, "closed", is_system=True)
    )
    await world.service.handle_chat_event(event_id="c", event=OtherEvent(type="typing.start"))
    # A channel Stream does not have: nothing to push, and said so (counted and logged).
    with pytest.raises(EventIgnored) as ignored:
        await world.service.handle_chat_event(event_id="d", event=posted("ghost", VET, "hi"))
    assert ignored.value.reason == "channel_unknown"
    assert world.notifier.sent == []


async def test_channel_deleted_ends_and_unlinks_the_appointment(world: World) -> None:
    ref = await world.service.open_appointment_chat(
        caller=PET, appointment_id=AppointmentId("apt-soon")
    )
    await world.service.handle_chat_event(
        event_id="del", event=ChannelDeleted(channel_id=ref.channel_id)
    )
    record = await world.appointments.get(AppointmentId("apt-soon"))
    assert record is not None
    assert (record.chat_status, record.chat_channel_id) == (ChatStatus.ENDED, None)
    with pytest.raises(errors.Conflict) as caught:
        await world.service.open_appointment_chat(
            caller=PET, appointment_id=AppointmentId("apt-soon")
        )
    assert caught.value.code == "chat_deleted"


async def test_user_updated_makes_the_next_token_upsert_the_profile(world: World) -> None:
    await world.service.connect_user(caller=PET, user_id=PET)
    await world.service.connect_user(caller=PET, user_id=PET)
    assert world.chat.calls["upsert_profiles"] == 1
    await world.service.handle_chat_event(event_id="u", event=UserUpdated(user_id=PET))
    await world.service.connect_user(caller=PET, user_id=PET)
    assert world.chat.calls["upsert_profiles"] == 2


async def test_failed_handling_can_run_again_and_pushes_once(world: World) -> None:
    ref = await world.service.open_appointment_chat(
        caller=PET, appointment_id=AppointmentId("apt-soon")
    )
    world.state.set_unavailable(True)
    with pytest.raises(errors.ProviderUnavailable):
        await world.service.handle_chat_event(event_id="r", event=posted(ref.channel_id, PET, "hi"))
    world.state.set_unavailable(False)
    await world.service.handle_chat_event(event_id="r", event=posted(ref.channel_id, PET, "hi"))
    await world.service.handle_chat_event(event_id="r", event=posted(ref.channel_id, PET, "hi"))
    assert len(world.notifier.sent) == 1


async def test_devices_register_and_unregister_only_own(world: World) -> None:
    await world.service.register_device(caller=VET, token="tok-1", platform="ios")
    assert [d.token for d in await world.devices.devices_of([VET])] == ["tok-1"]
    with pytest.raises(errors.NotFound):
        await world.service.unregister_device(caller=NURSE, token="tok-1")
    assert [d.token for d in await world.devices.devices_of([VET])] == ["tok-1"]
    await world.service.unregister_device(caller=VET, token="tok-1")
    assert await world.devices.devices_of([VET]) == []
    with pytest.raises(errors.InvalidInput):
        await world.service.register_device(caller=VET, token="t", platform="symbian")
    with pytest.raises(errors.InvalidInput):
        await world.service.register_device(caller=VET, token=" ", platform="ios")


async def test_the_echo_of_our_own_upsert_does_not_mark_the_profile_stale(world: World) -> None:
    await world.service.connect_user(caller=PET, user_id=PET)
    echo = UserUpdated(user_id=PET, name="Sam Lee", image=None)
    await world.service.handle_chat_event(event_id="echo", event=echo)
    await world.service.connect_user(caller=PET, user_id=PET)
    assert world.chat.calls["upsert_profiles"] == 1
    edited = UserUpdated(user_id=PET, name="Someone Else", image=None)
    await world.service.handle_chat_event(event_id="edit", event=edited)
    await world.service.connect_user(caller=PET, user_id=PET)
    assert world.chat.calls["upsert_profiles"] == 2
