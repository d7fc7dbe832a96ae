"""The emulator is safe beside the service (issue 19, findings 4, 5 and 7), from the side of
a person holding a Stream token: hostile JSON is a 400 and never a 500, what is stored can
always be served, a removed member's socket hears nothing more, and one user cannot fill
the emulator's memory or serve active content from its origin."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from stream_emulator import RunningEmulator
from stream_emulator.api.connect import MAX_CONNECTIONS_PER_USER
from stream_emulator.state import uploads as upload_limits
from tests.support.emulator import API_KEY, API_SECRET, as_user, connected, user_token, ws_url
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def _call(
    emulator: RunningEmulator, method: str, path: str, *, user: str | None = None, **kw: Any
) -> httpx.Response:
    token = user_token(user) if user else _server_token()
    headers = {
        "Authorization": token,
        "Stream-Auth-Type": "jwt",
        "Content-Type": "application/json",
    }
    params = {"api_key": API_KEY, **kw.pop("params", {})}
    return httpx.request(
        method, emulator.base_url + path, headers=headers, params=params, timeout=10, **kw
    )


def _server_token() -> str:
    return jwt.encode({"server": True}, API_SECRET, algorithm="HS256")


def _assert_stream_error(response: httpx.Response, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["StatusCode"], body["code"]) == (status, code)


# -- finding 5: one poisoned message ---------------------------------------------------------


def test_a_lone_surrogate_is_stored_as_the_replacement_character(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    sam = as_user(emulator, "sam")
    # The SDK writes "\ud800" as its JSON escape, as a browser would.
    sent = sam.channel("messaging", "visit").send_message({"text": "\ud800 hi \udfff"}, "sam")

    assert sent["message"]["text"] == "\ufffd hi \ufffd"
    stored = emulator.control.state.messages("messaging", "visit")[-1]
    assert stored.text == "\ufffd hi \ufffd"
    # Every member's list still reads, as the server and as users.
    for reader in (server, sam, as_user(emulator, "ana")):
        found = reader.query_channels({"cid": "messaging:visit"})["channels"]
        assert found[0]["messages"][-1]["text"] == "\ufffd hi \ufffd"


def test_lone_surrogates_in_custom_data_and_names_are_replaced_too(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    server.channel("messaging", "visit").update_partial({"name": "\udc00x", "note": {"\ud800": 1}})
    server.upsert_user({"id": "eve", "name": "E\ud800ve"})
    channel = server.query_channels({"cid": "messaging:visit"})["channels"][0]["channel"]
    assert (channel["name"], channel["note"]) == ("\ufffdx", {"\ufffd": 1})
    assert server.query_users({"id": "eve"})["users"][0]["name"] == "E\ufffdve"


# -- hostile JSON and numbers --------------------------------------------------------------


MESSAGE = '{"message": {"text": "x", "n": %s}}'
MUTE = '{"channel_cid": "messaging:visit", "user_id": "ana", "expiration": %d}'


def _deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/channels", '{"filter_conditions": ' + _deep(3000) + "}"),
        ("POST", "/channels/messaging/visit/message", '{"message": ' + _deep(3000) + "}"),
        ("POST", "/users", '{"users": {"x": ' + _deep(100) + "}}"),
        ("POST", "/channels/messaging/visit/message", '{"message": {"text": "hi", "n": NaN}}'),
        ("POST", "/channels/messaging/visit/message", '{"message": {"text": "hi", "n": 1e400}}'),
        ("POST", "/channels/messaging/visit/message", MESSAGE % ("1" + "0" * 30)),
        ("POST", "/moderation/mute/channel", MUTE % 10**15),
        ("POST", "/moderation/mute/channel", MUTE % 10**20),
    ],
)  # fmt: skip
def test_hostile_json_is_a_400_that_changes_nothing(
    emulator: RunningEmulator, server: StreamChat, method: str, path: str, body: str
) -> None:
    before = len(emulator.control.state.messages("messaging", "visit"))
    response = _call(emulator, method, path, content=body)
    _assert_stream_error(response, 400, 4)
    assert len(emulator.control.state.messages("messaging", "visit")) == before
    assert not emulator.control.state.channel_mutes("ana")


def test_a_deep_payload_query_is_a_400(emulator: RunningEmulator, server: StreamChat) -> None:
    response = _call(emulator, "GET", "/users", params={"payload": _deep(3000)})
    _assert_stream_error(response, 400, 4)


def test_a_mute_within_range_still_works(emulator: RunningEmulator, server: StreamChat) -> None:
    response = _call(
        emulator,
        "POST",
        "/moderation/mute/channel",
        content=json.dumps({"channel_cid": "messaging:visit", "expiration": 3_600_000}),
        user="ana",
    )
    assert response.status_code == 201, response.text
    assert response.json()["channel_mute"]["expires"]


# -- finding 4: a removed member's socket --------------------------------------------------


def _watch(emulator: RunningEmulator, user_id: str, connection_id: str, channel_id: str) -> None:
    response = _call(
        emulator,
        "POST",
        f"/channels/messaging/{channel_id}/query",
        user=user_id,
        params={"connection_id": connection_id},
        content=json.dumps({"state": True, "watch": True}),
    )
    assert response.status_code == 201, response.text


def _frames_until(socket: ClientConnection, cid: str, text: str) -> list[dict[str, Any]]:
    """Every frame up to the `message.new` of `text` in `cid` (which must come)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while True:
        frame: dict[str, Any] = json.loads(socket.recv(timeout=deadline - time.monotonic()))
        seen.append(frame)
        message = frame.get("message") or {}
        if frame.get("cid") == cid and message.get("text") == text:
            return seen


