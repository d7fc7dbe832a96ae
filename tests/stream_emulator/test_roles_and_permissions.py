"""Custom roles and permissions on the emulator (ListRoles, CreateRole, DeleteRole;
ListPermissions, GetPermission, CreatePermission, UpdatePermission, DeletePermission),
and a custom permission granting its action under its condition."""

from __future__ import annotations

from typing import Any

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import as_user
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture

MAGIC: dict[str, Any] = {
    "id": "delete-if-magic",
    "name": "Delete when magic",
    "action": "DeleteChannel",
    "owner": False,
    "condition": {"$subject.magic": "yes"},
}


def refused(call: Any, status: int = 400, code: int = 4) -> None:
    with pytest.raises(StreamAPIException) as caught:
        call()
    assert (caught.value.status_code, caught.value.error_code) == (status, code), caught.value


def test_custom_roles_are_listed_named_in_grants_and_deleted_when_unused(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    assert server.create_role("god")["role"]["custom"] is True
    roles = {r["name"]: r for r in server.list_roles()["roles"]}
    assert roles["god"]["custom"] is True and roles["admin"]["custom"] is False
    refused(lambda: server.create_role("god"))
    refused(lambda: server.create_role("Not A Name"))
    refused(lambda: server.delete_role("admin"))
    refused(lambda: server.delete_role("nobody"), 404, 16)

    server.update_channel_type("messaging", grants={"god": ["read-channel"]})
    assert {r["name"]: r for r in server.list_roles()["roles"]}["god"]["scopes"] == ["messaging"]
    refused(lambda: server.delete_role("god"))
    server.update_channel_type("messaging", grants={"god": []})
    server.upsert_user({"id": "zeus", "role": "god"})
    refused(lambda: server.delete_role("god"))
    server.upsert_user({"id": "zeus", "role": "user"})
    server.delete_role("god")
    assert "god" not in [r["name"] for r in server.list_roles()["roles"]]


def test_custom_permissions_are_made_read_updated_and_deleted(server: StreamChat) -> None:
    server.create_permission(MAGIC)
    got = server.get_permission("delete-if-magic")["permission"]
    assert (got["custom"], got["owner"], got["action"]) == (True, False, "DeleteChannel")
    server.update_permission("delete-if-magic", {**MAGIC, "owner": True})
    assert server.get_permission("delete-if-magic")["permission"]["owner"] is True
    listed = server.list_permissions()["permissions"]
    assert listed[0]["id"] == "delete-if-magic"
    built_in = server.get_permission("create-message")["permission"]
    assert (built_in["custom"], built_in["action"]) == (False, "CreateMessage")
    for bad in (
        {**MAGIC, "action": "FlyToTheMoon"},
        {**MAGIC, "condition": {"magic": "yes"}},
        {**MAGIC, "condition": {"$subject.magic": {"$regex": "y"}}},
        {k: v for k, v in MAGIC.items() if k != "condition"},
        {**MAGIC, "owner": "no"},
    ):
        refused(lambda bad=bad: server.create_permission({**bad, "id": bad["id"] + "-x"}))
    refused(lambda: server.create_permission(MAGIC))  # taken
    refused(lambda: server.create_permission({**MAGIC, "id": "create-message"}))  # built in
    refused(lambda: server.update_permission("create-message", MAGIC))
    refused(lambda: server.delete_permission("create-message"))
    refused(lambda: server.get_permission("nope"), 404, 16)
    before = len(listed)
    server.delete_permission("delete-if-magic")
    assert len(server.list_permissions()["permissions"]) == before - 1


def test_a_granted_custom_permission_allows_its_action_when_its_condition_holds(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    server.upsert_users([{"id": "sam", "magic": "yes"}, {"id": "cleo"}])
    server.channel("messaging", "visit").add_members(["cleo"])
    refused(lambda: as_user(emulator, "sam").channel("messaging", "visit").delete(), 403, 17)
    server.create_permission(MAGIC)
    current = server.get_channel_type("messaging")["grants"]["channel_member"]
    server.update_channel_type(
        "messaging", grants={"channel_member": [*current, "delete-if-magic"]}
    )
    refused(lambda: server.delete_permission("delete-if-magic"))  # granted
    refused(lambda: as_user(emulator, "cleo").channel("messaging", "visit").delete(), 403, 17)
    visit = as_user(emulator, "sam").channel("messaging", "visit").query()
    assert "delete-channel" in visit["channel"]["own_capabilities"]
    as_user(emulator, "sam").channel("messaging", "visit").delete()
    assert emulator.control.state.channel("messaging", "visit") is None


def test_roles_and_permissions_are_server_side(emulator: RunningEmulator) -> None:
    ana = as_user(emulator, "ana")
    for call in (ana.list_roles, lambda: ana.create_role("x"), ana.list_permissions):
        refused(call, 403, 17)
