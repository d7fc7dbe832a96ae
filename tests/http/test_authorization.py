"""Every authorization rule, tried from the attacker's side: the right status, nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.world import World, assert_error
from yc_chat.domain.channel_ids import appointment_channel_id, colleague_dm_channel_id
from yc_chat.domain.model import AppointmentId, OrgId, UserId

APT1 = appointment_channel_id(AppointmentId("apt-1"))
DM = colleague_dm_channel_id(OrgId("org-1"), UserId("vet-1"), UserId("nurse-1"))
GROUP = "surgery"


async def _setup(world: World) -> None:
    """Channels the attacks aim at, created by the people allowed to create them."""
    assert (await world.post("/api/chat/channels", "vet-1", {"appointmentId": "apt-1"})).is_success
    dm = {"orgId": "org-1", "memberIds": ["vet-1", "nurse-1"], "createdBy": "vet-1"}
    assert (await world.post("/api/chat/channels/internal", "vet-1", dm)).is_success
    group = {
        "orgId": "org-1",
        "name": "Surgery",
        "memberIds": ["nurse-1"],
        "createdBy": "vet-1",
        "channelId": GROUP,
    }
    assert (await world.post("/api/chat/channels/group", "vet-1", group)).is_success
    device = {"token": "victim-device", "platform": "android"}
    assert (await world.post("/api/devices", "owner-1", device)).is_success


def _group(**overrides: Any) -> dict[str, Any]:
    body = {"orgId": "org-1", "name": "New room", "memberIds": ["vet-2"], "createdBy": "vet-1"}
    body.update(overrides)
    return body


def _members(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"add": ["vet-2"], "addedBy": "vet-1"}
    body.update(overrides)
    return body


# (caller, method, path, body or query, status, code)
ATTACKS: list[tuple[str, str, str, Any, int, str]] = [
    # Token: only for yourself.
    ("vet-1", "POST", "/api/chat/token", {"userId": "vet-2"}, 403, "not_caller"),
    ("owner-1", "POST", "/api/chat/token", {"userId": "admin-1"}, 403, "not_caller"),
    # Appointment chat: its pet owner, its vet, or an admin of its org.
    ("vet-x", "POST", "/api/chat/channels", {"appointmentId": "apt-1"}, 403, "not_participant"),
    ("admin-x", "POST", "/api/chat/channels", {"appointmentId": "apt-1"}, 403, "not_participant"),
    ("owner-2", "POST", "/api/chat/channels", {"appointmentId": "apt-1"}, 403, "not_participant"),
    ("nurse-1", "POST", "/api/chat/channels", {"appointmentId": "apt-1"}, 403, "not_participant"),
    ("vet-2", "POST", "/api/chat/channels", {"appointmentId": "apt-1"}, 403, "not_participant"),
    ("owner-2", "POST", "/api/chat/channels", {"appointmentId": "nope"}, 404,
     "appointment_not_found"),
    ("admin-1", "POST", "/api/chat/channels",
     {"appointmentId": "apt-2", "petOwnerId": "owner-1"}, 409, "appointment_mismatch"),
    ("owner-2", "POST", "/api/chat/channels",
     {"appointmentId": "apt-2", "vetId": "vet-1"}, 409, "appointment_mismatch"),
    # Colleague DM: the caller is `createdBy`, one of the two, in the org.
    ("vet-1", "POST", "/api/chat/channels/internal",
     {"orgId": "org-1", "memberIds": ["vet-1", "vet-2"], "createdBy": "vet-2"}, 403, "not_caller"),
    ("vet-1", "POST", "/api/chat/channels/internal",
     {"orgId": "org-1", "memberIds": ["vet-2", "nurse-1"], "createdBy": "vet-1"}, 403,
     "not_participant"),
    ("vet-x", "POST", "/api/chat/channels/internal",
     {"orgId": "org-1", "memberIds": ["vet-x", "vet-1"], "createdBy": "vet-x"}, 403, "not_in_org"),
    ("owner-1", "POST", "/api/chat/channels/internal",
     {"orgId": "org-1", "memberIds": ["owner-1", "vet-1"], "createdBy": "owner-1"}, 403,
     "not_in_org"),
    ("vet-1", "POST", "/api/chat/channels/internal",
     {"orgId": "org-1", "memberIds": ["vet-1", "vet-x"], "createdBy": "vet-1"}, 400,
     "not_org_member"),
    ("vet-1", "POST", "/api/chat/channels/internal",
     {"orgId": "org-9", "memberIds": ["vet-1", "vet-2"], "createdBy": "vet-1"}, 404,
     "org_not_found"),
    # Groups: created by an org member naming themself; read-only needs an admin.
    ("vet-1", "POST", "/api/chat/channels/group", _group(createdBy="vet-2", memberIds=["vet-1"]),
     403, "not_caller"),
    ("vet-x", "POST", "/api/chat/channels/group", _group(createdBy="vet-x"), 403, "not_in_org"),
    ("owner-1", "POST", "/api/chat/channels/group", _group(createdBy="owner-1"), 403, "not_in_org"),
    ("vet-1", "POST", "/api/chat/channels/group", _group(isReadOnly=True), 403, "admin_only"),
    ("vet-1", "POST", "/api/chat/channels/group", _group(memberIds=["owner-1", "vet-x"]), 400,
     "not_org_member"),
    ("vet-1", "POST", "/api/chat/channels/group", _group(channelId=GROUP), 409, "channel_exists"),
    ("vet-1", "POST", "/api/chat/channels/group", _group(channelId=APT1), 400, "invalid_input"),
    # Group membership: the creator or an org admin, naming themself in addedBy.
    ("vet-2", "POST", f"/api/chat/channels/group/{GROUP}/members", _members(addedBy="vet-2"),
     403, "not_participant"),
    ("nurse-1", "POST", f"/api/chat/channels/group/{GROUP}/members", _members(addedBy="nurse-1"),
     403, "not_participant"),
    ("admin-x", "POST", f"/api/chat/channels/group/{GROUP}/members", _members(addedBy="admin-x"),
     403, "not_participant"),
    ("vet-2", "POST", f"/api/chat/channels/group/{GROUP}/members", _members(), 403, "not_caller"),
    ("vet-1", "POST", f"/api/chat/channels/group/{GROUP}/members", _members(add=["owner-1"]),
     400, "not_org_member"),
    ("admin-1", "POST", f"/api/chat/channels/group/{GROUP}/members",
     {"remove": ["vet-1"], "addedBy": "admin-1"}, 409, "cannot_remove_creator"),
    ("vet-1", "POST", f"/api/chat/channels/group/{DM}/members", _members(), 404, "group_not_found"),
    # Ending: appointment chat by its vet or an admin; group by creator or admin; never DMs.
    ("owner-1", "POST", f"/api/chat/channels/{APT1}/end", None, 403, "not_participant"),
    ("vet-2", "POST", f"/api/chat/channels/{APT1}/end", None, 403, "not_participant"),
    ("nurse-1", "POST", f"/api/chat/channels/{APT1}/end", None, 403, "not_participant"),
    ("admin-x", "POST", f"/api/chat/channels/{APT1}/end", None, 403, "not_participant"),
    ("nurse-1", "POST", f"/api/chat/channels/{GROUP}/end", None, 403, "not_participant"),
    ("vet-x", "POST", f"/api/chat/channels/{GROUP}/end", None, 403, "not_participant"),
    ("vet-1", "POST", f"/api/chat/channels/{DM}/end", None, 409, "cannot_end_dm"),
    ("admin-1", "POST", f"/api/chat/channels/{DM}/end", None, 403, "not_participant"),
    ("vet-1", "POST", "/api/chat/channels/nope/end", None, 404, "channel_not_found"),
    # Org reads: members only.
    ("vet-x", "GET", "/api/orgs/org-1/search", {"query": "ana"}, 403, "not_in_org"),
    ("owner-1", "GET", "/api/orgs/org-1/search", {"query": "ana"}, 403, "not_in_org"),
    ("vet-1", "GET", "/api/orgs/org-9/search", {"query": "ana"}, 404, "org_not_found"),
    ("admin-x", "GET", "/api/orgs/org-1/members", {}, 403, "not_in_org"),
    ("owner-2", "GET", "/api/orgs/org-1/members", {}, 403, "not_in_org"),
    ("vet-x", "GET", "/api/chat/channels/groups", {"orgId": "org-1"}, 403, "not_in_org"),
    ("vet-x", "GET", "/api/chat/channels", {"orgId": "org-1"}, 403, "not_in_org"),
    # Devices: someone else's token looks exactly like an unknown one.
    ("owner-2", "DELETE", "/api/devices/victim-device", None, 404, "device_not_found"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("caller", "method", "path", "payload", "status", "code"),
    ATTACKS,
    ids=[f"{a[0]}-{a[1]}-{a[2]}-{a[5]}" for a in ATTACKS],
)
async def test_attack_is_denied_and_changes_nothing(
    world: World, caller: str, method: str, path: str, payload: Any, status: int, code: str
) -> None:
    await _setup(world)
    before = await world.snapshot()
    messages = {cid: world.messages(cid) for cid in (APT1, DM, GROUP)}
    if method == "GET":
        response = await world.get(path, caller, params=payload)
    elif method == "DELETE":
        response = await world.client.delete(path, headers=_auth(caller))
    else:
        response = await world.post(path, caller, payload)
    assert_error(response, status, code)
    assert await world.snapshot() == before
    assert {cid: world.messages(cid) for cid in (APT1, DM, GROUP)} == messages


async def test_not_org_member_lists_the_ids(world: World) -> None:
    response = await world.post(
        "/api/chat/channels/group", "vet-1", _group(memberIds=["vet-x", "owner-1", "vet-2"])
    )
    body = assert_error(response, 400, "not_org_member")
    assert body["details"] == ["owner-1", "vet-x"]


async def test_pet_owner_cannot_choose_activation_minutes(world: World) -> None:
    response = await world.post(
        "/api/chat/channels", "owner-1", {"appointmentId": "apt-1", "activationMinutes": 1440}
    )
    assert response.status_code == 200
    listed = await world.get("/api/chat/channels", "owner-1")
    assert listed.json()["channels"][0]["status"] == "pending"  # staff only may open it early


async def test_others_channels_are_invisible(world: World) -> None:
    await _setup(world)
    for outsider in ("owner-2", "vet-x", "vet-2"):
        listed = await world.get("/api/chat/channels", outsider)
        ids = {c["id"] for c in listed.json()["channels"]}
        assert not ids & {APT1, DM, GROUP}, outsider
    groups = await world.get("/api/chat/channels/groups", "vet-2", params={"orgId": "org-1"})
    assert groups.json() == {"channels": []}


def _auth(user: str) -> dict[str, str]:
    from tests.support.world import bearer

    return bearer(user)
