"""The seed guide's known mistakes, each shown impossible through the public service."""

from __future__ import annotations

import inspect

import jwt
import pytest

from tests.support.world import TEST_SECRET, World, build_world
from yc_chat.domain import errors
from yc_chat.domain.channel_ids import appointment_channel_id, colleague_dm_channel_id
from yc_chat.domain.model import AppointmentId, ChannelId, ChannelRole, OrgId, UserId
from yc_chat.domain.text import SearchKeys, SearchQuery


@pytest.fixture
async def world() -> World:
    return await build_world()


async def test_members_never_come_from_the_request_body(world: World) -> None:
    # The use case has no parameter for members at all: they come from the record.
    params = inspect.signature(type(world.service.open_appointment_chat).__call__).parameters
    assert "members" not in params
    with pytest.raises(errors.Conflict):
        await world.service.open_appointment_chat(
            caller=UserId("pet-1"),
            appointment_id=AppointmentId("apt-soon"),
            vet_id=UserId("vet-x"),  # an attacker's colleague in another clinic
        )
    ref = await world.service.open_appointment_chat(
        caller=UserId("pet-1"), appointment_id=AppointmentId("apt-soon")
    )
    assert (await world.channel(ref.channel_id)).members == {"pet-1", "vet-1"}


async def test_pet_owner_is_not_locked_out_of_their_own_chat(world: World) -> None:
    ref = await world.service.open_appointment_chat(
        caller=UserId("pet-1"), appointment_id=AppointmentId("apt-soon")
    )
    page = await world.service.list_my_channels(caller=UserId("pet-1"), role=ChannelRole.PET_OWNER)
    assert [c.id for c in page.channels] == [ref.channel_id]


async def test_groups_are_created_and_edited_only_within_the_callers_org(world: World) -> None:
    with pytest.raises(errors.Forbidden):
        await world.service.create_group(
            caller=UserId("vet-x"),
            created_by=UserId("vet-x"),
            org_id=OrgId("org-1"),
            name="Infiltration",
            member_ids=[UserId("vet-1")],
        )
    ref = await world.service.create_group(
        caller=UserId("nurse-1"),
        created_by=UserId("nurse-1"),
        org_id=OrgId("org-1"),
        name="G",
        member_ids=[UserId("vet-1")],
    )
    with pytest.raises(errors.Forbidden):
        await world.service.update_group_members(
            caller=UserId("admin-x"),
            added_by=UserId("admin-x"),
            channel_id=ref.channel_id,
            add=[UserId("vet-x")],
        )
    assert (await world.channel(ref.channel_id)).members == {"nurse-1", "vet-1"}


def test_channel_ids_never_exceed_64_characters_or_collide() -> None:
    long_id = AppointmentId("appointment-" + "x" * 200)
    assert len(appointment_channel_id(long_id)) <= 64
    org = OrgId("org-" + "y" * 100)
    a, b = UserId("user-" + "a" * 100), UserId("user-" + "b" * 100)
    assert len(colleague_dm_channel_id(org, a, b)) <= 64
    # Truncation-based ids would collide here; hashing the full input does not.
    assert appointment_channel_id(AppointmentId("x" * 64 + "1")) != appointment_channel_id(
        AppointmentId("x" * 64 + "2")
    )


def test_search_patterns_are_never_interpreted() -> None:
    keys = SearchKeys.of("Ana Abbot", "ana@example.com")
    for hostile in [".*", "^.", "(?i)a", "a|b", "\\", "$where", '{"$gt": ""}']:
        if len(hostile.strip()) >= 2:
            assert not keys.matches(SearchQuery.parse(hostile))


async def test_token_expires_at_matches_its_exp_claim(world: World) -> None:
    token = await world.service.connect_user(caller=UserId("vet-1"), user_id=UserId("vet-1"))
    claims = jwt.decode(
        token.token, TEST_SECRET, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert claims["exp"] * 1000 == int(token.expires_at.timestamp() * 1000)
    assert claims["iat"] <= claims["exp"]


async def test_client_chosen_group_ids_cannot_squat_derived_ids(world: World) -> None:
    target = colleague_dm_channel_id(OrgId("org-1"), UserId("vet-1"), UserId("vet-2"))
    with pytest.raises(errors.InvalidInput):
        await world.service.create_group(
            caller=UserId("nurse-1"),
            created_by=UserId("nurse-1"),
            org_id=OrgId("org-1"),
            name="Trap",
            member_ids=[UserId("vet-1")],
            channel_id=ChannelId(target),
        )
