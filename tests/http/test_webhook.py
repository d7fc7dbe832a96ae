"""POST /api/webhooks/stream: signatures over the exact raw bytes, the durable inbox, dedupe,
event handling by the worker."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest

from tests.http.conftest import WorldFactory
from tests.support.world import WEBHOOK_SECRET, World, assert_error
from yc_chat.adapters.push import push_data
from yc_chat.domain.channel_ids import appointment_channel_id
from yc_chat.domain.inbox import InboxState
from yc_chat.domain.metrics import Counted
from yc_chat.domain.model import AppointmentId, ChatStatus
from yc_chat.entrypoints.settings import WorkerSettings

APT1 = appointment_channel_id(AppointmentId("apt-1"))
APT2 = appointment_channel_id(AppointmentId("apt-2"))


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _digest_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def message_new(
    channel_id: str,
    sender: str,
    text: str = "Is Rex OK?",
    *,
    message_id: str | None = None,
    **extra: Any,
) -> bytes:
    """A signed-to-be `message.new` body; each call is a new message unless `message_id`."""
    event = {
        "type": "message.new",
        "cid": f"messaging:{channel_id}",
        "channel_id": channel_id,
        "channel_type": "messaging",
        "message": {
            "id": message_id or uuid.uuid4().hex,
            "text": text,
            "type": "regular",
            "user": {"id": sender},
        },
        "user": {"id": sender},
        **extra,
    }
    return json.dumps(event).encode()


async def _deliver(world: World, body: bytes, **kwargs: Any) -> Any:
    """Send, then let the worker handle what was recorded."""
    response = await _send(world, body, **kwargs)
    await world.drain()
    return response


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
    # Acknowledged once recorded; handled afterwards, from the record.
    assert chat.notifier.sent == []
    recorded = await chat.inbox.get("w-1")
    assert recorded is not None and recorded.state is InboxState.PENDING
    assert recorded.type == "message.new"
    await chat.drain()
    assert (await chat.inbox.get("w-1")).state is InboxState.DONE  # type: ignore[union-attr]
    [push] = chat.notifier.sent
    assert push.recipient_id == "vet-2"
    assert push.title == "Jordan Müller"
    assert push.body == "x" * 100
    # The payload every push adapter sends: the contract's data, in its words.
    assert push_data(push) == {
        "channelId": APT2,
        "chatCategory": "client",
        "appointmentId": "apt-2",
    }


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
    response = await _deliver(chat, body)
    assert response.status_code == 200, response.text
    # What is recorded is the very bytes that were signed, not a re-serialisation.
    event = await chat.inbox.get(_digest_id(body))
    assert event is not None and event.payload == body
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
    response = await _send(chat, sent, signature=signature, webhook_id="evt-rejected")
    assert_error(response, 401, "invalid_signature")
    await chat.drain()
    assert await chat.snapshot() == before
    assert chat.notifier.sent == []
    # Nothing was recorded: a forged request leaves no trace to be handled later.
    assert await chat.inbox.get("evt-rejected") is None
    assert sum((await chat.inbox.counts()).values()) == 0


async def test_duplicate_webhook_id_pushes_once(chat: World) -> None:
    body = message_new(APT2, "owner-2")
    for _ in range(3):
        assert (await _deliver(chat, body, webhook_id="retry-me")).json() == {"ok": True}
    assert len(chat.notifier.sent) == 1
    await _deliver(chat, message_new(APT2, "owner-2", "another"), webhook_id="another-event")
    assert len(chat.notifier.sent) == 2


async def test_a_captured_event_replayed_under_new_webhook_ids_pushes_once(chat: World) -> None:
    """Issue 13: one signed message.new replayed under five new X-Webhook-Ids pushed five
    times. The event's identity (type and message id) now dedupes it."""
    body = message_new(APT2, "owner-2", "captured")
    await _deliver(chat, body, webhook_id="original")
    for n in range(5):
        response = await _deliver(chat, body, webhook_id=f"replay-{n}")
        assert response.json() == {"ok": True}
        assert await chat.inbox.get(f"replay-{n}") is None
    assert [n.recipient_id for n in chat.notifier.sent] == ["vet-2"]
    assert chat.metrics.value(Counted.WEBHOOKS_DUPLICATE) == 5


async def test_events_without_a_message_dedupe_by_type_channel_and_time(chat: World) -> None:
    """channel.deleted has no message: type, channel and created_at identify it."""
    event = {
        "type": "channel.deleted",
        "cid": f"messaging:{APT2}",
        "created_at": "2026-01-15T14:00:00Z",
    }
    body = json.dumps(event).encode()
    await _deliver(chat, body, webhook_id="del-1")
    await _deliver(chat, body, webhook_id="del-2")
    assert await chat.inbox.get("del-1") is not None
    assert await chat.inbox.get("del-2") is None
    later = json.dumps({**event, "created_at": "2026-01-15T14:00:01Z"}).encode()
    await _deliver(chat, later, webhook_id="del-3")
    assert await chat.inbox.get("del-3") is not None


async def _group(world: World) -> str:
    response = await world.post(
        "/api/chat/channels/group",
        "vet-1",
        {"orgId": "org-1", "name": "Ward", "memberIds": ["vet-2", "nurse-1"], "createdBy": "vet-1"},
    )
    assert response.is_success, response.text
    channel_id: str = response.json()["channelId"]
    return channel_id


