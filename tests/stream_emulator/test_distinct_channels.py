"""Distinct channels (created by member set, without an id) on the emulator through the
official Python SDK, sync and async: the same `!members-` channel for the same set, in any
order, created by a user or server-side, and Stream's refusals."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, as_user
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def test_the_same_member_set_gives_the_same_channel(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    sam = as_user(emulator, "sam")
    first = sam.channel("messaging", None, {"members": ["sam", "cleo"]})
    created = first.create("sam")
    again = server.channel("messaging", None, {"members": ["cleo", "sam", "sam"]}).create("ana")
    other = server.channel("messaging", None, {"members": ["cleo", "ana"]}).create("ana")

    channel_id = created["channel"]["id"]
    assert channel_id.startswith("!members-")
    assert first.id == channel_id == again["channel"]["id"]
    assert other["channel"]["id"] not in (channel_id, "visit")
    assert sorted(m["user_id"] for m in created["members"]) == ["cleo", "sam"]
    assert created["channel"]["created_by"]["id"] == "sam"
    # The id then works like any other: the SDK sends messages to it.
    sent = first.send_message({"text": "hi cleo"}, "sam")
    assert sent["message"]["cid"] == f"messaging:{channel_id}"
    listed = as_user(emulator, "cleo").query_channels({"type": "messaging"}, user_id="cleo")
    assert sorted(c["channel"]["id"] for c in listed["channels"]) == sorted(
        [channel_id, other["channel"]["id"]]
    )


async def test_the_async_sdk_creates_a_distinct_channel(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    client = StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url)
    try:
        channel = client.channel("messaging", None, {"members": ["ana", "cleo"]})
        created = await channel.create("ana")
        again = await client.channel("messaging", None, {"members": ["cleo", "ana"]}).create("cleo")
    finally:
        await client.close()

    assert created["channel"]["id"] == again["channel"]["id"] == channel.id
    assert created["channel"]["id"].startswith("!members-")


def test_a_user_creates_only_a_distinct_channel_they_are_in(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    sam = as_user(emulator, "sam")
    with pytest.raises(StreamAPIException) as outsider:
        sam.channel("messaging", None, {"members": ["ana", "cleo"]}).create("sam")
    with pytest.raises(StreamAPIException) as no_members:
        server.channel("messaging", None, {}).create("ana")
    with pytest.raises(StreamAPIException) as unknown_user:
        server.channel("messaging", None, {"members": ["ana", "ghost"]}).create("ana")
    with pytest.raises(StreamAPIException) as chosen_id:
        server.channel("messaging", "!members-mine", {"members": ["ana"]}).create("ana")

    assert (outsider.value.status_code, outsider.value.error_code) == (403, 17)
    for refusal in (no_members, unknown_user, chosen_id):
        assert (refusal.value.status_code, refusal.value.error_code) == (400, 4)
    listed = server.query_channels({"type": "messaging"})["channels"]
    assert [c["channel"]["id"] for c in listed] == ["visit"]
