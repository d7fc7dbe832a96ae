"""Message get, edit and delete on the emulator through the official Python SDK, sync and
async, as the server and as users (with Stream's refusals), and their live events."""

from __future__ import annotations

import json

import pytest
from stream_chat import StreamChat
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, as_user, connected, frames, post, watch
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def test_a_user_edits_and_deletes_their_own_message(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    message_id = post(emulator, "sam", "helo")
    sam = as_user(emulator, "sam")

    edited = sam.update_message({"id": message_id, "text": "hello", "user_id": "sam"})
    partial = sam.update_message_partial(message_id, {"set": {"text": "hello!"}}, "sam")
    fetched = as_user(emulator, "ana").get_message(message_id)
    deleted = sam.delete_message(message_id)

    assert edited["message"]["text"] == "hello"
    assert partial["message"]["text"] == "hello!"
    assert fetched["message"]["text"] == "hello!"
    assert fetched["message"]["updated_at"] > fetched["message"]["created_at"]
    assert (deleted["message"]["type"], deleted["message"]["text"]) == ("deleted", "")
    assert "deleted_at" in deleted["message"]
    state = server.channel("messaging", "visit").query()
    assert [m["type"] for m in state["messages"]] == ["deleted"]


def test_only_a_text_change_marks_a_message_edited(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    """`message_text_updated_at` is what the UI kits show as "Edited": set by a new text,
    left alone by other changes (a pin, the same text again)."""
    message_id = post(emulator, "sam", "helo")
    sam = as_user(emulator, "sam")

    fresh = server.get_message(message_id)["message"]
    pinned = server.update_message_partial(message_id, {"set": {"pinned": True}}, "sam")
    edited = sam.update_message_partial(message_id, {"set": {"text": "hello"}}, "sam")
    same = sam.update_message({"id": message_id, "text": "hello", "user_id": "sam"})
    seen = as_user(emulator, "ana").get_message(message_id)["message"]

    assert "message_text_updated_at" not in fresh
    assert "message_text_updated_at" not in pinned["message"]
    stamp = edited["message"]["message_text_updated_at"]
    assert stamp == edited["message"]["updated_at"] > fresh["created_at"]
    assert same["message"]["message_text_updated_at"] == stamp
    assert seen["message_text_updated_at"] == stamp


async def test_the_async_sdk_edits_and_hard_deletes_server_side(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    message_id = post(emulator, "sam", "typo")
    client = StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url)
    try:
        edited = await client.update_message_partial(message_id, {"set": {"text": "fixed"}}, "sam")
        fetched = await client.get_message(message_id)
        await client.delete_message(message_id, hard=True)
        with pytest.raises(StreamAPIException) as gone:
            await client.get_message(message_id)
    finally:
        await client.close()

    assert edited["message"]["text"] == fetched["message"]["text"] == "fixed"
    assert (gone.value.status_code, gone.value.error_code) == (404, 16)


@pytest.mark.parametrize("action", ["update", "partial", "delete"])
def test_nobody_edits_or_deletes_someone_elses_message(
    emulator: RunningEmulator, server: StreamChat, action: str
) -> None:
    message_id = post(emulator, "sam", "mine")
    ana = as_user(emulator, "ana")
    attempts = {
        "update": lambda: ana.update_message(
            {"id": message_id, "text": "yours now", "user_id": "ana"}
        ),
        "partial": lambda: ana.update_message_partial(message_id, {"set": {"text": "x"}}, "ana"),
        "delete": lambda: ana.delete_message(message_id),
    }
    with pytest.raises(StreamAPIException) as refused:
        attempts[action]()

    assert (refused.value.status_code, refused.value.error_code) == (403, 17)
    assert server.get_message(message_id)["message"]["text"] == "mine"


def test_no_edits_in_a_frozen_channel_and_no_reads_for_outsiders(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    message_id = post(emulator, "sam", "before the end")
    server.channel("messaging", "visit").update_partial({"frozen": True})
    with pytest.raises(StreamAPIException) as frozen:
        as_user(emulator, "sam").update_message_partial(message_id, {"set": {"text": "x"}}, "sam")
    with pytest.raises(StreamAPIException) as outsider:
        as_user(emulator, "cleo").get_message(message_id)
    with pytest.raises(StreamAPIException) as hard:
        as_user(emulator, "sam").delete_message(message_id, hard=True)

    for refusal in (frozen, outsider, hard):
        assert (refusal.value.status_code, refusal.value.error_code) == (403, 17)
    assert server.get_message(message_id)["message"]["text"] == "before the end"


def test_bad_edits_are_input_errors(emulator: RunningEmulator, server: StreamChat) -> None:
    message_id = post(emulator, "sam", "text")
    sam = as_user(emulator, "sam")
    with pytest.raises(StreamAPIException) as empty:
        sam.update_message_partial(message_id, {"unset": ["text"]}, "sam")
    with pytest.raises(StreamAPIException) as unknown:
        sam.update_message_partial(message_id, {"set": {"type": "system"}}, "sam")
    with pytest.raises(StreamAPIException) as missing:
        sam.get_message("no-such-message")

    assert (empty.value.status_code, empty.value.error_code) == (400, 4)
    assert (unknown.value.status_code, unknown.value.error_code) == (400, 4)
    assert (missing.value.status_code, missing.value.error_code) == (404, 16)


def test_edits_and_deletes_reach_watchers_live(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    message_id = post(emulator, "sam", "first")
    with connected(emulator, "ana") as (socket, connection_id):
        watch(emulator, "ana", connection_id)
        as_user(emulator, "sam").update_message_partial(
            message_id, {"set": {"text": "edited"}}, "sam"
        )
        updated = frames(socket, "message.updated")
        as_user(emulator, "sam").delete_message(message_id)
        deleted = frames(socket, "message.deleted")

    assert (updated["message"]["id"], updated["message"]["text"]) == (message_id, "edited")
    assert (deleted["message"]["id"], deleted["message"]["type"]) == (message_id, "deleted")
    assert json.dumps(deleted).find("edited") == -1
