"""Hide and show a channel on the emulator through the official Python SDK, sync and async:
a hidden channel leaves only that user's QueryChannels until shown or a new message comes,
`clear_history` drops the history for them, and Stream's refusals."""

from __future__ import annotations

from typing import Any

import pytest
from stream_chat import StreamChat
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException
from websockets.sync.client import connect as ws_connect

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, as_user, frames, no_frame_of, post, ws_url
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def listed(sdk: StreamChat, user_id: str, **conditions: Any) -> list[str]:
    found = sdk.query_channels({"type": "messaging", **conditions}, user_id=user_id)
    return [c["channel"]["id"] for c in found["channels"]]


def test_a_hidden_channel_leaves_only_its_users_list_until_shown(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    sam = as_user(emulator, "sam")
    sam.channel("messaging", "visit").hide("sam")

    sam_sees, hidden_list = listed(sam, "sam"), listed(sam, "sam", hidden=True)
    ana_sees = listed(as_user(emulator, "ana"), "ana")
    sam.channel("messaging", "visit").show("sam")

    assert (sam_sees, hidden_list, ana_sees) == ([], ["visit"], ["visit"])
    assert listed(sam, "sam") == ["visit"]
    assert listed(sam, "sam", hidden=True) == []


def test_a_new_message_brings_a_hidden_channel_back(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    server.channel("messaging", "visit").hide("sam")
    hidden_server_side = listed(server, "sam")
    post(emulator, "ana", "are you there?")

    assert hidden_server_side == []
    assert listed(as_user(emulator, "sam"), "sam") == ["visit"]


def test_clear_history_drops_the_old_messages_for_that_user_only(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    post(emulator, "ana", "old news")
    sam = as_user(emulator, "sam")
    channel = sam.channel("messaging", "visit")
    sam.post(f"{channel.url}/hide", data={"clear_history": True})
    post(emulator, "ana", "fresh")

    sam_messages = [m["text"] for m in channel.query()["messages"]]
    ana_messages = as_user(emulator, "ana").channel("messaging", "visit").query()["messages"]
    queried = sam.query_channels({"type": "messaging"})["channels"][0]["messages"]

    assert sam_messages == ["fresh"] == [m["text"] for m in queried]
    assert [m["text"] for m in ana_messages] == ["old news", "fresh"]


async def test_the_async_sdk_hides_and_shows(emulator: RunningEmulator, server: StreamChat) -> None:
    client = StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url)
    try:
        await client.channel("messaging", "visit").hide("ana")
        while_hidden = listed(server, "ana")
        await client.channel("messaging", "visit").show("ana")
        with pytest.raises(StreamAPIException) as outsider:
            await client.channel("messaging", "visit").hide("cleo")
    finally:
        await client.close()

    assert (while_hidden, listed(server, "ana")) == ([], ["visit"])
    assert (outsider.value.status_code, outsider.value.error_code) == (403, 17)


def test_nobody_hides_a_channel_for_someone_else_or_outside_it(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    cleo, sam = as_user(emulator, "cleo"), as_user(emulator, "sam")

    with pytest.raises(StreamAPIException) as outsider:
        cleo.channel("messaging", "visit").hide("cleo")
    with pytest.raises(StreamAPIException) as for_another:
        sam.channel("messaging", "visit").hide("ana")
    with pytest.raises(StreamAPIException) as nameless:
        server.post("channels/messaging/visit/hide", data={})
    with pytest.raises(StreamAPIException) as bad_flag:
        sam.post("channels/messaging/visit/hide", data={"clear_history": "yes"})
    with pytest.raises(StreamAPIException) as missing:
        sam.channel("messaging", "nowhere").hide("sam")

    for refusal in (outsider, for_another):
        assert (refusal.value.status_code, refusal.value.error_code) == (403, 17)
    for refusal in (nameless, bad_flag):
        assert (refusal.value.status_code, refusal.value.error_code) == (400, 4)
    assert (missing.value.status_code, missing.value.error_code) == (404, 16)
    assert listed(server, "ana") == listed(server, "sam") == ["visit"]


def test_a_frozen_channel_can_still_be_hidden(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    server.channel("messaging", "visit").update_partial({"frozen": True})
    as_user(emulator, "sam").channel("messaging", "visit").hide("sam")

    assert listed(server, "sam") == []


def test_the_users_own_connections_hear_of_hide_and_show(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with (
        ws_connect(ws_url(emulator, "sam")) as sam_socket,
        ws_connect(ws_url(emulator, "ana")) as ana_socket,
    ):
        frames(sam_socket, "health.check")
        frames(ana_socket, "health.check")
        server.post("channels/messaging/visit/hide", data={"user_id": "sam", "clear_history": True})
        hidden = frames(sam_socket, "channel.hidden")
        server.channel("messaging", "visit").show("sam")
        visible = frames(sam_socket, "channel.visible")
        no_frame_of(ana_socket, "channel.hidden")

    assert (hidden["cid"], hidden["user"]["id"], hidden["clear_history"]) == (
        "messaging:visit",
        "sam",
        True,
    )
    assert visible["cid"] == "messaging:visit"
