"""Truncate, messages by id, mark unread, a member's own settings (pin, archive, custom
data) and the filters on them, batch deletes as tasks, and sorting channels by id."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import as_user, connected, frames, watch
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def test_truncate_empties_the_channel_and_tells_watchers(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    channel.send_message({"text": "old news"}, "ana")
    with connected(emulator, "sam") as (sam, sam_id):
        watch(emulator, "sam", sam_id)
        answer = channel.truncate(message={"text": "Cleared.", "user_id": "ana"})
        event = frames(sam, "channel.truncated")
    assert answer["channel"]["truncated_at"]
    assert event["cid"] == "messaging:visit"
    assert [m.text for m in emulator.control.state.messages("messaging", "visit")] == ["Cleared."]


def test_messages_by_id_for_members_only(emulator: RunningEmulator, server: StreamChat) -> None:
    channel = server.channel("messaging", "visit")
    first = channel.send_message({"text": "one"}, "ana")["message"]["id"]
    channel.send_message({"text": "two"}, "ana")
    found = as_user(emulator, "sam").channel("messaging", "visit").get_messages([first])
    assert [m["text"] for m in found["messages"]] == ["one"]
    with pytest.raises(StreamAPIException) as refused:
        as_user(emulator, "cleo").channel("messaging", "visit").get_messages([first])
    assert refused.value.error_code == 17


def test_mark_unread_counts_from_that_message(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    channel.send_message({"text": "one"}, "sam")
    second = channel.send_message({"text": "two"}, "sam")["message"]["id"]
    channel.send_message({"text": "three"}, "sam")
    channel.mark_read("ana")
    with connected(emulator, "ana") as (ana, _):
        as_user(emulator, "ana").channel("messaging", "visit").mark_unread("ana", message_id=second)
        event = frames(ana, "notification.mark_unread")
    assert (event["unread_messages"], event["total_unread_count"]) == (2, 2)
    assert event["first_unread_message_id"] == second


def test_pin_and_archive_are_the_members_own(emulator: RunningEmulator, server: StreamChat) -> None:
    channel = server.channel("messaging", "visit")
    pinned = channel.pin("ana")["channel_member"]
    assert pinned["pinned_at"] and pinned["user_id"] == "ana"
    channel.archive("sam")
    custom = channel.update_member_partial("ana", to_set={"hat": "blue"})["channel_member"]
    assert custom["hat"] == "blue"

    def cids(user_id: str, **flags: bool) -> list[str]:
        found = server.query_channels({"type": "messaging", **flags}, user_id=user_id)
        return [c["channel"]["cid"] for c in found["channels"]]

    assert cids("ana", pinned=True) == ["messaging:visit"]
    assert cids("sam", pinned=True) == []
    assert cids("sam", archived=True) == ["messaging:visit"]
    channel.unarchive("sam")
    assert cids("sam", archived=False) == ["messaging:visit"]
    with pytest.raises(StreamAPIException) as refused:
        as_user(emulator, "sam").channel("messaging", "visit").update_member_partial(
            "ana", to_set={"pinned": True}
        )
    assert refused.value.error_code == 17


def test_batch_delete_runs_as_a_finished_task(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    task_id = server.delete_channels(["messaging:visit", "messaging:nowhere"])["task_id"]
    task = server.get_task(task_id)
    assert task["status"] == "completed"
    assert task["result"]["messaging:visit"] == {"status": "ok"}
    assert task["result"]["messaging:nowhere"]["status"] == "error"
    assert emulator.control.state.channel("messaging", "visit") is None


def test_channels_sort_by_id(emulator: RunningEmulator, server: StreamChat) -> None:
    for channel_id in ("b-room", "a-room"):
        server.channel("messaging", channel_id, {"members": ["ana"]}).create("ana")
    found = server.query_channels({"members": {"$in": ["ana"]}}, {"id": 1})["channels"]
    assert [c["channel"]["id"] for c in found] == ["a-room", "b-room", "visit"]
