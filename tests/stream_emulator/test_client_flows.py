"""The flows the official UI kits depend on: read state and unread badges, thread reply
counts, the client's `GET /app`, watchers and presence, a reader's own reactions.

Each as Stream does it (the client-side OpenAPI in GetStream/protocol, and stream-chat-js's
handlers that react to these events); driven with a raw websocket and the official Python
SDK, as a user and as the server.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from stream_emulator.state.uploads import MAX_UPLOAD_BYTES
from tests.support.emulator import (
    API_KEY,
    API_SECRET,
    as_user,
    connected,
    frames,
    no_frame_of,
    user_token,
    watch,
)
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def server_token() -> str:
    return jwt.encode({"server": True}, API_SECRET, algorithm="HS256")


def _as(emulator: RunningEmulator, user_id: str, method: str, path: str, **kwargs: Any) -> Any:
    return httpx.request(
        method,
        f"{emulator.base_url}{path}",
        params={"api_key": API_KEY, **kwargs.pop("params", {})},
        headers={"Authorization": user_token(user_id), "Stream-Auth-Type": "jwt"},
        **kwargs,
    )


# -- read state -------------------------------------------------------------------------


def test_the_reader_hears_notification_mark_read_while_watching(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    server.channel("messaging", "visit").send_message({"text": "one"}, "sam")
    with connected(emulator, "ana") as (ana, ana_id), connected(emulator, "sam") as (sam, sam_id):
        watch(emulator, "ana", ana_id)
        watch(emulator, "sam", sam_id)
        as_user(emulator, "ana").channel("messaging", "visit").mark_read("ana")

        notice = frames(ana, "notification.mark_read")
        assert notice["cid"] == "messaging:visit"
        assert (notice["unread_count"], notice["total_unread_count"]) == (0, 0)
        assert frames(sam, "message.read")["user"]["id"] == "ana"
        # The other member's connection is told of the read, not notified as a reader.
        no_frame_of(sam, "notification.mark_read")


def test_the_server_marks_read_for_a_user(emulator: RunningEmulator, server: StreamChat) -> None:
    server.channel("messaging", "visit").send_message({"text": "one"}, "sam")
    with connected(emulator, "ana") as (ana, _):
        answer = server.channel("messaging", "visit").mark_read("ana")
        assert answer["event"]["user"]["id"] == "ana"
        assert frames(ana, "notification.mark_read")["total_unread_count"] == 0


def test_mark_all_read_clears_every_channel(emulator: RunningEmulator, server: StreamChat) -> None:
    server.channel("messaging", "other", {"members": ["ana", "sam"]}).create("sam")
    server.channel("messaging", "visit").send_message({"text": "one"}, "sam")
    server.channel("messaging", "other").send_message({"text": "two"}, "sam")
    with connected(emulator, "ana") as (ana, _), connected(emulator, "sam") as (sam, sam_id):
        watch(emulator, "sam", sam_id)
        answer = _as(emulator, "ana", "POST", "/channels/read", json={})
        assert answer.status_code == 201, answer.text

        notice = frames(ana, "notification.mark_read")
        assert "cid" not in notice
        assert (notice["total_unread_count"], notice["unread_channels"]) == (0, 0)
        assert frames(sam, "message.read")["user"]["id"] == "ana"
    assert emulator.control.realtime.unread_counts("ana") == {
        "total_unread_count": 0,
        "unread_channels": 0,
    }


def test_mark_all_read_is_refused_for_someone_else(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    refused = _as(emulator, "ana", "POST", "/channels/read", json={"user_id": "sam"})
    assert refused.status_code == 403
    assert refused.json()["code"] == 17


# -- threads ------------------------------------------------------------------------------


def test_a_reply_updates_its_parent_for_every_watcher(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    parent = channel.send_message({"text": "question"}, "ana")["message"]
    with connected(emulator, "ana") as (ana, ana_id):
        watch(emulator, "ana", ana_id)
        as_user(emulator, "sam").channel("messaging", "visit").send_message(
            {"text": "answer", "parent_id": parent["id"]}, "sam"
        )
        updated = frames(ana, "message.updated")
    assert updated["message"]["id"] == parent["id"]
    assert updated["message"]["reply_count"] == 1


# -- the app's settings as a client sees them -----------------------------------------------


def test_a_user_reads_the_upload_settings_but_nothing_of_the_server(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    answer = _as(emulator, "ana", "GET", "/app")
    assert answer.status_code == 200, answer.text
    app = answer.json()["app"]
    for kind in ("file_upload_config", "image_upload_config"):
        assert app[kind]["size_limit"] == MAX_UPLOAD_BYTES
        assert app[kind]["blocked_mime_types"] == []
    assert "webhook_url" not in app
    # The server's view keeps its own fields.
    assert "webhook_url" in server.get_app_settings()["app"]


# -- watchers and presence ----------------------------------------------------------------


def test_watching_starts_and_stops_with_a_watcher_count(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with connected(emulator, "ana") as (ana, ana_id):
        watch(emulator, "ana", ana_id)
        with connected(emulator, "sam") as (_, sam_id):
            state = watch(emulator, "sam", sam_id)
            assert state["watcher_count"] == 2
            started = frames(ana, "user.watching.start")
            assert (started["user"]["id"], started["watcher_count"]) == ("sam", 2)
        stopped = frames(ana, "user.watching.stop")
        assert (stopped["user"]["id"], stopped["watcher_count"]) == ("sam", 1)


def test_users_are_online_while_connected(emulator: RunningEmulator, server: StreamChat) -> None:
    def sam() -> dict[str, Any]:
        user: dict[str, Any] = server.query_users({"id": "sam"})["users"][0]
        return user

    assert sam()["online"] is False and "last_active" not in sam()
    with connected(emulator, "sam"):
        assert sam()["online"] is True
        assert sam()["last_active"]
    with connected(emulator, "ana") as (_ana, ana_id):
        state = watch(emulator, "ana", ana_id)
        members = {m["user_id"]: m["user"] for m in state["members"]}
        assert members["sam"]["online"] is False
        assert members["ana"]["online"] is True


# -- reactions as each reader sees them -------------------------------------------------------


def test_own_reactions_are_the_readers(emulator: RunningEmulator, server: StreamChat) -> None:
    message = server.channel("messaging", "visit").send_message({"text": "hi"}, "ana")["message"]
    as_user(emulator, "sam").channel("messaging", "visit").send_reaction(
        message["id"], {"type": "love"}, "sam"
    )
    as_user(emulator, "ana").channel("messaging", "visit").send_reaction(
        message["id"], {"type": "like"}, "ana"
    )

    seen_by_sam = as_user(emulator, "sam").get_message(message["id"])["message"]
    assert [r["type"] for r in seen_by_sam["own_reactions"]] == ["love"]
    assert [r["type"] for r in seen_by_sam["latest_reactions"]] == ["like", "love"]
    with connected(emulator, "ana") as (_, ana_id):
        state = watch(emulator, "ana", ana_id)
    assert [r["type"] for r in state["messages"][-1]["own_reactions"]] == ["like"]


def test_the_server_sends_a_custom_event_for_a_user(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with connected(emulator, "sam") as (sam, sam_id):
        watch(emulator, "sam", sam_id)
        server.channel("messaging", "visit").send_event({"type": "vitals", "bpm": 80}, "ana")
        event = frames(sam, "vitals")
    assert (event["user"]["id"], event["bpm"]) == ("ana", 80)
    refused = httpx.post(
        f"{emulator.base_url}/channels/messaging/visit/event",
        params={"api_key": API_KEY},
        headers={"Authorization": server_token(), "Stream-Auth-Type": "jwt"},
        json={"event": {"type": "vitals"}},
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == 4


def test_rate_limits_and_delivery_reports(emulator: RunningEmulator, server: StreamChat) -> None:
    limits = server.get_rate_limits(server_side=True, endpoints=["GetRateLimits"])
    assert set(limits) - {"duration"} == {"server_side"}
    counted = limits["server_side"]["GetRateLimits"]
    assert counted["limit"] > counted["remaining"]
    delivered = {"latest_delivered_messages": [{"cid": "messaging:visit", "id": "m"}]}
    assert server.mark_delivered({**delivered, "user_id": "ana"}) is not None
    with pytest.raises(StreamAPIException) as refused:
        server.mark_delivered({"latest_delivered_messages": [{"cid": 1}], "user_id": "ana"})
    assert refused.value.error_code == 4
