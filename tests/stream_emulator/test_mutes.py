"""Channel mutes on the emulator through the official Python SDK, sync and async: the mute
in the answer's `own_user`, in `me.channel_mutes` of a new connection, `muted` in the
user's channel queries, expiry, unmute, and Stream's refusals."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException
from websockets.sync.client import connect as ws_connect

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, as_user, frames, ws_url
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def muted_flags(emulator: RunningEmulator, user_id: str) -> list[bool]:
    sdk = as_user(emulator, user_id)
    queried = sdk.query_channels({"type": "messaging"})["channels"]
    fetched = sdk.channel("messaging", "visit").query()
    return [c["channel"]["muted"] for c in queried] + [fetched["channel"]["muted"]]


def mutes_at_connect(emulator: RunningEmulator, user_id: str) -> list[str]:
    with ws_connect(ws_url(emulator, user_id)) as socket:
        me = frames(socket, "health.check")["me"]
    return [m["channel"]["cid"] for m in me["channel_mutes"]]


def test_a_user_mutes_and_unmutes_a_channel(emulator: RunningEmulator, server: StreamChat) -> None:
    sam = as_user(emulator, "sam")

    muted = sam.channel("messaging", "visit").mute("sam")
    flags_while_muted, listed_at_connect = (
        muted_flags(emulator, "sam"),
        mutes_at_connect(emulator, "sam"),
    )
    sam.channel("messaging", "visit").unmute("sam")

    assert muted["channel_mute"]["channel"]["cid"] == "messaging:visit"
    assert muted["channel_mute"]["user"]["id"] == "sam"
    assert [m["channel"]["cid"] for m in muted["own_user"]["channel_mutes"]] == ["messaging:visit"]
    assert flags_while_muted == [True, True]
    assert listed_at_connect == ["messaging:visit"]
    assert muted_flags(emulator, "ana") == [False, False]
    assert muted_flags(emulator, "sam") == [False, False]
    assert mutes_at_connect(emulator, "sam") == []


def test_a_mute_with_an_expiration_carries_it_and_ends(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    muted = server.channel("messaging", "visit").mute("ana", expiration=60_000)
    expires = muted["channel_mute"]["expires"]
    fetched = as_user(emulator, "ana").channel("messaging", "visit").query()["channel"]
    server.channel("messaging", "visit").mute("sam", expiration=1)

    assert expires > muted["channel_mute"]["created_at"]
    assert (fetched["muted"], fetched["mute_expires_at"]) == (True, expires)
    # A one-millisecond mute is over by the next request.
    assert muted_flags(emulator, "sam") == [False, False]


async def test_the_async_sdk_mutes_and_unmutes(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    client = StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url)
    try:
        muted = await client.channel("messaging", "visit").mute("ana")
        while_muted = muted_flags(emulator, "ana")
        await client.channel("messaging", "visit").unmute("ana")
        with pytest.raises(StreamAPIException) as unknown:
            await client.channel("messaging", "visit").mute("ghost")
    finally:
        await client.close()

    assert muted["channel_mute"]["user"]["id"] == "ana"
    assert (while_muted, muted_flags(emulator, "ana")) == ([True, True], [False, False])
    assert (unknown.value.status_code, unknown.value.error_code) == (400, 4)


def test_nobody_mutes_for_someone_else_or_a_channel_they_are_not_in(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    sam = as_user(emulator, "sam")
    with pytest.raises(StreamAPIException) as outsider:
        as_user(emulator, "cleo").channel("messaging", "visit").mute("cleo")
    with pytest.raises(StreamAPIException) as for_another:
        sam.channel("messaging", "visit").mute("ana")
    with pytest.raises(StreamAPIException) as nameless:
        server.post("moderation/mute/channel", data={"channel_cid": "messaging:visit"})
    with pytest.raises(StreamAPIException) as no_channel:
        sam.post("moderation/mute/channel", data={})
    with pytest.raises(StreamAPIException) as bad_cid:
        sam.post("moderation/mute/channel", data={"channel_cid": "visit"})
    with pytest.raises(StreamAPIException) as missing:
        sam.channel("messaging", "nowhere").mute("sam")

    for refusal in (outsider, for_another):
        assert (refusal.value.status_code, refusal.value.error_code) == (403, 17)
    for refusal in (nameless, no_channel, bad_cid):
        assert (refusal.value.status_code, refusal.value.error_code) == (400, 4)
    assert (missing.value.status_code, missing.value.error_code) == (404, 16)
    assert muted_flags(emulator, "sam") == muted_flags(emulator, "ana") == [False, False]


def test_server_side_a_channel_is_muted_for_a_user_who_is_not_a_member(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    muted = channel.mute("cleo", expiration=30000)["channel_mute"]
    assert muted["channel"]["cid"] == "messaging:visit" and muted["user"]["id"] == "cleo"
    assert muted["expires"]
    # Server-side, user_id is whose view answers: the filter alone selects channels.
    found = server.query_channels({"muted": True, "cid": "messaging:visit"}, user_id="cleo")
    assert [c["channel"]["cid"] for c in found["channels"]] == ["messaging:visit"]
    channel.unmute("cleo")
    found = server.query_channels({"muted": True, "cid": "messaging:visit"}, user_id="cleo")
    assert found["channels"] == []
    # cleo's own client still reads (and lists) only channels she belongs to.
    assert as_user(emulator, "cleo").query_channels({"type": "messaging"})["channels"] == []
    with pytest.raises(StreamAPIException) as ghost:
        channel.mute("ghost")
    assert (ghost.value.status_code, ghost.value.error_code) == (400, 4)


def test_the_users_connections_get_their_new_channel_mutes(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with ws_connect(ws_url(emulator, "sam")) as socket:
        frames(socket, "health.check")
        server.channel("messaging", "visit").mute("sam")
        muted = frames(socket, "notification.channel_mutes_updated")
        server.channel("messaging", "visit").unmute("sam")
        unmuted = frames(socket, "notification.channel_mutes_updated")

    assert [m["channel"]["cid"] for m in muted["me"]["channel_mutes"]] == ["messaging:visit"]
    assert unmuted["me"]["channel_mutes"] == []
