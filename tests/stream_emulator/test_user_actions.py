"""Users beyond upsert: queries with filters and sorts, delete and restore, deactivate,
devices, mutes and blocks, custom user events and unread counts."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException
from websockets.sync.client import connect as ws_connect

from stream_emulator import RunningEmulator
from tests.support.emulator import as_user, connected, frames, ws_url
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def test_query_users_filters_and_sorts_on_any_field(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    server.upsert_users(
        [
            {"id": "rex", "name": "Rex", "species": "dog", "age": 3},
            {"id": "tom", "name": "Tom Cat", "species": "cat", "age": 7},
            {"id": "fido", "name": "Fido", "species": "dog", "age": 9},
        ]
    )
    dogs = server.query_users({"species": {"$eq": "dog"}}, {"age": -1})["users"]
    assert [u["id"] for u in dogs] == ["fido", "rex"]
    older = server.query_users({"age": {"$gte": 7}}, {"name": 1})["users"]
    assert [u["id"] for u in older] == ["fido", "tom"]
    named = server.query_users({"name": {"$autocomplete": "ca"}})["users"]
    assert [u["id"] for u in named] == ["tom"]
    with pytest.raises(StreamAPIException) as refused:
        server.query_users({"age": {"$near": 3}})
    assert refused.value.error_code == 4


def test_delete_restore_deactivate(emulator: RunningEmulator, server: StreamChat) -> None:
    assert server.delete_user("cleo")["user"]["deleted_at"]
    server.restore_users(["cleo"])
    assert "deleted_at" not in server.query_users({"id": "cleo"})["users"][0]
    assert server.deactivate_user("cleo")["user"]["deactivated_at"]
    assert "deactivated_at" not in server.reactivate_user("cleo")["user"]
    task = server.get_task(server.delete_users(["cleo"], "hard")["task_id"])
    assert task["result"]["cleo"] == {"status": "ok"}
    assert server.query_users({"id": "cleo"})["users"] == []


def test_only_the_server_deactivates_and_a_block_must_name_whom(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    sam = as_user(emulator, "sam")
    server.deactivate_user("ana")
    for call in (lambda: sam.deactivate_user("cleo"), lambda: sam.reactivate_user("ana")):
        with pytest.raises(StreamAPIException) as refused:
            call()
        assert (refused.value.status_code, refused.value.error_code) == (403, 17)
    marks = {u["id"]: u.get("deactivated_at") for u in server.query_users({})["users"]}
    assert marks["ana"] and marks["cleo"] is None  # neither call changed anything
    for path in ("users/block", "users/unblock"):
        with pytest.raises(StreamAPIException) as refused:
            server.post(path, data={"user_id": "ana", "blocked_user_id": 7})
        assert (refused.value.status_code, refused.value.error_code) == (400, 4)
        assert "blocked_user_id is a required string" in refused.value.error_message


def test_devices_mutes_and_blocks(emulator: RunningEmulator, server: StreamChat) -> None:
    server.add_device("device-1", "firebase", "ana")
    assert [d["id"] for d in server.get_devices("ana")["devices"]] == ["device-1"]
    server.delete_device("device-1", "ana")
    assert server.get_devices("ana")["devices"] == []

    mute = server.mute_user("sam", "ana", timeout=10)["mute"]
    assert (mute["user"]["id"], mute["target"]["id"]) == ("ana", "sam") and mute["expires"]
    server.unmute_user("sam", "ana")

    server.block_user("sam", "ana")
    assert [b["blocked_user_id"] for b in server.get_blocked_users("ana")["blocks"]] == ["sam"]
    server.unblock_user("sam", "ana")
    assert server.get_blocked_users("ana")["blocks"] == []
    with pytest.raises(StreamAPIException) as refused:
        as_user(emulator, "sam").block_user("cleo", "ana")
    assert refused.value.error_code == 17


def test_user_mutes_are_in_own_user_and_reach_the_users_connections(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    """The JS client keeps `mutedUsers` from `me.mutes` (at connect) and from
    `notification.mutes_updated` (on a mute or unmute), as Stream sends them; the React
    kit's "Mute"/"Unmute" action reads it."""
    ana = as_user(emulator, "ana")
    with connected(emulator, "ana") as (socket, _):
        answer = ana.mute_user("sam", "ana")
        muted = frames(socket, "notification.mutes_updated")
        ana.unmute_user("sam", "ana")
        unmuted = frames(socket, "notification.mutes_updated")
    with ws_connect(ws_url(emulator, "ana")) as later:
        me_after = frames(later, "health.check")["me"]
    server.mute_user("sam", "ana")
    with ws_connect(ws_url(emulator, "ana")) as fresh:
        me_muted = frames(fresh, "health.check")["me"]

    assert [m["target"]["id"] for m in answer["own_user"]["mutes"]] == ["sam"]
    assert [(m["user"]["id"], m["target"]["id"]) for m in muted["me"]["mutes"]] == [("ana", "sam")]
    assert unmuted["me"]["mutes"] == []
    assert me_after["mutes"] == []
    assert [m["target"]["id"] for m in me_muted["mutes"]] == ["sam"]


def test_custom_user_events_reach_the_users_connections(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with connected(emulator, "ana") as (ana, _):
        server.send_user_custom_event("ana", {"type": "appointment_moved", "to": "10:00"})
        event = frames(ana, "appointment_moved")
    assert (event["to"], event["user"]["id"]) == ("10:00", "ana")
    with pytest.raises(StreamAPIException) as refused:
        server.send_user_custom_event("ana", {"type": "message.new"})
    assert refused.value.error_code == 4


def test_unread_counts_per_channel_and_thread(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    parent = channel.send_message({"text": "hi"}, "sam")["message"]["id"]
    channel.send_message({"text": "me too", "parent_id": parent}, "ana")
    channel.send_message({"text": "ok", "parent_id": parent}, "sam")
    counts = server.unread_counts("ana")
    assert counts["total_unread_count"] == 1
    assert counts["channels"][0]["channel_id"] == "messaging:visit"
    assert counts["channel_type"] == [
        {"channel_type": "messaging", "channel_count": 1, "unread_count": 1}
    ]
    assert [t["parent_message_id"] for t in counts["threads"]] == [parent]
    batch = server.unread_counts_batch(["ana", "sam"])["counts_by_user"]
    assert (batch["ana"]["total_unread_count"], batch["sam"]["total_unread_count"]) == (1, 0)
