"""The emulator's websocket (`/connect`) and the REST calls of a connected client.

Driven with the `websockets` client for the socket and the official Python SDK (sync and
async) for REST, as a user and as the server; the JS SDK and a browser are in tests/js.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import httpx
import jwt
import pytest
from stream_chat import StreamChat
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException
from websockets.sync.client import connect as ws_connect

from stream_emulator import RunningEmulator
from tests.support.emulator import (
    API_KEY,
    API_SECRET,
    as_user,
    connected,
    frames,
    user_token,
    watch,
    ws_url,
)
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture

CID = "messaging:visit"


# -- connecting ---------------------------------------------------------------------------


def test_the_first_frame_is_a_health_check_with_me(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    server.channel("messaging", "visit").send_message({"text": "before"}, "sam")
    with ws_connect(ws_url(emulator, "ana")) as socket:
        hello = json.loads(socket.recv(timeout=5))

    assert hello["type"] == "health.check"
    assert hello["connection_id"]
    me = hello["me"]
    assert me["id"] == "ana" and me["name"] == "Ana" and me["online"] is True
    assert (me["total_unread_count"], me["unread_channels"]) == (1, 1)
    assert {"devices", "mutes", "channel_mutes", "unread_threads"} <= set(me)


def test_a_new_user_is_created_from_user_details_without_a_role(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    details = {"id": "newbie", "name": "New Bie", "role": "admin"}
    payload = json.dumps({"user_id": "newbie", "user_details": details})
    with ws_connect(ws_url(emulator, "newbie", json=payload)) as socket:
        me = frames(socket, "health.check")["me"]

    assert (me["name"], me["role"]) == ("New Bie", "user")
    stored = emulator.control.state.user("newbie")
    assert stored is not None and stored.role == "user"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"api_key": "wrong-key"}, 2),
        ({"authorization": user_token("ana", secret="another-secret-" + "x" * 32)}, 43),
        ({"authorization": user_token("sam")}, 5),  # the token is for someone else
        ({"authorization": jwt.encode({"server": True}, API_SECRET, algorithm="HS256")}, 5),
        ({"json": "not json"}, 5),
    ],
)
def test_refusals_are_one_error_frame_then_a_normal_close(
    emulator: RunningEmulator, server: StreamChat, overrides: dict[str, str], code: int
) -> None:
    with ws_connect(ws_url(emulator, "ana", **overrides)) as socket:
        frame = json.loads(socket.recv(timeout=5))
        with pytest.raises(Exception) as closed:
            socket.recv(timeout=5)

    assert set(frame) == {"error"}
    assert (frame["error"]["code"], frame["error"]["StatusCode"]) == (code, 401)
    assert "close" in type(closed.value).__name__.lower() or "1000" in str(closed.value)
    assert emulator.control.realtime.is_online("ana") is False


def test_an_expired_token_is_refused_with_code_40(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    expired = user_token("ana", expires_in=timedelta(seconds=-5))
    with ws_connect(ws_url(emulator, "ana", authorization=expired)) as socket:
        frame = json.loads(socket.recv(timeout=5))
    assert frame["error"]["code"] == 40


def test_heartbeats_are_answered(emulator: RunningEmulator, server: StreamChat) -> None:
    with connected(emulator, "ana") as (socket, connection_id):
        socket.send(json.dumps([{"type": "health.check", "client_id": connection_id}]))
        beat = frames(socket, "health.check")
    assert beat["connection_id"] == connection_id


# -- watching and events --------------------------------------------------------------------


def test_watchers_get_message_new_and_members_elsewhere_get_a_notification(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with (
        connected(emulator, "ana") as (ana, ana_id),
        connected(emulator, "sam") as (sam, _),
    ):
        state = watch(emulator, "ana", ana_id)
        assert [w["id"] for w in state["watchers"]] == ["ana"]
        assert state["channel"]["config"]["typing_events"] is True
        assert "send-message" in state["channel"]["own_capabilities"]

        sent = (
            as_user(emulator, "ana")
            .channel("messaging", "visit")
            .send_message({"text": "hello"}, "ana")
        )

        event = frames(ana, "message.new")
        assert event["message"]["id"] == sent["message"]["id"]
        assert (event["cid"], event["watcher_count"]) == (CID, 1)
        notice = frames(sam, "notification.message_new")
        assert notice["message"]["text"] == "hello"
        assert notice["channel"]["cid"] == CID
        assert (notice["total_unread_count"], notice["unread_channels"]) == (1, 1)


def test_watch_needs_one_of_the_callers_own_connections(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with connected(emulator, "ana") as (_socket, ana_connection):
        refused = httpx.post(
            f"{emulator.base_url}/channels/messaging/visit/query",
            params={"api_key": API_KEY, "connection_id": ana_connection},
            headers={"Authorization": user_token("sam"), "Stream-Auth-Type": "jwt"},
            json={"watch": True},
        )
    assert refused.status_code == 400
    assert refused.json()["code"] == 4
    assert emulator.control.realtime.watchers(CID) == []


def test_channel_changes_reach_watchers_live(emulator: RunningEmulator, server: StreamChat) -> None:
    with connected(emulator, "sam") as (socket, connection_id):
        watch(emulator, "sam", connection_id)
        server.channel("messaging", "visit").update_partial({"frozen": True, "status": "ended"})
        updated = frames(socket, "channel.updated")
    assert updated["channel"]["frozen"] is True
    assert updated["channel"]["status"] == "ended"


def test_typing_events_go_to_the_watchers(emulator: RunningEmulator, server: StreamChat) -> None:
    with (
        connected(emulator, "ana") as (ana, ana_id),
        connected(emulator, "sam") as (_sam, sam_id),
    ):
        watch(emulator, "ana", ana_id)
        watch(emulator, "sam", sam_id)
        answer = (
            as_user(emulator, "sam")
            .channel("messaging", "visit")
            .send_event({"type": "typing.start"}, "sam")
        )
        typing = frames(ana, "typing.start")
    assert answer["event"]["type"] == "typing.start"
    assert (typing["user"]["id"], typing["cid"]) == ("sam", CID)


async def test_reads_reset_the_unread_count_and_are_announced(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    server.channel("messaging", "visit").send_message({"text": "one"}, "sam")
    server.channel("messaging", "visit").send_message({"text": "two"}, "sam")
    with (
        connected(emulator, "ana") as (ana, ana_id),
        connected(emulator, "sam") as (sam, sam_id),
    ):
        state = watch(emulator, "ana", ana_id)
        watch(emulator, "sam", sam_id)
        reads = {entry["user"]["id"]: entry["unread_messages"] for entry in state["read"]}
        assert reads == {"ana": 2, "sam": 0}

        client = StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url)
        client.auth_token = user_token("ana")
        try:
            answer = await client.channel("messaging", "visit").mark_read("ana")
        finally:
            await client.close()

        seen = frames(sam, "message.read")
        assert seen["user"]["id"] == "ana"
        assert answer["event"]["type"] == "message.read"
        own = frames(ana, "message.read")
        assert (own["total_unread_count"], own["unread_channels"]) == (0, 0)


def test_stop_watching_ends_the_events(emulator: RunningEmulator, server: StreamChat) -> None:
    with connected(emulator, "ana") as (socket, connection_id):
        watch(emulator, "ana", connection_id)
        stopped = httpx.post(
            f"{emulator.base_url}/channels/messaging/visit/stop-watching",
            params={"api_key": API_KEY, "connection_id": connection_id},
            headers={"Authorization": user_token("ana"), "Stream-Auth-Type": "jwt"},
            json={},
        )
        assert stopped.status_code == 201, stopped.text
        server.channel("messaging", "visit").send_message({"text": "later"}, "sam")
        # A member not watching gets the notification instead.
        frames(socket, "notification.message_new")
    assert emulator.control.realtime.watchers(CID) == []


def test_closing_the_socket_drops_its_watches(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with connected(emulator, "ana") as (_, connection_id):
        watch(emulator, "ana", connection_id)
        assert len(emulator.control.realtime.watchers(CID)) == 1
    deadline = time.monotonic() + 5
    while emulator.control.realtime.watchers(CID) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emulator.control.realtime.watchers(CID) == []


def test_the_server_can_drop_every_connection(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with connected(emulator, "ana") as (socket, _):
        dropped = httpx.post(
            f"{emulator.base_url}/_emulator/disconnect",
            params={"api_key": API_KEY},
            headers={
                "Authorization": jwt.encode({"server": True}, API_SECRET, algorithm="HS256"),
                "Stream-Auth-Type": "jwt",
            },
        )
        assert dropped.json()["dropped"] == 1
        with pytest.raises(Exception) as closed:
            frames(socket, "never")
    assert "1012" in str(closed.value)


# -- refusals of client calls ---------------------------------------------------------------


def test_a_non_member_can_neither_send_events_nor_mark_read(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    cleo = as_user(emulator, "cleo").channel("messaging", "visit")
    with pytest.raises(StreamAPIException) as typing:
        cleo.send_event({"type": "typing.start"}, "cleo")
    with pytest.raises(StreamAPIException) as read:
        cleo.mark_read("cleo")
    assert typing.value.error_code == read.value.error_code == 17
    assert typing.value.status_code == read.value.status_code == 403


def test_no_typing_in_a_frozen_channel(emulator: RunningEmulator, server: StreamChat) -> None:
    server.channel("messaging", "visit").update_partial({"frozen": True})
    with pytest.raises(StreamAPIException) as refused:
        as_user(emulator, "sam").channel("messaging", "visit").send_event(
            {"type": "typing.start"}, "sam"
        )
    assert (refused.value.status_code, refused.value.error_code) == (403, 17)


def test_clients_cannot_forge_server_events(emulator: RunningEmulator, server: StreamChat) -> None:
    with pytest.raises(StreamAPIException) as refused:
        as_user(emulator, "sam").channel("messaging", "visit").send_event(
            {"type": "message.new"}, "sam"
        )
    assert (refused.value.status_code, refused.value.error_code) == (403, 17)
