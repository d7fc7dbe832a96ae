"""Reactions on the emulator through the official Python SDK, sync and async, as the
server and as users (with Stream's refusals), and their live events."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, as_user, connected, frames, watch
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


@pytest.fixture
def message_id(emulator: RunningEmulator, server: StreamChat) -> str:
    sent = server.channel("messaging", "visit").send_message({"text": "Rex is fine"}, "ana")
    return str(sent["message"]["id"])


def test_users_react_and_the_message_counts_them(
    emulator: RunningEmulator, server: StreamChat, message_id: str
) -> None:
    sam = as_user(emulator, "sam").channel("messaging", "visit")
    ana = as_user(emulator, "ana").channel("messaging", "visit")

    first = sam.send_reaction(message_id, {"type": "like"}, "sam")
    ana.send_reaction(message_id, {"type": "like"}, "ana")
    again = sam.send_reaction(message_id, {"type": "like", "score": 3}, "sam")  # replaces
    sam.send_reaction(message_id, {"type": "heart"}, "sam")
    listed = server.channel("messaging", "visit").get_reactions(message_id)
    message = server.get_message(message_id)["message"]

    assert first["reaction"]["type"] == "like" and first["reaction"]["user_id"] == "sam"
    assert again["message"]["reaction_counts"] == {"like": 2}
    assert message["reaction_counts"] == {"like": 2, "heart": 1}
    assert message["reaction_scores"] == {"like": 4, "heart": 1}
    assert [(r["type"], r["user_id"]) for r in listed["reactions"]] == [
        ("heart", "sam"),
        ("like", "sam"),
        ("like", "ana"),
    ]
    removed = sam.delete_reaction(message_id, "heart", "sam")
    assert removed["message"]["reaction_counts"] == {"like": 2}


async def test_the_async_sdk_reacts_server_side_with_enforce_unique(
    emulator: RunningEmulator, server: StreamChat, message_id: str
) -> None:
    client = StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url)
    channel = client.channel("messaging", "visit")
    try:
        await channel.send_reaction(message_id, {"type": "like"}, "sam")
        # The Python SDK has no enforce_unique argument; its raw call sends what JS sends.
        unique = await client.post(
            f"messages/{message_id}/reaction",
            data={"reaction": {"type": "wow", "user_id": "sam"}, "enforce_unique": True},
        )
        await channel.delete_reaction(message_id, "wow", "sam")
        with pytest.raises(StreamAPIException) as missing:
            await channel.delete_reaction(message_id, "wow", "sam")
    finally:
        await client.close()

    assert unique["message"]["reaction_counts"] == {"wow": 1}
    assert (missing.value.status_code, missing.value.error_code) == (404, 16)


def test_outsiders_and_frozen_channels_refuse_reactions(
    emulator: RunningEmulator, server: StreamChat, message_id: str
) -> None:
    with pytest.raises(StreamAPIException) as outsider:
        as_user(emulator, "cleo").channel("messaging", "visit").send_reaction(
            message_id, {"type": "like"}, "cleo"
        )
    with pytest.raises(StreamAPIException) as impostor:
        as_user(emulator, "sam").channel("messaging", "visit").send_reaction(
            message_id, {"type": "like"}, "ana"
        )
    server.channel("messaging", "visit").update_partial({"frozen": True})
    with pytest.raises(StreamAPIException) as frozen:
        as_user(emulator, "sam").channel("messaging", "visit").send_reaction(
            message_id, {"type": "like"}, "sam"
        )
    with pytest.raises(StreamAPIException) as bad_type:
        server.channel("messaging", "visit").send_reaction(message_id, {"type": "no way"}, "sam")

    for refusal in (outsider, impostor, frozen):
        assert (refusal.value.status_code, refusal.value.error_code) == (403, 17)
    assert (bad_type.value.status_code, bad_type.value.error_code) == (400, 4)
    assert server.get_message(message_id)["message"]["reaction_counts"] == {}


def test_reactions_reach_watchers_live(
    emulator: RunningEmulator, server: StreamChat, message_id: str
) -> None:
    with connected(emulator, "ana") as (socket, connection_id):
        watch(emulator, "ana", connection_id)
        sam = as_user(emulator, "sam").channel("messaging", "visit")
        sam.send_reaction(message_id, {"type": "like"}, "sam")
        added = frames(socket, "reaction.new")
        sam.delete_reaction(message_id, "like", "sam")
        removed = frames(socket, "reaction.deleted")

    assert (added["reaction"]["type"], added["user"]["id"]) == ("like", "sam")
    assert added["message"]["reaction_counts"] == {"like": 1}
    assert removed["message"]["reaction_counts"] == {}
