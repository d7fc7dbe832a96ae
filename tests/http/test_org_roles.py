"""Org roles on removal (issue 19, finding 6), from the attacker's side over HTTP.

The attack as found: an admin removed the org's owner, and the last admin removed
themselves, after which nobody could manage the org.
"""

from __future__ import annotations

from typing import Any

from tests.support.world import World, assert_error, bearer
from yc_chat.domain import errors
from yc_chat.domain.model import Membership, OrgId, UserId

ORG = OrgId("org-1")
# The demo clinic's org-1 has one owner and one admin.
OWNER, ADMIN = "owner-org", "admin-1"


async def _remove(world: World, caller: str, user: str) -> Any:
    return await world.client.delete(f"/api/orgs/org-1/members/{user}", headers=bearer(caller))


async def _make(world: World, user: str, role: str) -> None:
    await world.directory.put_membership(Membership(org_id=ORG, user_id=UserId(user), role=role))


async def _role(world: World, user: str) -> str | None:
    membership = await world.directory.get_membership(ORG, UserId(user))
    return None if membership is None else membership.role


async def _group_with(world: World, creator: str, *members: str) -> str:
    response = await world.post(
        "/api/chat/channels/group",
        creator,
        {"orgId": "org-1", "name": "Rota", "memberIds": list(members), "createdBy": creator},
    )
    assert response.status_code == 200, response.text
    channel_id: str = response.json()["channelId"]
    return channel_id


async def test_an_admin_cannot_remove_the_owner(world: World) -> None:
    group = await _group_with(world, OWNER, "vet-1", "nurse-1")
    before = await world.snapshot()

    assert_error(await _remove(world, ADMIN, OWNER), 403, errors.CODE_OWNER_ONLY)
    # However the role is spelled by the host.
    await _make(world, OWNER, " Owner ")
    assert_error(await _remove(world, ADMIN, OWNER), 403, errors.CODE_OWNER_ONLY)

    assert await world.snapshot() == before
    assert await _role(world, OWNER) == " Owner "
    assert OWNER in {m.user_id for m in world.state.channel("messaging", group).members}


async def test_the_last_owner_cannot_remove_themselves(world: World) -> None:
    assert (await _remove(world, OWNER, ADMIN)).status_code == 200  # an owner removes an admin
    before = await world.snapshot()
    body = assert_error(await _remove(world, OWNER, OWNER), 409, errors.CODE_LAST_ADMIN)
    assert "last" in body["error"]
    assert await world.snapshot() == before
    assert await _role(world, OWNER) == "owner"
    # Still managing the org: they can remove someone else.
    assert (await _remove(world, OWNER, "vet-2")).status_code == 200


async def test_the_last_admin_cannot_remove_themselves(world: World) -> None:
    await _make(world, OWNER, "vet")  # the host demoted the owner: admin-1 is the last admin
    before = await world.snapshot()
    assert_error(await _remove(world, ADMIN, ADMIN), 409, errors.CODE_LAST_ADMIN)
    assert await world.snapshot() == before
    assert await _role(world, ADMIN) == "admin"


async def test_of_an_owner_and_an_admin_either_may_leave_never_both(world: World) -> None:
    assert (await _remove(world, ADMIN, ADMIN)).status_code == 200  # the admin leaves
    assert_error(await _remove(world, OWNER, OWNER), 409, errors.CODE_LAST_ADMIN)

    await _make(world, "vet-2", "admin")
    assert (await _remove(world, "vet-2", "vet-2")).status_code == 200  # an admin leaves
    await _make(world, "nurse-1", "owner")
    assert (await _remove(world, "nurse-1", OWNER)).status_code == 200  # an owner, an owner
    assert_error(await _remove(world, "nurse-1", "nurse-1"), 409, errors.CODE_LAST_ADMIN)
    assert await _role(world, "nurse-1") == "owner"


async def test_an_admin_of_another_org_cannot_remove_the_owner(world: World) -> None:
    before = await world.snapshot()
    assert_error(await _remove(world, "admin-x", OWNER), 403)
    assert await world.snapshot() == before
    assert await _role(world, OWNER) == "owner"


async def test_the_openapi_document_lists_the_conflict(world: World) -> None:
    document = (await world.client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/orgs/{orgId}/members/{userId}"]["delete"]
    assert "409" in operation["responses"]
    assert "last_admin" in operation["description"]
    assert "owner_only" in operation["description"]
