"""Data read back from Stream is untrusted input (issue 19 D and E).

The attack as found (finding 5): one message whose text was a lone surrogate ("\\ud800"),
sent directly to Stream, made every member's channel list fail until it was deleted.
Here Stream hands the service what a person wrote — odd text, wrong types, huge strings,
a category we never write — and no list, push or lifecycle pass fails: the record is
shown sanitized or skipped, and logged once without its content.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from tests.support.world import WEBHOOK_SECRET, World, assert_error
from yc_chat.domain.inbox import InboxState
from yc_chat.domain.limits import MAX_PROVIDER_NAME
from yc_chat.domain.model import ChatCategory

MARKER = "CONTENT-7f3a"  # in every odd value: it must never reach a log line


async def _group(world: World, name: str = "Rota") -> str:
    response = await world.post(
        "/api/chat/channels/group",
        "vet-1",
        {"orgId": "org-1", "name": name, "memberIds": ["vet-2", "nurse-1"], "createdBy": "vet-1"},
    )
    assert response.status_code == 200, response.text
    channel_id: str = response.json()["channelId"]
    return channel_id


def _set(world: World, channel_id: str, **fields: object) -> None:
    """Custom data as someone other than the service wrote it (a server-side partial update)."""
    world.state.update_channel_partial("messaging", channel_id, set_fields=fields)


def _posted_directly(world: World, channel_id: str, text: str, sender: str = "vet-2") -> None:
    """A member posts straight to Stream with their own token, not through the service."""
    world.state.send_message("messaging", channel_id, text=text, user_id=sender)


async def _list(
    world: World, user: str = "vet-1", path: str = "/api/chat/channels", **params: str
) -> Any:
    response = await world.get(path, user, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


async def test_a_lone_surrogate_message_does_not_break_anyones_list(world: World) -> None:
    group = await _group(world)
    _posted_directly(world, group, "\ud800")
    for user in ("vet-1", "vet-2", "nurse-1"):
        listed = {c["id"]: c for c in (await _list(world, user))["channels"]}
        assert listed[group]["lastMessage"] == "\ufffd"  # as Stream itself would show it
    groups = await _list(world, path="/api/chat/channels/groups", orgId="org-1")
    assert [g["id"] for g in groups["channels"]] == [group]


async def test_odd_custom_data_is_shown_sanitized(world: World) -> None:
    group = await _group(world)
    _set(world, group, name=MARKER + "\udfff" + "x" * 50_000, status=["ended"], isGroup="yes")

    [channel] = (await _list(world))["channels"]
    assert channel["id"] == group
    assert channel["name"].startswith(MARKER + "\ufffd")
    assert len(channel["name"]) == MAX_PROVIDER_NAME
    assert channel["status"] == "active"  # not a status we know: read as the frozen flag says
    assert channel["chatCategory"] == "group" and channel["isGroup"] is True


async def test_wrong_types_and_ids_we_never_write_are_dropped(world: World) -> None:
    group = await _group(world)
    _set(world, group, name=12345, orgId={"$ne": None}, appointmentId=["apt-1"])
    listed = (await _list(world))["channels"]
    assert [c["id"] for c in listed] == []  # no org id left: no org's member may see it
    _set(world, group, orgId="org-1")
    [channel] = (await _list(world))["channels"]
    assert channel["id"] == group and channel["appointmentId"] is None
    assert channel["name"] is None or isinstance(channel["name"], str)


async def test_a_category_we_never_write_is_read_from_the_other_fields_and_logged_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    odd, kept = await _group(world, "Odd"), await _group(world, "Kept")
    _set(world, odd, chatCategory=MARKER)
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        listed = {c["id"]: c for c in (await _list(world))["channels"]}
        assert set(listed) == {odd, kept}
        assert listed[odd]["chatCategory"] == "group"  # isGroup says so
        # Group lists ask Stream for chatCategory "group": the odd one is not among them.
        groups = await _list(world, path="/api/chat/channels/groups", orgId="org-1")
        assert [g["id"] for g in groups["channels"]] == [kept]
    # Logged once, by channel id and field, never with what was written.
    noted = [r for r in caplog.records if getattr(r, "channel", None) == odd]
    assert len(noted) == 1 and "chatCategory" in str(noted[0].__dict__)
    assert all(MARKER not in r.getMessage() + str(r.__dict__) for r in caplog.records)


def _nonzero(counts: dict[InboxState, int]) -> dict[InboxState, int]:
    return {state: n for state, n in counts.items() if n}


def _signed(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()  # "\ud800" travels as the JSON escape, as Stream sends it
    signature = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Signature": signature, "Content-Type": "application/json"}


async def _deliver(world: World, channel_id: str, sender: dict[str, Any], text: object) -> None:
    event = {
        "type": "message.new",
        "cid": f"messaging:{channel_id}",
        "message": {"id": uuid.uuid4().hex, "text": text, "user": sender},
        "user": sender,
    }
    raw, headers = _signed(event)
    response = await world.client.post("/api/webhooks/stream", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    await world.drain()


async def test_pushes_carry_odd_text_sanitized_and_never_fail(world: World) -> None:
    group = await _group(world)
    await _deliver(world, group, {"id": "vet-2"}, "\ud800" + "z" * 10_000)
    await _deliver(world, group, {"id": "vet-2"}, ["not", "text"])
    await _deliver(world, group, {"id": "stranger", "name": "\udc00" * 5000}, "hi")
    bodies = [n.body for n in world.notifier.sent]
    assert bodies[:2] == ["\ufffd" + "z" * 99] * 2
    for notification in world.notifier.sent:
        msgspec.json.encode([notification.title, notification.body])  # encodable as sent
    assert len(world.notifier.sent[-1].title) <= MAX_PROVIDER_NAME
    assert _nonzero(await world.inbox.counts()) == {InboxState.DONE: 3}


async def test_a_push_about_a_channel_with_odd_data_goes_out_once(world: World) -> None:
    group = await _group(world)
    _set(world, group, chatCategory=["evil"], orgId="org-1", name={"x": 1})
    await _deliver(world, group, {"id": "vet-2"}, "hi")
    assert sorted(n.recipient_id for n in world.notifier.sent) == ["nurse-1", "vet-1"]
    assert {n.category for n in world.notifier.sent} == {ChatCategory.GROUP}
    assert _nonzero(await world.inbox.counts()) == {InboxState.DONE: 1}


async def test_a_lifecycle_pass_moves_a_chat_whose_data_is_odd(world: World) -> None:
    opened = await world.post("/api/chat/channels", "owner-1", {"appointmentId": "apt-1"})
    assert opened.status_code == 200, opened.text
    channel_id = opened.json()["channelId"]
    _set(world, channel_id, petOwnerName="\ud800" * 3, appointmentTime={"odd": 1}, name=7)
    world.clock.advance(timedelta(hours=2))  # apt-1 opens at 13:55
    run = await world.service.advance_lifecycle()
    assert run.transitions == 1
    [listed] = (await _list(world, "owner-1"))["channels"]
    assert listed["status"] == "active"


async def test_a_provider_outage_reads_in_the_contracts_words(world: World) -> None:
    world.state.fail_next(1, status_code=500, message="Unable to serialize response content")
    response = await world.get("/api/chat/channels", "vet-1")
    body = assert_error(response, 503, "provider_unavailable")
    assert "serialize" not in response.text
    assert body["error"] == "The chat provider is unavailable, try again shortly"
