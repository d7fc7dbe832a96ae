"""Group edges the mutation run found untested (docs/testing.md, "Mutation testing"): a
member the directory no longer knows, Stream having lost users, an admin joining an
ordinary group, and groups under a configured system user."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.world import World, build_system_user_world, build_world
from yc_chat.domain import errors
from yc_chat.domain.model import SYSTEM_USER_ID, ChannelId, OrgId, UserId, UserProfile

ORG = OrgId("org-1")
VET, VET2, NURSE, ADMIN = (UserId(x) for x in ("vet-1", "vet-2", "nurse-1", "admin-1"))


@pytest.fixture
async def world() -> World:
    return await build_world()


async def _name(world: World, user_id: UserId) -> str:
    user = await world.directory.get_user(user_id)
    assert user is not None
    return user.name


async def test_a_removed_member_the_directory_no_longer_knows_is_named_by_id(
    world: World,
) -> None:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET]
    )
    # Someone Stream still lists in the group, whom the directory has no record of.
    ghost = UserId("ghost-1")
    world.state.upsert_users([{"id": ghost, "name": "Ghost"}])
    await world.chat.inner.change_members(ref.channel_id, add=frozenset({ghost}))

    await world.service.update_group_members(
        caller=NURSE, channel_id=ref.channel_id, added_by=NURSE, remove=[ghost]
    )

    assert (await world.channel(ref.channel_id)).members == {NURSE, VET}
    notice = f"{await _name(world, NURSE)} removed ghost-1."
    assert world.message_rows(ref.channel_id)[-1] == ("system", "system", notice)


def _roles(world: World, channel_id: ChannelId) -> dict[str, str]:
    channel = world.state.channel("messaging", channel_id)
    assert channel is not None
    return {member.user_id: member.channel_role for member in channel.members}


async def test_an_admin_added_to_an_ordinary_group_is_an_ordinary_member(world: World) -> None:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET]
    )
    await world.service.update_group_members(
        caller=NURSE, channel_id=ref.channel_id, added_by=NURSE, add=[ADMIN]
    )
    roles = _roles(world, ref.channel_id)
    # The read-only room's posting role is for read-only rooms only: here it is the
    # channel role of every other member.
    assert roles[ADMIN] == roles[VET]
    # Where it is given, it is a different role (so the check above could fail).
    news = await world.service.create_group(
        caller=ADMIN, created_by=ADMIN, org_id=ORG, name="News", member_ids=[VET],
        is_read_only=True,
    )  # fmt: skip
    await world.service.update_group_members(
        caller=ADMIN, channel_id=news.channel_id, added_by=ADMIN, add=[UserId("owner-org")]
    )
    news_roles = _roles(world, news.channel_id)
    assert news_roles["owner-org"] != news_roles[VET]


async def _as_if_sent(world: World, *user_ids: UserId) -> None:
    """yc-chat remembers sending these profiles, which Stream does not have (it lost them:
    a new app on the same database, users deleted in its dashboard)."""
    users = await world.directory.get_users(user_ids)
    await world.fingerprints.put_many(
        {uid: UserProfile.of(user).fingerprint for uid, user in users.items()}
    )
    for uid in user_ids:
        assert world.state.user(uid) is None


async def test_a_group_is_created_after_stream_lost_its_members(world: World) -> None:
    await _as_if_sent(world, NURSE, VET)

    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET]
    )

    assert (await world.channel(ref.channel_id)).members == {NURSE, VET}
    for uid in (NURSE, VET):
        user = world.state.user(uid)
        assert user is not None and user.name == await _name(world, uid)


async def test_a_member_is_added_after_stream_lost_them(world: World) -> None:
    ref = await world.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET]
    )
    await _as_if_sent(world, VET2)

    await world.service.update_group_members(
        caller=NURSE, channel_id=ref.channel_id, added_by=NURSE, add=[VET2]
    )

    assert (await world.channel(ref.channel_id)).members == {NURSE, VET, VET2}
    user = world.state.user(VET2)
    assert user is not None and user.name == await _name(world, VET2)


FORGED_GROUP: dict[str, Any] = {
    "chatCategory": "group",
    "orgId": "org-1",
    "isGroup": True,
    "status": "active",
    "name": "Happy Paws: all staff (official)",
}


async def test_groups_under_a_configured_system_user() -> None:
    runtime, state = await build_system_user_world("yc-bot")
    service = runtime.service
    ref = await service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="G", member_ids=[VET]
    )

    changed = await service.update_group_members(
        caller=NURSE, channel_id=ref.channel_id, added_by=NURSE, add=[VET2]
    )

    assert changed.members == {NURSE, VET, VET2}
    assert [m.user_id for m in state.messages("messaging", ref.channel_id)] == ["yc-bot"]
    # A channel by someone who registered the default system user's id is no group here,
    # even for an org admin.
    state.upsert_users([{"id": str(SYSTEM_USER_ID), "name": "x"}])
    state.get_or_create_channel(
        "messaging",
        "forged",
        created_by_id=str(SYSTEM_USER_ID),
        data=FORGED_GROUP,
        members=["vet-1", "nurse-1"],
    )
    with pytest.raises(errors.NotFound) as refused:
        await service.update_group_members(
            caller=ADMIN, channel_id=ChannelId("forged"), added_by=ADMIN, add=[VET2]
        )
    assert refused.value.code == errors.CODE_GROUP_NOT_FOUND
    forged = state.channel("messaging", "forged")
    assert forged is not None and {m.user_id for m in forged.members} == {"vet-1", "nurse-1"}
