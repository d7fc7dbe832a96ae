"""Message fields beyond text: custom data, pins, silent and restricted messages, reaction
data, soft-deleted text; and the features the emulator refuses as not supported."""

from __future__ import annotations

import httpx
import jwt
import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, as_user, connected, watch
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def test_custom_fields_are_kept_set_and_unset(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    sent = channel.send_message({"text": "hi", "weight_kg": 31, "custom": {"pet": "Rex"}}, "ana")
    message_id = sent["message"]["id"]
    assert (sent["message"]["weight_kg"], sent["message"]["pet"]) == (31, "Rex")

    changed = server.update_message_partial(
        message_id, {"set": {"weight_kg": 32}, "unset": ["pet"]}, "ana"
    )["message"]
    assert changed["weight_kg"] == 32 and "pet" not in changed
    # A full update replaces the custom data; what Stream writes itself is ignored.
    replaced = server.update_message({**changed, "text": "hello", "mood": "calm"})["message"]
    assert (replaced["text"], replaced["mood"], replaced["weight_kg"]) == ("hello", "calm", 32)


def test_pin_and_unpin(emulator: RunningEmulator, server: StreamChat) -> None:
    message_id = server.channel("messaging", "visit").send_message({"text": "hi"}, "ana")[
        "message"
    ]["id"]
    pinned = server.pin_message(message_id, "sam", expiration=60)["message"]
    assert pinned["pinned"] is True and pinned["pinned_by"]["id"] == "sam"
    assert pinned["pinned_at"] and pinned["pin_expires"]
    with connected(emulator, "ana") as (_, connection_id):
        state = watch(emulator, "ana", connection_id)
    assert [m["id"] for m in state["pinned_messages"]] == [message_id]

    unpinned = server.unpin_message(message_id, "sam")["message"]
    assert unpinned["pinned"] is False
    assert unpinned["pinned_at"] is None and unpinned["pinned_by"] is None


def test_restricted_messages_are_seen_only_by_those_named(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    server.channel("messaging", "visit").send_message(
        {"text": "just for you", "restricted_visibility": ["ana"]}, "cleo"
    )
    with connected(emulator, "ana") as (_, ana_id):
        seen_by_ana = watch(emulator, "ana", ana_id)["messages"]
    with connected(emulator, "sam") as (_, sam_id):
        seen_by_sam = watch(emulator, "sam", sam_id)["messages"]
    assert [m["text"] for m in seen_by_ana] == ["just for you"]
    assert seen_by_sam == []


def test_reactions_keep_custom_data(emulator: RunningEmulator, server: StreamChat) -> None:
    channel = server.channel("messaging", "visit")
    message_id = channel.send_message({"text": "hi"}, "ana")["message"]["id"]
    channel.send_reaction(message_id, {"type": "love", "count": 42}, "sam")
    assert channel.get_reactions(message_id)["reactions"][0]["count"] == 42


def test_a_soft_deleted_message_keeps_its_text_for_the_server(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    message_id = server.channel("messaging", "visit").send_message({"text": "oops"}, "ana")[
        "message"
    ]["id"]
    server.delete_message(message_id)
    assert server.get_message(message_id)["message"]["text"] == ""
    kept = server.get_message(message_id, show_deleted_message=True)["message"]
    assert (kept["text"], kept["type"]) == ("oops", "deleted")


def test_reserved_fields_cannot_be_set(emulator: RunningEmulator, server: StreamChat) -> None:
    message_id = server.channel("messaging", "visit").send_message({"text": "hi"}, "ana")[
        "message"
    ]["id"]
    with pytest.raises(StreamAPIException) as refused:
        as_user(emulator, "ana").update_message_partial(
            message_id, {"set": {"parent_id": "x"}}, "ana"
        )
    assert (refused.value.status_code, refused.value.error_code) == (400, 4)


@pytest.mark.parametrize(
    ("method", "path", "feature"),
    [
        ("POST", "/moderation/ban", "moderation"),
        ("POST", "/moderation/flag", "moderation"),
        ("GET", "/blocklists", "moderation"),
        ("POST", "/export_channels", "imports and exports"),
        ("POST", "/campaigns/query", "campaigns"),
        ("POST", "/reminders/query", "reminders"),
        ("POST", "/drafts/query", "drafts"),
        ("GET", "/users/live_locations", "live locations"),
        ("POST", "/messages/m1/translate", "translation"),
        ("POST", "/stats/team_usage", "usage statistics"),
        ("POST", "/check_push", "push provider checks"),
        ("GET", "/commands", "commands"),
    ],
)
def test_features_out_of_scope_are_refused_clearly(
    emulator: RunningEmulator, method: str, path: str, feature: str
) -> None:
    answer = httpx.request(
        method,
        f"{emulator.base_url}{path}",
        params={"api_key": API_KEY},
        headers={
            "Authorization": jwt.encode({"server": True}, API_SECRET, algorithm="HS256"),
            "Stream-Auth-Type": "jwt",
        },
        json={},
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == 4 and body["StatusCode"] == 400
    assert f"{feature} is not supported by the emulator" in body["message"]