async def test_five_sequential_deliveries_push_once_per_recipient(world: World) -> None:
    group = await _group(world)
    body = message_new(group, "vet-1", "Rounds at 3")
    for _ in range(5):
        assert (await _send(world, body, webhook_id="evt-5x")).json() == {"ok": True}
        await world.drain()
    assert sorted(n.recipient_id for n in world.notifier.sent) == ["nurse-1", "vet-2"]
    assert world.metrics.total(Counted.WEBHOOKS_RECEIVED) == 1
    assert world.metrics.total(Counted.WEBHOOKS_DUPLICATE) == 4


async def test_five_concurrent_deliveries_push_once_per_recipient(world: World) -> None:
    group = await _group(world)
    body = message_new(group, "vet-1", "Rounds at 3")
    responses = await asyncio.gather(
        *(_send(world, body, webhook_id="evt-5c") for _ in range(5)),
        world.drain(),
        world.drain(),
    )
    assert all(r.json() == {"ok": True} for r in responses[:5])
    await world.drain()
    assert sorted(n.recipient_id for n in world.notifier.sent) == ["nurse-1", "vet-2"]
    assert (await world.inbox.counts())[InboxState.DONE] == 1


async def test_without_webhook_id_the_body_digest_dedupes(chat: World) -> None:
    body = message_new(APT2, "owner-2")
    await _deliver(chat, body)
    await _deliver(chat, body)
    assert len(chat.notifier.sent) == 1
    assert (await chat.inbox.counts())[InboxState.DONE] == 1


async def test_events_recorded_before_a_restart_are_handled_after_it(
    make_world: WorldFactory,
) -> None:
    """The worker was down (or killed) between recording and handling: nothing is lost."""
    first: World = await make_world()
    await first.post("/api/chat/channels", "owner-2", {"appointmentId": "apt-2"})
    await _send(first, message_new(APT2, "owner-2"), webhook_id="before-crash")
    assert first.notifier.sent == []
    # The killed worker had leased the event and died mid-handling: the lease lapses.
    now = first.clock.now()
    [leased] = await first.inbox.lease(now=now, until=now, limit=1, lease_id="dead-worker")
    assert leased.id == "before-crash"
    # "Restart": the same stores, a new worker pass.
    assert await first.drain() == 1
    [push] = first.notifier.sent
    assert push.recipient_id == "vet-2"
    event = await first.inbox.get("before-crash")
    assert event is not None and event.state is InboxState.DONE and event.attempts == 2


async def test_the_apps_own_worker_handles_recorded_events(make_world: WorldFactory) -> None:
    world: World = await make_world(worker=WorkerSettings(poll_seconds=0.05))
    await world.post("/api/chat/channels", "owner-2", {"appointmentId": "apt-2"})
    await _send(world, message_new(APT2, "owner-2"), webhook_id="lifespan-1")
    for _ in range(200):
        if world.notifier.sent:
            break
        await asyncio.sleep(0.01)
    assert [n.recipient_id for n in world.notifier.sent] == ["vet-2"]


async def test_metrics_count_webhooks_and_pushes(chat: World) -> None:
    body = message_new(APT2, "owner-2")
    await _deliver(chat, body, webhook_id="m-1")
    await _deliver(chat, body, webhook_id="m-1")
    await _send(chat, body, signature="0" * 64)
    response = await chat.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert "yc_chat_webhooks_received_total 1" in text
    assert "yc_chat_webhooks_duplicate_total 1" in text
    assert 'yc_chat_events_processed_total{kind="message_posted"} 1' in text
    assert "yc_chat_pushes_sent_total 1" in text
    assert 'yc_chat_inbox_events{state="done"} 1' in text
    assert 'yc_chat_event_handling_seconds_count{kind="message_posted"} 1' in text
    assert "Is Rex OK" not in text


async def test_system_messages_and_unknown_events_are_acknowledged_quietly(chat: World) -> None:
    system = message_new(APT2, "system", "Chat closed")
    assert (await _deliver(chat, system)).json() == {"ok": True}
    unknown = json.dumps({"type": "reaction.new", "whatever": [1, 2]}).encode()
    assert (await _deliver(chat, unknown)).json() == {"ok": True}
    incomplete = json.dumps({"type": "message.new"}).encode()
    assert (await _deliver(chat, incomplete)).json() == {"ok": True}
    assert chat.notifier.sent == []


async def test_channel_deleted_ends_and_unlinks_the_appointment(chat: World) -> None:
    body = json.dumps({"type": "channel.deleted", "cid": f"messaging:{APT2}"}).encode()
    assert (await _deliver(chat, body)).status_code == 200
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
    assert (await _deliver(chat, body)).status_code == 200
    await chat.post("/api/chat/token", "owner-2", {"userId": "owner-2"})
    assert len(chat.chat.writes) == writes + 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json", "invalid_event"),
        (b"[1, 2]", "invalid_event"),
        (b'{"no": "type"}', "invalid_event"),
        (b"", "invalid_event"),
        (b"[" * 5000, "json_too_deep"),
        (b'{"type": "message.new", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}", "json_too_deep"),
    ],
)
async def test_signed_garbage_is_400(chat: World, body: bytes, code: str) -> None:
    response = await _send(chat, body)
    assert_error(response, 400, code)
    if code == "invalid_event":  # says what is wrong, not what was sent
        assert response.json()["error"] == "The webhook body is not a Stream event"
    assert chat.notifier.sent == []
    assert sum((await chat.inbox.counts()).values()) == 0


async def test_webhook_needs_no_bearer_token(world: World) -> None:
    body = json.dumps({"type": "health.check"}).encode()
    response = await _send(world, body)
    assert response.json() == {"ok": True}