def _texts_from(frames: list[dict[str, Any]], cid: str) -> list[str]:
    return [(f.get("message") or {}).get("text") for f in frames if f.get("cid") == cid]


@pytest.mark.parametrize("how", ["remove_members", "update_members"])
def test_a_removed_members_socket_hears_nothing_more_of_the_channel(
    emulator: RunningEmulator, server: StreamChat, how: str
) -> None:
    server.channel("messaging", "other", {"members": ["ana", "sam"]}).create("ana")
    ana = server.channel("messaging", "visit")
    with connected(emulator, "sam") as (socket, connection_id):
        _watch(emulator, "sam", connection_id, "visit")
        _watch(emulator, "sam", connection_id, "other")
        ana.send_message({"text": "before"}, "ana")
        if how == "remove_members":
            ana.remove_members(["sam"])
        else:  # the in-process provider's path: the state changed directly
            emulator.control.state.update_members("messaging", "visit", add=[], remove=["sam"])
        ana.send_message({"text": "CONFIDENTIAL after removal"}, "ana")
        as_user(emulator, "ana").channel("messaging", "visit").send_event(
            {"type": "typing.start"}, "ana"
        )
        # Frames on one socket keep their order: once this arrives, anything of "visit"
        # sent before it would have arrived too.
        server.channel("messaging", "other").send_message({"text": "marker"}, "ana")
        frames = _frames_until(socket, "messaging:other", "marker")

    from_visit = [f for f in frames if f.get("cid") == "messaging:visit"]
    assert "before" in _texts_from(frames, "messaging:visit")
    assert "CONFIDENTIAL after removal" not in json.dumps(frames)
    assert not [f for f in from_visit if f["type"] == "typing.start"]
    assert any(f["type"] == "notification.removed_from_channel" for f in frames)


