"""What the UI kits rely on where the emulator once differed from Stream: a quoted reply
carries its `quoted_message`, a silent message leaves unread counts alone, a user's own
client may partially update that user (never someone else, nor its own role), and a
thread's participants hear of its new replies (`notification.thread_message_new`)."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import as_user, connected, frames, no_frame_of
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def test_a_quoted_reply_carries_the_quoted_message(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    original = channel.send_message({"text": "Two pills a day"}, "ana")["message"]
    sam = as_user(emulator, "sam").channel("messaging", "visit")
    reply = sam.send_message({"text": "Both at once?", "quoted_message_id": original["id"]}, "sam")
    assert reply["message"]["quoted_message"]["id"] == original["id"]
    assert reply["message"]["quoted_message"]["text"] == "Two pills a day"

    read_back = server.get_message(reply["message"]["id"])["message"]
    assert read_back["quoted_message_id"] == original["id"]
    assert read_back["quoted_message"]["user"]["id"] == "ana"
    plain = server.get_message(original["id"])["message"]
    assert "quoted_message" not in plain


def test_a_silent_message_leaves_unread_counts_alone(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    channel.send_message({"text": "quiet", "silent": True}, "ana")
    assert server.unread_counts("sam")["total_unread_count"] == 0
    channel.send_message({"text": "loud"}, "ana")
    assert server.unread_counts("sam")["total_unread_count"] == 1


def test_a_user_updates_only_itself_and_never_its_own_role(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    sam = as_user(emulator, "sam")
    updated = sam.update_user_partial({"id": "sam", "set": {"favourite_pet": "Rex"}})
    assert updated["users"]["sam"]["favourite_pet"] == "Rex"

    refusals = [
        {"id": "ana", "set": {"name": "Not Ana"}},
        {"id": "sam", "set": {"role": "admin"}},
        {"id": "sam", "unset": ["role"]},
        {"id": "sam", "set": {"revoke_tokens_issued_before": None}},
    ]
    for update in refusals:
        with pytest.raises(StreamAPIException) as refused:
            sam.update_user_partial(update)
        assert (refused.value.status_code, refused.value.error_code) == (403, 17)
    users = server.query_users({"id": {"$in": ["ana", "sam"]}})["users"]
    assert {u["id"]: (u["name"], u["role"]) for u in users} == {
        "ana": ("Ana", "user"),
        "sam": ("Sam", "user"),
    }


def test_thread_participants_hear_of_new_replies(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    channel.add_members(["cleo"])  # a member outside the thread
    parent = channel.send_message({"text": "How is the paw?"}, "ana")["message"]
    with connected(emulator, "ana") as (ana, _), connected(emulator, "cleo") as (cleo, _):
        reply = channel.send_message({"text": "Better", "parent_id": parent["id"]}, "sam")
        notice = frames(ana, "notification.thread_message_new")
        assert notice["thread_id"] == parent["id"]
        assert notice["message_id"] == reply["message"]["id"]
        assert notice["message"]["parent_id"] == parent["id"]
        assert notice["channel"]["cid"] == "messaging:visit"
        no_frame_of(cleo, "notification.thread_message_new")
