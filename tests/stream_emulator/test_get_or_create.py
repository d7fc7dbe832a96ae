"""GetOrCreateChannel's ways through the emulator (with an id and without): who the creator
is server-side and for a user, `data.invites` at creation only, and watching refused
without a websocket."""

from __future__ import annotations

import httpx
import jwt
import pytest
from stream_chat import StreamChat

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, as_user
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture

NO_CREATOR = (
    'GetOrCreateChannel failed with error: "either data.created_by or data.created_by_id must '
    'be provided when using server side auth."'
)


def _server_side(emulator: RunningEmulator) -> httpx.Client:
    return httpx.Client(
        base_url=emulator.base_url,
        params={"api_key": API_KEY},
        headers={
            "Authorization": jwt.encode({"server": True}, API_SECRET, algorithm="HS256"),
            "Stream-Auth-Type": "jwt",
        },
        timeout=10,
    )


def _members(answer: dict[str, object]) -> dict[str, dict[str, object]]:
    members = answer["members"]
    assert isinstance(members, list)
    return {m["user_id"]: m for m in members}


def test_a_user_invites_at_creation_and_reading_the_channel_later_invites_nobody(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    ana = as_user(emulator, "ana")
    created = ana.channel("messaging", "new", {"members": ["ana"], "invites": ["cleo"]}).create(
        "ana"
    )
    read = ana.channel("messaging", "new", {"members": ["ana"], "invites": ["sam"]}).create("ana")

    assert _members(created)["cleo"]["invited"] is True
    assert _members(created)["ana"]["channel_role"] == "owner"
    assert created["channel"]["created_by"]["id"] == "ana"
    assert set(_members(read)) == {"ana", "cleo"}  # sam was not invited by the second call


def test_server_side_needs_a_creator_unless_the_channel_exists(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with _server_side(emulator) as client:
        fresh = client.post("/channels/messaging/fresh/query", json={"data": {"members": ["ana"]}})
        distinct = client.post("/channels/messaging/query", json={"data": {"members": ["ana"]}})
        existing = client.post("/channels/messaging/visit/query", json={"data": {}})

    for refused in (fresh, distinct):
        assert refused.status_code == 400
        assert (refused.json()["code"], refused.json()["message"]) == (4, NO_CREATOR)
    assert emulator.control.state.channel("messaging", "fresh") is None
    assert existing.status_code == 201
    assert existing.json()["channel"]["created_by"]["id"] == "ana"


@pytest.mark.parametrize(
    "path", ["/channels/messaging/visit/query", "/channels/messaging/query", "/channels"]
)
@pytest.mark.parametrize("flag", ["watch", "presence"])
def test_server_side_watching_is_refused(
    emulator: RunningEmulator, server: StreamChat, path: str, flag: str
) -> None:
    body = {flag: True, "data": {"members": ["ana", "sam"], "created_by_id": "ana"}}
    with _server_side(emulator) as client:
        answer = client.post(path, json=body)

    assert answer.status_code == 400
    assert answer.json()["code"] == 4
    assert "watch and presence need a websocket connection_id" in answer.json()["message"]