def test_a_socket_watching_a_channel_it_was_never_in_hears_nothing(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    server.channel("messaging", "other", {"members": ["ana", "cleo"]}).create("ana")
    with connected(emulator, "cleo") as (socket, connection_id):
        refused = _call(
            emulator,
            "POST",
            "/channels/messaging/visit/query",
            user="cleo",
            params={"connection_id": connection_id},
            content=json.dumps({"state": True, "watch": True}),
        )
        assert refused.status_code == 403
        _watch(emulator, "cleo", connection_id, "other")
        server.channel("messaging", "visit").send_message({"text": "SECRET"}, "ana")
        server.channel("messaging", "other").send_message({"text": "marker"}, "ana")
        frames = _frames_until(socket, "messaging:other", "marker")
    assert "SECRET" not in json.dumps(frames)


# -- finding 7: caps ---------------------------------------------------------------------


def test_one_user_opens_only_a_few_sockets(emulator: RunningEmulator, server: StreamChat) -> None:
    with contextlib.ExitStack() as stack:
        for _ in range(MAX_CONNECTIONS_PER_USER):
            stack.enter_context(connected(emulator, "sam"))
        with ws_connect(ws_url(emulator, "sam")) as extra:
            refusal = json.loads(extra.recv(timeout=5))
        assert refusal["error"]["code"] == 9 and refusal["error"]["StatusCode"] == 429
        with connected(emulator, "ana"):  # others are not affected
            pass
    # Closing them makes room again.
    with connected(emulator, "sam"):
        assert emulator.control.realtime.is_online("sam")


def _upload(
    emulator: RunningEmulator, user: str, name: str, data: bytes, kind: str
) -> httpx.Response:
    token = user_token(user)
    return httpx.post(
        f"{emulator.base_url}/channels/messaging/visit/file",
        params={"api_key": API_KEY},
        headers={"Authorization": token, "Stream-Auth-Type": "jwt"},
        files={"file": (name, data, kind)},
        timeout=30,
    )


def test_uploads_per_user_are_capped_in_count(
    emulator: RunningEmulator, server: StreamChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_limits, "MAX_UPLOADS_PER_USER", 3)
    for n in range(3):
        assert _upload(emulator, "sam", f"{n}.txt", b"x", "text/plain").status_code == 201
    _assert_stream_error(_upload(emulator, "sam", "4.txt", b"x", "text/plain"), 429, 9)
    assert _upload(emulator, "ana", "a.txt", b"x", "text/plain").status_code == 201


def test_uploads_per_user_and_in_all_are_capped_in_bytes(
    emulator: RunningEmulator, server: StreamChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_limits, "MAX_UPLOAD_BYTES_PER_USER", 2_000)
    monkeypatch.setattr(upload_limits, "MAX_UPLOAD_BYTES_HELD", 3_000)
    assert _upload(emulator, "sam", "a.bin", b"x" * 1_500, "application/pdf").status_code == 201
    _assert_stream_error(_upload(emulator, "sam", "b.bin", b"x" * 600, "application/pdf"), 429, 9)
    kept = _upload(emulator, "ana", "c.bin", b"x" * 1_400, "application/pdf")
    assert kept.status_code == 201
    _assert_stream_error(_upload(emulator, "ana", "d.bin", b"x" * 200, "application/pdf"), 429, 9)
    # Deleting a file frees its room.
    as_user(emulator, "ana").channel("messaging", "visit").delete_file(kept.json()["file"])
    assert _upload(emulator, "ana", "d.bin", b"x" * 200, "application/pdf").status_code == 201


def test_the_real_allowance_refuses_a_flood(emulator: RunningEmulator, server: StreamChat) -> None:
    """The finding: 30 uploads of 10 MB were all kept. Now at most 50 MB of them are."""
    big = b"x" * (9 * 1024 * 1024)
    statuses = [
        _upload(emulator, "sam", f"{n}.bin", big, "application/zip").status_code for n in range(7)
    ]
    assert statuses == [201] * 5 + [429] * 2


@pytest.mark.parametrize(
    ("name", "kind", "inline"),
    [
        ("page.html", "text/html", False),
        ("pic.svg", "image/svg+xml", False),
        ("app.js", "text/javascript", False),
        ("x.xhtml", "application/xhtml+xml", False),
        ("notes.txt", "text/plain", False),
        ("rex.png", "image/png", True),
    ],
)
def test_uploads_are_served_unsniffed_and_active_types_only_as_attachments(
    emulator: RunningEmulator, server: StreamChat, name: str, kind: str, inline: bool
) -> None:
    payload = b"<script>alert(document.domain)</script>"
    sent = _upload(emulator, "sam", name, payload, kind)
    assert sent.status_code == 201, sent.text
    served = httpx.get(sent.json()["file"])
    assert served.status_code == 200 and served.content == payload
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    disposition = served.headers.get("content-disposition", "")
    assert disposition.startswith("attachment") is not inline


def test_server_side_refusals_stay_stream_errors(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with pytest.raises(StreamAPIException) as caught:
        server.channel("messaging", "visit").mute("ana", expiration=10**15)
    assert caught.value.status_code == 400
