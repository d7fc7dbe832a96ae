"""POST /api/webhooks/stream: signatures over the exact raw bytes, dedupe, event handling."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from tests.http.conftest import WEBHOOK_SECRET, World, assert_error
from yc_chat.domain.channel_ids import appointment_channel_id
from yc_chat.domain.model import AppointmentId, ChatStatus

APT1 = appointment_channel_id(AppointmentId("apt-1"))
APT2 = appointment_channel_id(AppointmentId("apt-2"))


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def message_new(channel_id: str, sender: str, text: str = "Is Rex OK?", **extra: Any) -> bytes:
    event = {
        "type": "message.new",
        "cid": f"messaging:{channel_id}",
        "channel_id": channel_id,
        "channel_type": "messaging",
        "message": {"id": "m1", "text": text, "type": "regular", "user": {"id": sender}},
        "user": {"id": sender},
        **extra,
    }
    return json.dumps(event).encode()


async def _send(
    world: World, body: bytes, *, signature: str | None = "sign", webhook_id: str | None = None
) -> Any:
    headers: dict[str, str] = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Signature"] = sign(body)
    elif signature is not None:
        headers["X-Signature"] = signature
    if webhook_id is not None:
        headers["X-Webhook-Id"] = webhook_id
    return await world.client.post("/api/webhooks/stream", content=body, headers=headers)


@pytest.fixture
async def chat(world: World) -> World:
    response = await world.post("/api/chat/channels", "owner-2", {"appointmentId": "apt-2"})
    assert response.is_success
    return world


async def test_message_new_pushes_to_everyone_but_the_sender(chat: World) -> None:
    response = await _send(chat, message_new(APT2, "owner-2", "x" * 150), webhook_id="w-1")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    [push] = chat.notifier.sent
    assert push.recipient_id == "vet-2"
    assert push.title == "Jordan Müller"
    assert push.body == "x" * 100
    assert push.data == {"channelId": APT2, "chatCategory": "client", "appointmentId": "apt-2"}


@pytest.mark.parametrize(
    "raw",
    [
        # Odd spacing, key order and \\u escapes: the signature covers the bytes as sent.
        b'{  "type" :"message.new","channel_id":"%s" ,\n '
        b'"message":{"text":"caf\\u00e9 \\ud83d\\udc36","user":{"id":"owner-2"}}}',
        b'{"message":{"user":{"id":"owner-2"},"text":"hi"},"channel_id":"%s","type":"message.new"}',
        b'\n\t{"type":"message.new","cid":"messaging:%s","message":{"user":{"id":"owner-2"},'
        b'"attachments":[{"type":"image"}],"text":""}}   ',
    ],
)
async def test_signature_over_exact_bytes_is_accepted(chat: World, raw: bytes) -> None:
    body = raw.replace(b"%s", APT2.encode())
    response = await _send(chat, body)
    assert response.status_code == 200, response.text
    [push] = chat.notifier.sent
    assert push.recipient_id == "vet-2"
    assert push.body in ("café 🐶", "hi", "[Media Message]")


@pytest.mark.parametrize(
    "tamper",
    ["flip a byte", "missing", "uppercase", "truncated", "other secret", "empty", "padded"],
)
async def test_bad_signatures_are_401_and_nothing_is_processed(chat: World, tamper: str) -> None:
    body = message_new(APT2, "owner-2")
    good = sign(body)
    signature: str | None
    sent = body
    if tamper == "flip a byte":
        sent = body.replace(b"Is Rex OK?", b"Is Rex OK!")
        signature = good
    elif tamper == "missing":
        signature = None
    elif tamper == "uppercase":
        signature = good.upper()
    elif tamper == "truncated":
        signature = good[:-2]
    elif tamper == "other secret":
        signature = sign(body, "not-the-secret")
    elif tamper == "empty":
        signature = ""
    else:
        signature = f" {good} "
    before = await chat.snapshot()
    response = await _send(chat, sent, signature=signature)
    assert_error(response, 401, "invalid_signature")
    assert await chat.snapshot() == before
    assert chat.notifier.sent == []


async def test_duplicate_webhook_id_pushes_once(chat: World) -> None:
    body = message_new(APT2, "owner-2")
    for _ in range(3):
        assert (await _send(chat, body, webhook_id="retry-me")).json() == {"ok": True}
    assert len(chat.notifier.sent) == 1
    await _send(chat, body, webhook_id="another-event")
    assert len(chat.notifier.sent) == 2


async def test_without_webhook_id_the_body_digest_dedupes(chat: World) -> None:
    body = message_new(APT2, "owner-2")
    await _send(chat, body)
    await _send(chat, body)
    assert len(chat.notifier.sent) == 1


async def test_system_messages_and_unknown_events_are_acknowledged_quietly(chat: World) -> None:
    system = message_new(APT2, "system", "Chat closed")
    assert (await _send(chat, system)).json() == {"ok": True}
    unknown = json.dumps({"type": "reaction.new", "whatever": [1, 2]}).encode()
    assert (await _send(chat, unknown)).json() == {"ok": True}
    incomplete = json.dumps({"type": "message.new"}).encode()
    assert (await _send(chat, incomplete)).json() == {"ok": True}
    assert chat.notifier.sent == []


async def test_channel_deleted_ends_and_unlinks_the_appointment(chat: World) -> None:
    body = json.dumps({"type": "channel.deleted", "cid": f"messaging:{APT2}"}).encode()
    assert (await _send(chat, body)).status_code == 200
    record = await chat.appointments.get(AppointmentId("apt-2"))
    assert record is not None
    assert record.chat_channel_id is None
    assert record.chat_status is ChatStatus.ENDED


async def test_user_updated_makes_the_next_token_call_refresh_the_profile(chat: World) -> None:
    await chat.post("/api/chat/token", "owner-2", {"userId": "owner-2"})
    writes = len(chat.chat.writes)
    await chat.post("/api/chat/token", "owner-2", {"userId": "owner-2"})
    assert len(chat.chat.writes) == writes
    body = json.dumps({"type": "user.updated", "user": {"id": "owner-2"}}).encode()
    assert (await _send(chat, body)).status_code == 200
    await chat.post("/api/chat/token", "owner-2", {"userId": "owner-2"})
    assert len(chat.chat.writes) == writes + 1


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"no": "type"}', b"", b"[" * 5000])
async def test_signed_garbage_is_400(chat: World, body: bytes) -> None:
    response = await _send(chat, body)
    assert_error(response, 400, "invalid_event")
    assert chat.notifier.sent == []


async def test_webhook_needs_no_bearer_token(world: World) -> None:
    body = json.dumps({"type": "health.check"}).encode()
    response = await _send(world, body)
    assert response.json() == {"ok": True}
