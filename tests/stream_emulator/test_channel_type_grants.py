"""Channel types and their grants on the emulator, through the official Python SDK.

Stream checks a user-token call against the channel type's grants: by default a user may
create channels and owns what they create (update it, change its members, delete it); a
member reads and posts. `UpdateChannelType` replaces a role's grants. These tests drive the
emulator with the SDK's own calls (`get_channel_type`, `update_channel_type`, a user's
token as a client uses it) before and after yc-chat's setup (`adapters/stream/grants.py`),
and check Stream's error shape: 403, code 17, "... is not allowed to perform action ...".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import as_user
from yc_chat.adapters.stream import grants


def refused(call: Callable[[], Any], action: str) -> StreamAPIException:
    """`call` fails as Stream refuses a permission: 403, code 17, naming the action."""
    with pytest.raises(StreamAPIException) as caught:
        call()
    error = caught.value
    assert error.status_code == 403, error
    assert error.error_code == 17, error
    assert "is not allowed to perform action " + action in error.error_message, error
    return error


def apply_setup(server: StreamChat) -> None:
    current = server.get_channel_type("messaging")
    server.update_channel_type("messaging", **grants.update_request(current))


def test_the_messaging_type_lists_stream_s_default_grants(server: StreamChat) -> None:
    kind = server.get_channel_type("messaging")

    assert kind["name"] == "messaging"
    assert "create-channel" in kind["grants"]["user"]
    assert "update-channel-owner" in kind["grants"]["user"]
    assert {"read-channel", "create-message"} <= set(kind["grants"]["channel_member"])
    assert kind["typing_events"] is True and kind["max_message_length"] == 5000
    assert sorted(grants.missing_grants(kind)) == ["channel_member", "channel_moderator", "user"]
    listed = server.list_channel_types()["channel_types"]
    assert listed["messaging"]["grants"] == kind["grants"]


def test_update_channel_type_replaces_a_roles_grants_and_an_empty_list_restores_them(
    server: StreamChat,
) -> None:
    apply_setup(server)
    kind = server.get_channel_type("messaging")
    assert grants.missing_grants(kind) == []
    assert sorted(kind["grants"]["user"]) == sorted(grants.USER_GRANTS)
    # Roles the setup does not name keep Stream's defaults.
    assert "update-channel" in kind["grants"]["admin"]

    server.update_channel_type("messaging", grants={"user": []})
    assert "create-channel" in server.get_channel_type("messaging")["grants"]["user"]


def test_update_channel_type_refuses_unknown_permissions_and_users(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with pytest.raises(StreamAPIException) as caught:
        server.update_channel_type("messaging", grants={"user": ["fly-to-the-moon"]})
    assert (caught.value.status_code, caught.value.error_code) == (400, 4)
    assert "fly-to-the-moon" in caught.value.error_message
    with pytest.raises(StreamAPIException) as caught:
        as_user(emulator, "sam").update_channel_type("messaging", grants={"user": []})
    assert (caught.value.status_code, caught.value.error_code) == (403, 17)
    assert grants.missing_grants(server.get_channel_type("messaging")) != []


def test_by_default_a_person_creates_and_owns_a_channel_as_on_stream(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    sam = as_user(emulator, "sam")
    forged = {"members": ["sam", "ana"], "chatCategory": "group", "orgId": "org-riverside"}
    created = sam.channel("messaging", "forged", forged).create("sam")
    assert created["channel"]["created_by"]["id"] == "sam"
    assert created["channel"]["orgId"] == "org-riverside"
    # The owner may then change the channel and its members.
    sam.channel("messaging", "forged").update_partial({"name": "Official"})
    sam.channel("messaging", "forged").add_members(["cleo"])
    capabilities = created["channel"]["own_capabilities"]
    assert {"update-channel", "update-channel-members", "send-message"} <= set(capabilities)


def test_after_the_setup_people_cannot_create_channels(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    apply_setup(server)
    sam = as_user(emulator, "sam")

    refused(
        lambda: sam.channel("messaging", "forged", {"members": ["sam", "ana"]}).create("sam"),
        "CreateChannel",
    )
    refused(
        lambda: sam.channel("messaging", None, {"members": ["sam", "ana"]}).create("sam"),
        "CreateChannel",
    )
    assert emulator.control.state.channel("messaging", "forged") is None
    # Server-side creation (the service) is never checked.
    server.upsert_user({"id": "system-bot"})
    server.channel("messaging", "ours", {"members": ["sam"]}).create("system-bot")


def test_after_the_setup_members_cannot_change_members_data_or_freezing(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    apply_setup(server)
    server.channel("messaging", "visit").update_partial({"frozen": True})
    # ana created 'visit' (a person: a channel from before the setup) and is a member.
    for user in ("ana", "sam"):
        channel = as_user(emulator, user).channel("messaging", "visit")
        refused(lambda c=channel: c.add_members(["cleo"]), "UpdateChannelMembers")
        refused(lambda c=channel, u=user: c.remove_members([u]), "RemoveOwnChannelMembership")
        refused(lambda c=channel: c.update_partial({"orgId": "org-x"}), "UpdateChannel")
        refused(lambda c=channel: c.update({"name": "Mine"}), "UpdateChannel")
        refused(lambda c=channel: c.update_partial({"frozen": False}), "UpdateChannel")
        refused(lambda c=channel: c.delete(), "DeleteChannel")
    state = emulator.control.state.channel("messaging", "visit")
    assert state is not None and state.frozen and state.member_ids == ("ana", "sam")
    assert "orgId" not in state.data and "name" not in state.data


def test_after_the_setup_a_creator_who_left_has_no_rights(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    # Before the setup, Stream's owner rights let a creator who is no longer a member in.
    server.channel("messaging", "visit").remove_members(["ana"])
    ana = as_user(emulator, "ana")
    ana.channel("messaging", "visit").send_message({"text": "still here"}, "ana")

    apply_setup(server)
    channel = ana.channel("messaging", "visit")
    refused(lambda: channel.send_message({"text": "phish"}, "ana"), "CreateMessage")
    refused(lambda: channel.query(), "ReadChannel")
    refused(lambda: channel.add_members(["ana"]), "UpdateChannelMembers")
    refused(lambda: channel.update_partial({"frozen": False}), "UpdateChannel")
    texts = [m.text for m in emulator.control.state.messages("messaging", "visit")]
    assert texts == ["still here"]


def test_after_the_setup_members_read_send_reply_react_upload_and_mark_read(
    emulator: RunningEmulator, server: StreamChat, tmp_path: Path
) -> None:
    apply_setup(server)
    sam = as_user(emulator, "sam").channel("messaging", "visit")

    state = sam.query()
    assert set(state["channel"]["own_capabilities"]) >= {
        "send-message",
        "send-reply",
        "send-reaction",
        "upload-file",
        "read-events",
        "typing-events",
        "update-own-message",
        "delete-own-message",
    }
    assert not {
        "update-channel",
        "update-channel-members",
        "freeze-channel",
        "leave-channel",
    } & set(state["channel"]["own_capabilities"])
    sent = sam.send_message({"text": "hello"}, "sam")["message"]
    sam.send_message({"text": "a reply", "parent_id": sent["id"]}, "sam")
    sam.send_reaction(sent["id"], {"type": "like"}, "sam")
    sam.delete_reaction(sent["id"], "like", "sam")
    as_user(emulator, "sam").update_message({"id": sent["id"], "text": "hello!", "user_id": "sam"})
    sam.mark_read("sam")
    sam.send_event({"type": "typing.start"}, "sam")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 scan")
    uploaded = sam.send_file(str(scan), "scan.pdf", {"id": "sam"}, "application/pdf")
    assert uploaded["file"]
    # Not someone else's message.
    refused(
        lambda: as_user(emulator, "ana").update_message(
            {"id": sent["id"], "text": "edited by ana", "user_id": "ana"}
        ),
        "UpdateMessage",
    )


def test_the_built_in_team_type_is_served_and_its_channels_follow_its_grants(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    kind = server.get_channel_type("team")
    assert kind["name"] == "team"
    assert "read-channel" in kind["grants"]["channel_member"]
    assert "team" in server.list_channel_types()["channel_types"]
    server.channel("team", "crew", {"members": ["ana"]}).create("sam")

    as_user(emulator, "ana").channel("team", "crew").send_message({"text": "hi"}, "ana")
    server.update_channel_type("team", grants={"channel_member": ["read-channel"]})
    refused(
        lambda: as_user(emulator, "ana").channel("team", "crew").send_message({"text": "x"}, "ana"),
        "CreateMessage",
    )
    # The messaging type is a type of its own: unchanged.
    assert "create-message" in server.get_channel_type("messaging")["grants"]["channel_member"]


def test_a_type_s_commands_setting_names_stream_s_built_in_commands_only(
    server: StreamChat,
) -> None:
    updated = server.update_channel_type("team", commands=["ban", "unban", "ban"])
    assert updated["commands"] == ["ban", "unban"]
    assert server.get_channel_type("team")["commands"] == ["ban", "unban"]
    for bad in (["teleport"], "ban", [7]):
        with pytest.raises(StreamAPIException) as caught:
            server.update_channel_type("team", commands=bad)
        assert (caught.value.status_code, caught.value.error_code) == (400, 4)
    assert server.get_channel_type("team")["commands"] == ["ban", "unban"]


@pytest.mark.parametrize("kind", ["livestream", "gaming", "commerce"])
def test_stream_s_other_built_in_types_are_refused_as_not_supported(
    server: StreamChat, kind: str
) -> None:
    with pytest.raises(StreamAPIException) as caught:
        server.channel(kind, "show", {"members": ["ana"]}).create("ana")
    assert (caught.value.status_code, caught.value.error_code) == (400, 4)
    assert "not supported by the emulator" in caught.value.error_message
    with pytest.raises(StreamAPIException) as caught:
        server.channel("spaceship", "show").create("ana")
    assert (caught.value.status_code, caught.value.error_code) == (400, 4)
    assert "does not exist" in caught.value.error_message
