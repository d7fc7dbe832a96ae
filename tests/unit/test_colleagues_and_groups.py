"""Colleague DMs, groups, typeahead, member lists, and channel lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.world import World, build_world
from yc_chat.domain import errors
from yc_chat.domain.channel_ids import colleague_dm_channel_id
from yc_chat.domain.limits import MAX_GROUP_MEMBERS
from yc_chat.domain.model import (
    AppointmentId,
    ChannelId,
    ChannelRole,
    ChatCategory,
    ChatStatus,
    OrgId,
    UserId,
)
from yc_chat.domain.usecases import MyChannelsRequest

ORG, ORG2 = OrgId("org-1"), OrgId("org-2")
VET, VET2, NURSE, ADMIN, OWNER = (
    UserId(x) for x in ("vet-1", "vet-2", "nurse-1", "admin-1", "owner-org")
)
PET, VETX, ADMINX = UserId("pet-1"), UserId("vet-x"), UserId("admin-x")


@pytest.fixture
async def world() -> World:
    return await build_world()


# -- colleague DMs -------------------------------------------------------------------------


async def test_dm_is_idempotent_per_unordered_pair(world: World) -> None:
    one = await world.service.start_colleague_dm(
        caller=VET, org_id=ORG, member_ids=[VET, NURSE], created_by=VET
    )
    two = await world.service.start_colleague_dm(
        caller=NURSE, org_id=ORG, member_ids=[VET, NURSE], created_by=NURSE
    )
    three = await world.service.start_colleague_dm(
        caller=NURSE, org_id=ORG, member_ids=[NURSE, VET], created_by=NURSE
    )
    assert one.channel_id == two.channel_id == three.channel_id
    assert one.channel_id == colleague_dm_channel_id(ORG, VET, NURSE)
    assert three.members == (NURSE, VET)
    channel = await world.channel(one.channel_id)
    assert channel.members == {VET, NURSE}
    assert channel.status is ChatStatus.ACTIVE
    assert not channel.is_group


async def test_dm_rules_from_the_attackers_side(world: World) -> None:
    cases: list[tuple[type[errors.ChatError], dict[str, object]]] = [
        (errors.InvalidInput, {"caller": VET, "member_ids": [VET, VET], "created_by": VET}),
        (errors.InvalidInput, {"caller": VET, "member_ids": [VET], "created_by": VET}),
        (errors.Forbidden, {"caller": VET, "member_ids": [VET, NURSE], "created_by": NURSE}),
        (errors.Forbidden, {"caller": ADMIN, "member_ids": [VET, NURSE], "created_by": ADMIN}),
        (errors.Forbidden, {"caller": VETX, "member_ids": [VETX, NURSE], "created_by": VETX}),
        (errors.Forbidden, {"caller": PET, "member_ids": [PET, VET], "created_by": PET}),
        (errors.NotOrgMember, {"caller": VET, "member_ids": [VET, VETX], "created_by": VET}),
    ]
    for expected, kwargs in cases:
        with pytest.raises(expected):
            await world.service.start_colleague_dm(org_id=ORG, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(errors.NotFound):
        await world.service.start_colleague_dm(
            caller=VET, org_id=OrgId("nope"), member_ids=[VET, NURSE], created_by=VET
        )
    page = await world.service.list_my_channels(caller=VET)
    assert page.channels == ()


async def test_not_org_member_lists_the_ids(world: World) -> None:
    with pytest.raises(errors.NotOrgMember) as caught:
        await world.service.start_colleague_dm(
            caller=VET, org_id=ORG, member_ids=[VET, VETX], created_by=VET
        )
    assert caught.value.details == ("vet-x",)


# -- groups --------------------------------------------------------------------------------


async def test_group_creation_includes_creator_and_metadata(world: World) -> None:
    ref = await world.service.create_group(
        caller=NURSE, org_id=ORG, name="  Surgery team ", member_ids=[VET, VET2], created_by=NURSE
    )
    assert ref.members == (NURSE, VET, VET2)
    group = await world.channel(ref.channel_id)
    assert group.name == "Surgery team"
    assert group.is_group
    assert group.member_count == 3
    assert group.created_by == NURSE
    assert group.status is ChatStatus.ACTIVE


async def test_group_rules(world: World) -> None:
    base = {"org_id": ORG, "name": "G", "member_ids": [VET]}
    with pytest.raises(errors.Forbidden):  # read-only needs an admin
        await world.service.create_group(caller=NURSE, created_by=NURSE, is_read_only=True, **base)  # type: ignore[arg-type]
    with pytest.raises(errors.Forbidden):  # another org's staff
        await world.service.create_group(caller=VETX, created_by=VETX, **base)  # type: ignore[arg-type]
    with pytest.raises(errors.Forbidden):  # createdBy names someone else
        await world.service.create_group(caller=VET2, created_by=NURSE, **base)  # type: ignore[arg-type]
    with pytest.raises(errors.NotOrgMember):
        await world.service.create_group(
            caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET, VETX]
        )
    with pytest.raises(errors.InvalidInput):  # creator alone is not a group
        await world.service.create_group(
            caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[NURSE]
        )
    for bad in [{"name": "   "}, {"name": "x" * 101}, {"image": "http://insecure.example/a.png"}]:
        with pytest.raises(errors.InvalidInput):
            await world.service.create_group(caller=NURSE, created_by=NURSE, **{**base, **bad})  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidInput):  # may not squat a DM id
        await world.service.create_group(
            caller=NURSE,
            created_by=NURSE,
            channel_id=colleague_dm_channel_id(ORG, VET, VET2),
            **base,  # type: ignore[arg-type]
        )
    assert (await world.service.list_my_channels(caller=VET)).channels == ()


async def test_admin_read_only_group_and_duplicate_channel_id(world: World) -> None:
    ref = await world.service.create_group(
        caller=ADMIN,
        created_by=ADMIN,
        org_id=ORG,
        name="Announcements",
        member_ids=[VET, NURSE],
        is_read_only=True,
        channel_id=ChannelId("announcements"),
        image="https://cdn.example/a.png",
    )
    assert ref.channel_id == "announcements"
    assert (await world.channel("announcements")).read_only
    with pytest.raises(errors.Conflict) as caught:
        await world.service.create_group(
            caller=ADMIN,
            created_by=ADMIN,
            org_id=ORG,
            name="Again",
            member_ids=[VET],
            channel_id=ChannelId("announcements"),
        )
    assert (caught.value.code, caught.value.message) == (
        "channel_exists", "A channel with this id already exists"
    )  # fmt: skip
    assert (await world.channel("announcements")).name == "Announcements"


async def test_group_members_change_with_one_named_notice(world: World) -> None:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET]
    )
    await world.service.update_group_members(
        caller=NURSE, channel_id=ref.channel_id, added_by=NURSE, add=[VET2, ADMIN], remove=[VET]
    )
    group = await world.channel(ref.channel_id)
    assert group.members == {NURSE, VET2, ADMIN}
    assert group.member_count == 3
    assert world.message_rows(ref.channel_id) == [
        (
            "system",
            "system",
            "Priya Shah added Maya Ortega and Tom O'Brien and removed Dr. Ana Núñez.",
        )
    ]
    # A change that changes nothing posts nothing.
    await world.service.update_group_members(
        caller=ADMIN, channel_id=ref.channel_id, added_by=ADMIN, add=[VET2]
    )
    assert len(world.message_rows(ref.channel_id)) == 1


async def test_group_edit_rules(world: World) -> None:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET]
    )
    cid = ref.channel_id
    svc = world.service
    with pytest.raises(errors.Forbidden):
        await svc.update_group_members(caller=VET, channel_id=cid, added_by=VET, add=[VET2])
    with pytest.raises(errors.Forbidden):
        await svc.update_group_members(caller=ADMINX, channel_id=cid, added_by=ADMINX, add=[VET2])
    with pytest.raises(errors.Forbidden):
        await svc.update_group_members(caller=ADMIN, channel_id=cid, added_by=NURSE, add=[VET2])
    with pytest.raises(errors.NotOrgMember):
        await svc.update_group_members(caller=NURSE, channel_id=cid, added_by=NURSE, add=[VETX])
    with pytest.raises(errors.InvalidInput):
        await svc.update_group_members(caller=NURSE, channel_id=cid, added_by=NURSE)
    with pytest.raises(errors.InvalidInput):
        await svc.update_group_members(
            caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2], remove=[VET2]
        )
    with pytest.raises(errors.Conflict) as caught:
        await svc.update_group_members(caller=ADMIN, channel_id=cid, added_by=ADMIN, remove=[NURSE])
    assert (caught.value.code, caught.value.message) == (
        "cannot_remove_creator", "The group's creator cannot be removed"
    )  # fmt: skip
    dm = await svc.start_colleague_dm(
        caller=VET, org_id=ORG, member_ids=[VET, NURSE], created_by=VET
    )
    with pytest.raises(errors.NotFound):
        await svc.update_group_members(
            caller=VET, channel_id=dm.channel_id, added_by=VET, add=[VET2]
        )
    assert (await world.channel(cid)).members == {NURSE, VET}
    await svc.end_chat(caller=NURSE, channel_id=cid)
    with pytest.raises(errors.Conflict) as ended:
        await svc.update_group_members(caller=NURSE, channel_id=cid, added_by=NURSE, add=[VET2])
    assert (ended.value.code, ended.value.message) == ("chat_ended", "This group has ended")


async def test_dms_cannot_be_ended(world: World) -> None:
    dm = await world.service.start_colleague_dm(
        caller=VET, org_id=ORG, member_ids=[VET, NURSE], created_by=VET
    )
    with pytest.raises(errors.Conflict):
        await world.service.end_chat(caller=NURSE, channel_id=dm.channel_id)
    with pytest.raises(errors.Forbidden):
        await world.service.end_chat(caller=ADMIN, channel_id=dm.channel_id)
    assert (await world.channel(dm.channel_id)).status is ChatStatus.ACTIVE


# -- typeahead and member lists ------------------------------------------------------------


async def test_search_excludes_caller_and_needs_membership(world: World) -> None:
    # Only vet-1 ("Dr. Ana Núñez") matches "dr": everyone else finds them, they do not.
    hits = await world.service.search_colleagues(caller=VET2, org_id=ORG, query="dr")
    assert [m.user.id for m in hits] == ["vet-1"]
    assert await world.service.search_colleagues(caller=VET, org_id=ORG, query="dr") == []
    with pytest.raises(errors.Forbidden):
        await world.service.search_colleagues(caller=VETX, org_id=ORG, query="dr")
    with pytest.raises(errors.NotFound):
        await world.service.search_colleagues(caller=VET, org_id=OrgId("nope"), query="dr")
    for query, limit in [("a", None), ("  b ", None), ("ok", 0), ("ok", 51)]:
        with pytest.raises(errors.InvalidInput):
            await world.service.search_colleagues(caller=VET, org_id=ORG, query=query, limit=limit)


async def test_member_list_pages_with_cursor(world: World) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = await world.service.list_org_members(
            caller=NURSE, org_id=ORG, limit=2, cursor=cursor
        )
        seen.extend(m.user.id for m in page.members)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["vet-1", "admin-1", "owner-org", "nurse-1", "vet-2"]
    with pytest.raises(errors.Forbidden):
        await world.service.list_org_members(caller=PET, org_id=ORG)
    with pytest.raises(errors.InvalidInput):
        await world.service.list_org_members(caller=NURSE, org_id=ORG, limit=501)
    with pytest.raises(errors.InvalidInput):
        await world.service.list_org_members(caller=NURSE, org_id=ORG, cursor="garbage!")


# -- channel lists -------------------------------------------------------------------------


async def test_my_channels_only_mine_newest_first_with_names(world: World) -> None:
    svc = world.service
    apt = await svc.open_appointment_chat(caller=VET, appointment_id=AppointmentId("apt-soon"))
    dm = await svc.start_colleague_dm(
        caller=VET, org_id=ORG, member_ids=[VET, NURSE], created_by=VET
    )
    group = await svc.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="Team", member_ids=[VET]
    )
    world.clock.advance(timedelta(minutes=1))
    world.state.send_message("messaging", dm.channel_id, text="hello", user_id=NURSE)
    page = await svc.list_my_channels(caller=VET)
    assert next(c.id for c in page.channels) == dm.channel_id
    assert {c.id for c in page.channels} == {apt.channel_id, dm.channel_id, group.channel_id}
    by_id = {c.id: c for c in page.channels}
    assert by_id[dm.channel_id].name == "Priya Shah"
    assert by_id[dm.channel_id].last_message == "hello"
    assert by_id[dm.channel_id].appointment_id is None
    assert by_id[apt.channel_id].name == "Chat with Sam Lee"
    assert by_id[apt.channel_id].appointment_id == "apt-soon"
    assert by_id[group.channel_id].name == "Team"
    assert by_id[group.channel_id].is_group
    nurse_view = await svc.list_my_channels(caller=NURSE)
    assert {c.name for c in nurse_view.channels} == {"Dr. Ana Núñez", "Team"}
    assert (await svc.list_my_channels(caller=VET2)).channels == ()


async def test_my_channels_filters_and_pages(world: World) -> None:
    svc = world.service
    await svc.open_appointment_chat(caller=VET, appointment_id=AppointmentId("apt-soon"))
    await svc.open_appointment_chat(caller=VET, appointment_id=AppointmentId("apt-later"))
    await svc.start_colleague_dm(caller=VET, org_id=ORG, member_ids=[VET, NURSE], created_by=VET)
    clients = await svc.list_my_channels(caller=VET, category=ChatCategory.CLIENT)
    assert {c.category for c in clients.channels} == {"client"}
    assert len(clients.channels) == 2
    assert len((await svc.list_my_channels(caller=PET, role=ChannelRole.PET_OWNER)).channels) == 2
    assert (await svc.list_my_channels(caller=PET, role=ChannelRole.VET)).channels == ()
    assert len((await svc.list_my_channels(caller=VET, role=ChannelRole.VET)).channels) == 2
    first = await svc.list_my_channels(caller=VET, limit=2)
    assert first.next_cursor is not None
    rest = await svc.list_my_channels(caller=VET, limit=2, cursor=first.next_cursor)
    assert rest.next_cursor is None
    ids = [c.id for c in first.channels + rest.channels]
    assert len(ids) == len(set(ids)) == 3
    with pytest.raises(errors.Forbidden):
        await svc.list_my_channels(caller=VET, org_id=ORG2)
    with pytest.raises(errors.NotFound):
        await svc.list_my_channels(caller=VET, org_id=OrgId("nope"))
    for bad_limit in [0, 101]:
        with pytest.raises(errors.InvalidInput):
            await svc.list_my_channels(caller=VET, limit=bad_limit)


def test_raw_channel_list_parameters_become_typed_or_one_400() -> None:
    request = MyChannelsRequest.parse(category="client", org_id="org-1", role="vet", limit=5)
    assert request == MyChannelsRequest(
        category=ChatCategory.CLIENT, org_id=OrgId("org-1"), role=ChannelRole.VET, limit=5
    )
    assert MyChannelsRequest.parse() == MyChannelsRequest()
    with pytest.raises(errors.InvalidInput) as caught:
        MyChannelsRequest.parse(category="nope", role="admin", org_id=" ", limit=0)
    # Every problem at once, in the domain's words, in the order the parameters come.
    assert [d.field for d in caught.value.details if not isinstance(d, str)] == [
        "category",
        "role",
        "org_id",
        "limit",
    ]


async def test_org_groups_lists_only_groups_the_caller_is_in(world: World) -> None:
    svc = world.service
    mine = await svc.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="Mine", member_ids=[VET]
    )
    await svc.create_group(
        caller=ADMIN, created_by=ADMIN, org_id=ORG, name="Not", member_ids=[VET2]
    )
    groups = await svc.list_org_groups(caller=NURSE, org_id=ORG)
    assert [g.id for g in groups] == [mine.channel_id]
    with pytest.raises(errors.Forbidden):
        await svc.list_org_groups(caller=VETX, org_id=ORG)
    with pytest.raises(errors.InvalidInput):
        await svc.list_org_groups(caller=NURSE, org_id=None)


async def test_read_only_room_lets_org_admins_post_and_others_read(world: World) -> None:
    from yc_chat.adapters.fake_stream import StreamAPIError

    ref = await world.service.create_group(
        caller=ADMIN,
        created_by=ADMIN,
        org_id=ORG,
        name="Announcements",
        member_ids=[VET, OWNER],
        is_read_only=True,
    )

    def post(user: UserId) -> None:
        world.state.send_message(
            "messaging", ref.channel_id, text="hi", user_id=user, client_side=True
        )

    post(ADMIN)
    post(OWNER)  # "owner" is an org admin role
    with pytest.raises(StreamAPIError):
        post(VET)
    await world.service.update_group_members(
        caller=ADMIN, channel_id=ref.channel_id, added_by=ADMIN, add=[NURSE]
    )
    with pytest.raises(StreamAPIError):
        post(NURSE)


async def test_groups_stay_within_streams_member_limit(world: World) -> None:
    from yc_chat.domain.limits import MAX_GROUP_MEMBERS
    from yc_chat.domain.model import Membership, User

    crowd = [UserId(f"staff-{n:03d}") for n in range(MAX_GROUP_MEMBERS + 1)]
    for uid in crowd:
        await world.directory.put_user(User(id=uid, name=f"Staff {uid}"))
        await world.directory.put_membership(Membership(org_id=ORG, user_id=uid, role="vet"))
    with pytest.raises(errors.InvalidInput):  # the creator on top of 100 others
        await world.service.create_group(
            caller=NURSE, created_by=NURSE, org_id=ORG, name="All", member_ids=crowd[:100]
        )
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="All", member_ids=crowd[:99]
    )
    with pytest.raises(errors.Conflict) as full:
        await world.service.update_group_members(
            caller=NURSE, channel_id=ref.channel_id, added_by=NURSE, add=[crowd[99]]
        )
    assert (full.value.code, full.value.message) == (
        "group_full",
        "A group has at most 100 members",
    )
    # Swapping one member for another keeps the size, so it is allowed.
    await world.service.update_group_members(
        caller=NURSE, channel_id=ref.channel_id, added_by=NURSE, add=[crowd[99]], remove=[crowd[0]]
    )
    assert (await world.channel(ref.channel_id)).member_count == MAX_GROUP_MEMBERS


# -- group membership changes at their edges (each was a surviving mutant: docs/testing.md) ---


async def test_a_member_may_leave_with_a_notice_and_nothing_else_passes_as_leaving(
    world: World,
) -> None:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET, VET2]
    )
    cid, svc = ref.channel_id, world.service
    # Neither creator nor admin: adding, or removing someone else, is not leaving.
    for add, remove in (([ADMIN], [VET]), ([], [VET2]), ([], [VET, VET2])):
        with pytest.raises(errors.Forbidden) as denied:
            await svc.update_group_members(
                caller=VET, channel_id=cid, added_by=VET, add=add, remove=remove
            )
        assert (denied.value.code, denied.value.message) == (
            "not_participant",
            "Only the group's creator or an org admin can change its members; "
            "others may only leave",
        )
    await svc.update_group_members(caller=VET, channel_id=cid, added_by=VET, remove=[VET])
    assert (await world.channel(cid)).members == {NURSE, VET2}
    assert world.message_rows(cid) == [("system", "system", "Dr. Ana Núñez left the group.")]


async def test_an_admin_added_to_a_read_only_room_may_post_there(world: World) -> None:
    from yc_chat.adapters.fake_stream import StreamAPIError

    ref = await world.service.create_group(
        caller=ADMIN, created_by=ADMIN, org_id=ORG, name="News", member_ids=[VET],
        is_read_only=True,
    )  # fmt: skip
    await world.service.update_group_members(
        caller=ADMIN, channel_id=ref.channel_id, added_by=ADMIN, add=[OWNER, NURSE]
    )
    world.state.send_message(
        "messaging", ref.channel_id, text="hi", user_id=OWNER, client_side=True
    )
    with pytest.raises(StreamAPIError):
        world.state.send_message(
            "messaging", ref.channel_id, text="hi", user_id=NURSE, client_side=True
        )


async def test_a_member_change_names_each_bad_field(world: World) -> None:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET]
    )
    svc, cid = world.service, ref.channel_id
    cases: list[tuple[dict[str, object], list[tuple[str, str | None]]]] = [
        ({"channel_id": ChannelId("no spaces allowed")}, [("channel_id", None)]),
        ({"added_by": UserId("")}, [("added_by", None)]),
        ({"add": [UserId("")]}, [("add[0]", None)]),
        ({"remove": [UserId("")]}, [("remove[0]", None)]),
        ({"add": []}, [("add", "add and remove must not both be empty")]),
        (
            {"add": [VET2, ADMIN], "remove": [ADMIN, VET2]},
            [("remove", "must not repeat ids from add: admin-1, vet-2")],
        ),
    ]
    for change, expected in cases:
        request: dict[str, object] = {
            "caller": NURSE, "channel_id": cid, "added_by": NURSE, "add": [VET2], **change
        }  # fmt: skip
        with pytest.raises(errors.InvalidInput) as invalid:
            await svc.update_group_members(**request)  # type: ignore[arg-type]
        found = [(p.field, p.message) for p in invalid.value.details]  # type: ignore[union-attr]
        assert [f for f, _ in found] == [f for f, _ in expected], change
        for (_, message), (_, wanted) in zip(found, expected, strict=True):
            assert wanted is None or message == wanted
    with pytest.raises(errors.Forbidden) as not_caller:
        await svc.update_group_members(caller=NURSE, channel_id=cid, added_by=VET, add=[VET2])
    assert not_caller.value.field == "added_by"
    assert (await world.channel(cid)).members == {NURSE, VET}


async def test_a_notice_names_three_or_more_people_with_commas_and_a_final_and(
    world: World,
) -> None:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET]
    )
    await world.service.update_group_members(
        caller=NURSE, channel_id=ref.channel_id, added_by=NURSE, add=[VET2, ADMIN, OWNER]
    )
    [(_, _, text)] = world.message_rows(ref.channel_id)
    assert text == "Priya Shah added Maya Ortega, Olga Owner and Tom O'Brien."


async def test_only_a_group_of_ours_is_changed_and_others_are_not_found(world: World) -> None:
    dm = await world.service.start_colleague_dm(
        caller=VET, org_id=ORG, member_ids=[VET, NURSE], created_by=VET
    )
    with pytest.raises(errors.NotFound) as missing:
        await world.service.update_group_members(
            caller=VET, channel_id=dm.channel_id, added_by=VET, add=[VET2]
        )
    assert (missing.value.code, missing.value.message) == ("group_not_found", "Group not found")


async def test_group_creation_names_each_bad_field_and_keeps_what_it_is_given(
    world: World,
) -> None:
    base: dict[str, object] = {
        "caller": NURSE, "created_by": NURSE, "org_id": ORG, "name": "G", "member_ids": [VET]
    }  # fmt: skip
    too_many = [UserId(f"u-{n}") for n in range(MAX_GROUP_MEMBERS + 1)]
    for change, field, message in (
        ({"org_id": OrgId("")}, "org_id", None),
        ({"created_by": UserId("")}, "created_by", None),
        ({"name": " "}, "name", None),
        ({"image": "http://cdn.example/a.png"}, "image", None),
        ({"channel_id": ChannelId("no spaces allowed")}, "channel_id", None),
        ({"member_ids": []}, "member_ids", "a group needs at least two distinct members"),
        ({"member_ids": [UserId("")]}, "member_ids[0]", None),
        (
            {"member_ids": too_many},
            "member_ids",
            f"a group has at most {MAX_GROUP_MEMBERS} members",
        ),
    ):
        with pytest.raises(errors.InvalidInput) as invalid:
            await world.service.create_group(**{**base, **change})  # type: ignore[arg-type]
        found = {p.field: p.message for p in invalid.value.details}  # type: ignore[union-attr]
        assert field in found, change
        assert message is None or found[field] == message
    with pytest.raises(errors.Forbidden) as not_caller:
        await world.service.create_group(**{**base, "created_by": VET, "member_ids": [NURSE]})  # type: ignore[arg-type]
    assert not_caller.value.field == "created_by"
    with pytest.raises(errors.Forbidden) as not_admin:
        await world.service.create_group(**{**base, "is_read_only": True})  # type: ignore[arg-type]
    assert (not_admin.value.code, not_admin.value.message) == (
        "admin_only", "Only org admins can create read-only groups"
    )  # fmt: skip
    ref = await world.service.create_group(**{**base, "image": "https://cdn.example/g.png"})  # type: ignore[arg-type]
    assert (await world.channel(ref.channel_id)).image == "https://cdn.example/g.png"


async def test_removing_others_is_announced_as_a_removal_not_as_leaving(world: World) -> None:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET, VET2]
    )
    await world.service.update_group_members(
        caller=NURSE, channel_id=ref.channel_id, added_by=NURSE, remove=[VET]
    )
    assert world.message_rows(ref.channel_id) == [
        ("system", "system", "Priya Shah removed Dr. Ana Núñez.")
    ]
