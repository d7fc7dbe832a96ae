"""OpenAppointmentChat, EndChat on client chats, and the appointment chat lifecycle."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from tests.support.world import TEST_SECRET, World, build_world
from yc_chat.domain import errors
from yc_chat.domain.channel_ids import appointment_channel_id
from yc_chat.domain.model import AppointmentId, ChannelRole, ChatStatus, UserId

SOON = AppointmentId("apt-soon")  # starts 12:03, opens 11:58 with the default 5 minutes
LATER = AppointmentId("apt-later")  # starts 15:00
PET, VET, ADMIN, NURSE = UserId("pet-1"), UserId("vet-1"), UserId("admin-1"), UserId("nurse-1")


@pytest.fixture
async def world() -> World:
    return await build_world()


async def test_pet_owner_opens_their_chat_with_members_from_the_record(world: World) -> None:
    ref = await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    assert ref.channel_id == appointment_channel_id(SOON)
    assert ref.members == (PET, VET)
    channel = await world.channel(ref.channel_id)
    assert channel.members == {PET, VET}
    assert channel.status is ChatStatus.ACTIVE
    assert not channel.frozen
    assert channel.name == "Chat with Sam Lee"
    assert (channel.pet_name, channel.appointment_id) == ("Rex", SOON)
    record = await world.appointments.get(SOON)
    assert record is not None
    assert (record.chat_channel_id, record.chat_status) == (ref.channel_id, ChatStatus.ACTIVE)


async def test_body_ids_that_disagree_with_the_record_are_a_conflict(world: World) -> None:
    with pytest.raises(errors.Conflict) as caught:
        await world.service.open_appointment_chat(
            caller=VET, appointment_id=SOON, pet_owner_id=UserId("pet-2")
        )
    assert caught.value.code == "appointment_mismatch"
    with pytest.raises(errors.Conflict):
        await world.service.open_appointment_chat(
            caller=VET, appointment_id=SOON, vet_id=UserId("vet-2")
        )
    assert await world.channel(appointment_channel_id(SOON)) is None
    assert (await world.appointments.get(SOON)).chat_channel_id is None  # type: ignore[union-attr]


@pytest.mark.parametrize("intruder", ["pet-2", "nurse-1", "vet-2", "admin-x", "vet-x"])
async def test_only_owner_vet_or_admin_may_open(world: World, intruder: str) -> None:
    with pytest.raises(errors.Forbidden):
        await world.service.open_appointment_chat(caller=UserId(intruder), appointment_id=SOON)
    assert await world.channel(appointment_channel_id(SOON)) is None


async def test_admin_of_the_org_may_open(world: World) -> None:
    ref = await world.service.open_appointment_chat(caller=ADMIN, appointment_id=SOON)
    assert set(ref.members) == {PET, VET}  # the admin does not join


async def test_unknown_appointment_is_404_and_bad_minutes_400(world: World) -> None:
    with pytest.raises(errors.NotFound):
        await world.service.open_appointment_chat(caller=PET, appointment_id=AppointmentId("x"))
    with pytest.raises(errors.InvalidInput):
        await world.service.open_appointment_chat(
            caller=VET, appointment_id=SOON, activation_minutes=1441
        )
    # Shape is checked before existence.
    with pytest.raises(errors.InvalidInput):
        await world.service.open_appointment_chat(
            caller=VET, appointment_id=AppointmentId("x"), activation_minutes=-1
        )


async def test_opening_is_idempotent(world: World) -> None:
    first = await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    second = await world.service.open_appointment_chat(caller=VET, appointment_id=SOON)
    assert first == second
    assert world.chat.calls["upsert_profiles"] == 1


async def test_chat_is_pending_and_frozen_until_it_opens(world: World) -> None:
    ref = await world.service.open_appointment_chat(caller=VET, appointment_id=LATER)
    channel = await world.channel(ref.channel_id)
    assert channel.status is ChatStatus.PENDING
    assert channel.frozen
    world.clock.set(world.clock.now().replace(hour=14, minute=54))
    assert (await world.service.advance_lifecycle()).transitions == 0
    world.clock.advance(timedelta(minutes=1))  # 14:55, exactly five minutes before
    assert (await world.service.advance_lifecycle()).transitions == 1
    channel = await world.channel(ref.channel_id)
    assert channel.status is ChatStatus.ACTIVE
    assert not channel.frozen
    assert (await world.appointments.get(LATER)).chat_status is ChatStatus.ACTIVE  # type: ignore[union-attr]
    assert (await world.service.advance_lifecycle()).transitions == 0


async def test_activation_is_also_lazy_on_access(world: World) -> None:
    await world.service.open_appointment_chat(caller=VET, appointment_id=LATER)
    world.clock.set(world.clock.now().replace(hour=15))
    ref = await world.service.open_appointment_chat(caller=PET, appointment_id=LATER)
    assert (await world.channel(ref.channel_id)).status is ChatStatus.ACTIVE


async def test_staff_choose_activation_minutes_pet_owners_do_not(world: World) -> None:
    await world.service.open_appointment_chat(
        caller=PET, appointment_id=LATER, activation_minutes=1440
    )
    assert (await world.channel(appointment_channel_id(LATER))).status is ChatStatus.PENDING
    await world.service.open_appointment_chat(
        caller=VET, appointment_id=LATER, activation_minutes=180
    )
    assert (await world.channel(appointment_channel_id(LATER))).status is ChatStatus.ACTIVE
    assert (await world.appointments.get(LATER)).chat_activation_minutes == 180  # type: ignore[union-attr]


async def test_end_by_vet_freezes_for_good_with_one_system_message(world: World) -> None:
    ref = await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    await world.service.end_chat(caller=VET, channel_id=ref.channel_id)
    await world.service.end_chat(caller=VET, channel_id=ref.channel_id)  # idempotent
    channel = await world.channel(ref.channel_id)
    assert channel.status is ChatStatus.ENDED
    assert channel.frozen
    system = [m for m in world.message_rows(ref.channel_id) if m[0] == "system"]
    assert system == [("system", "system", "This chat was closed by Dr. Ana Núñez.")]
    assert (await world.appointments.get(SOON)).chat_status is ChatStatus.ENDED  # type: ignore[union-attr]
    # Never reopened: not by opening again, not by the scheduler, not lazily.
    world.clock.advance(timedelta(hours=1))
    again = await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    assert again.channel_id == ref.channel_id
    await world.service.advance_lifecycle()
    assert (await world.channel(ref.channel_id)).status is ChatStatus.ENDED


@pytest.mark.parametrize("caller", ["pet-1", "nurse-1", "vet-2", "admin-x"])
async def test_end_client_chat_denied_to_others(world: World, caller: str) -> None:
    ref = await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    with pytest.raises(errors.Forbidden):
        await world.service.end_chat(caller=UserId(caller), channel_id=ref.channel_id)
    assert (await world.channel(ref.channel_id)).status is ChatStatus.ACTIVE
    assert world.message_rows(ref.channel_id) == []


async def test_admin_ends_and_unknown_channel_is_404(world: World) -> None:
    ref = await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    await world.service.end_chat(caller=ADMIN, channel_id=ref.channel_id)
    assert (await world.channel(ref.channel_id)).is_ended
    with pytest.raises(errors.NotFound):
        await world.service.end_chat(caller=ADMIN, channel_id=appointment_channel_id(LATER))
    with pytest.raises(errors.InvalidInput):
        await world.service.end_chat(caller=ADMIN, channel_id="Not Valid!")  # type: ignore[arg-type]


async def test_reassigned_vet_follows_the_record(world: World) -> None:
    ref = await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    record = await world.appointments.get(SOON)
    assert record is not None
    import attrs

    await world.appointments.put(attrs.evolve(record, vet_id=UserId("vet-2")))
    again = await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    assert again.members == (PET, UserId("vet-2"))
    assert (await world.channel(ref.channel_id)).members == {PET, UserId("vet-2")}


async def test_token_is_for_self_and_exp_matches_expires_at(world: World) -> None:
    token = await world.service.connect_user(caller=PET, user_id=PET)
    # The world's clock is fixed in the past, so only the signature is verified here.
    claims = jwt.decode(
        token.token, TEST_SECRET, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert claims["user_id"] == PET
    assert claims["exp"] == int(token.expires_at.timestamp())
    assert token.expires_at - world.clock.now().replace(microsecond=0) == timedelta(hours=24)
    with pytest.raises(errors.Forbidden):
        await world.service.connect_user(caller=PET, user_id=VET)
    with pytest.raises(errors.NotFound):
        await world.service.connect_user(caller=UserId("ghost"), user_id=UserId("ghost"))


async def test_repeated_tokens_cost_no_profile_write_until_the_profile_changes(
    world: World,
) -> None:
    for _ in range(3):
        await world.service.connect_user(caller=PET, user_id=PET)
    assert world.chat.calls["upsert_profiles"] == 1
    from yc_chat.domain.model import User, UserKind

    await world.directory.put_user(User(id=PET, name="Samuel Lee", kind=UserKind.PET_OWNER))
    await world.service.connect_user(caller=PET, user_id=PET)
    assert world.chat.calls["upsert_profiles"] == 2
    assert world.chat.upserted[-1][0].name == "Samuel Lee"


async def test_reassigned_and_renamed_appointment_updates_the_chat_data(world: World) -> None:
    import attrs

    ref = await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    record = await world.appointments.get(SOON)
    assert record is not None
    moved = attrs.evolve(
        record,
        vet_id=UserId("vet-2"),
        pet_owner_name="Samantha Lee",
        starts_at=record.starts_at + timedelta(hours=2),
    )
    await world.appointments.put(moved)
    await world.service.open_appointment_chat(caller=UserId("vet-2"), appointment_id=SOON)
    channel = await world.channel(ref.channel_id)
    assert (channel.vet_id, channel.pet_owner_name) == ("vet-2", "Samantha Lee")
    assert channel.appointment_time == moved.starts_at
    assert channel.name == "Chat with Samantha Lee"
    mine = await world.service.list_my_channels(caller=UserId("vet-2"), role=ChannelRole.VET)
    assert [c.id for c in mine.channels] == [ref.channel_id]
    assert mine.channels[0].name == "Chat with Samantha Lee"
    assert (await world.service.list_my_channels(caller=VET, role=ChannelRole.VET)).channels == ()


async def test_an_ended_chat_is_not_handed_to_a_new_vet(world: World) -> None:
    import attrs

    ref = await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    await world.service.end_chat(caller=VET, channel_id=ref.channel_id)
    record = await world.appointments.get(SOON)
    assert record is not None
    await world.appointments.put(attrs.evolve(record, vet_id=UserId("vet-2")))
    await world.service.open_appointment_chat(caller=PET, appointment_id=SOON)
    channel = await world.channel(ref.channel_id)
    assert channel.members == {PET, VET}
    assert channel.is_ended
