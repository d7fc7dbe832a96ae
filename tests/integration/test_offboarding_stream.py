"""Offboarding with the real Stream adapter (the official SDK) over the emulator: the person
is no longer a Stream member of the org's staff channels, so their own Stream token reads
none of them, and a message sent after the removal pushes nothing to them."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from stream_emulator import RunningEmulator
from tests.support.demo import FIXTURE
from tests.support.emulator import API_KEY, API_SECRET, adapter_config, user_token
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture
from tests.support.notifier import RecordingNotifier
from yc_chat import in_memory
from yc_chat.adapters.clock import SystemClock
from yc_chat.adapters.fake_stream import StreamState
from yc_chat.adapters.stream import StreamChatProvider
from yc_chat.domain.events import MessagePosted
from yc_chat.domain.model import AppointmentId, OrgId, UserId
from yc_chat.entrypoints.fixture import parse_fixture
from yc_chat.entrypoints.runtime import Runtime

ORG = OrgId("org-1")
LEAVER = UserId("vet-2")


@pytest.fixture
async def runtime(
    stream_emulator: RunningEmulator,
) -> AsyncIterator[tuple[Runtime, Any, StreamChatProvider]]:
    stream_emulator.control.reset(StreamState())
    stream_emulator.control.webhook_url = None
    notifier = RecordingNotifier()
    async with await StreamChatProvider.open(adapter_config(stream_emulator)) as chat:
        built = in_memory(chat=chat, notifier=notifier, clock=SystemClock())
        await built.load(parse_fixture(FIXTURE))
        yield built, notifier, chat


async def _visible_to(
    emulator: RunningEmulator, user: str, issued_ago: timedelta = timedelta(seconds=5)
) -> set[str]:
    """The channel ids `user` reads with their own Stream token, issued `issued_ago`."""
    async with StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url) as sdk:
        sdk.auth_token = user_token(user, issued_ago=issued_ago)
        response = await sdk.query_channels({"members": {"$in": [user]}}, limit=30)
        return {entry["channel"]["id"] for entry in response["channels"]}


async def test_offboarded_member_is_out_of_stream_and_pushed_nothing(
    stream_emulator: RunningEmulator, runtime: tuple[Runtime, Any, StreamChatProvider]
) -> None:
    built, notifier, chat = runtime
    service = built.service
    group = await service.create_group(
        caller=UserId("vet-1"),
        org_id=ORG,
        name="Rota",
        member_ids=[LEAVER, UserId("nurse-1")],
        created_by=UserId("vet-1"),
    )
    dm = await service.start_colleague_dm(
        caller=UserId("vet-1"),
        org_id=ORG,
        member_ids=[UserId("vet-1"), LEAVER],
        created_by=UserId("vet-1"),
    )
    apt = await service.open_appointment_chat(
        caller=UserId("owner-2"), appointment_id=AppointmentId("apt-2")
    )
    staff_chats = {group.channel_id, dm.channel_id, apt.channel_id}
    assert await _visible_to(stream_emulator, LEAVER) == staff_chats

    outcome = await service.remove_org_member(caller=UserId("admin-1"), org_id=ORG, user_id=LEAVER)
    assert (outcome.groups_left, outcome.dms_ended, outcome.appointment_chats_left) == (1, 1, 1)

    # Even a token of theirs issued after the removal (older ones are revoked) reads none of
    # the org's chats: Stream no longer has them as members.
    assert await _visible_to(stream_emulator, LEAVER, timedelta(seconds=1)) == set()
    assert apt.channel_id in await _visible_to(stream_emulator, "owner-2")
    dm_now = await chat.get_channel(dm.channel_id)
    assert dm_now is not None and dm_now.is_ended and dm_now.frozen

    await service.handle_chat_event(
        event_id="after-removal",
        event=MessagePosted(
            channel_id=group.channel_id,
            sender_id=UserId("vet-1"),
            sender_name=None,
            text="CONFIDENTIAL: staff rota",
            has_attachments=False,
            is_system=False,
        ),
    )
    assert [n.recipient_id for n in notifier.sent] == ["nurse-1"]


class _AheadClock:
    """Wall-clock time, plus a lead a test may set (to issue tokens in a later second)."""

    def __init__(self) -> None:
        self.lead = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.lead


async def test_tokens_issued_before_the_removal_stop_working_and_a_new_one_reads_nothing(
    stream_emulator: RunningEmulator,
) -> None:
    """Finding 3's token half: after the removal, the person's old tokens are refused
    (REST and sockets); they may fetch a new token (the contract's choice: a token grants
    only what Stream membership grants), and with it they read and post nothing of the
    org's chats."""
    stream_emulator.control.reset(StreamState())
    stream_emulator.control.webhook_url = None
    clock = _AheadClock()
    async with await StreamChatProvider.open(adapter_config(stream_emulator)) as chat:
        built = in_memory(chat=chat, notifier=RecordingNotifier(), clock=clock)
        await built.load(parse_fixture(FIXTURE))
        service = built.service
        group = await service.create_group(
            caller=UserId("vet-1"),
            org_id=ORG,
            name="Rota",
            member_ids=[LEAVER, UserId("nurse-1")],
            created_by=UserId("vet-1"),
        )
        old = await service.connect_user(caller=LEAVER, user_id=LEAVER)
        socket_url = _socket_url(stream_emulator, LEAVER, old.token)
        with ws_connect(socket_url) as socket:
            assert json.loads(socket.recv(timeout=5))["type"] == "health.check"

            await service.remove_org_member(caller=UserId("admin-1"), org_id=ORG, user_id=LEAVER)

            with pytest.raises(ConnectionClosed):
                await asyncio.to_thread(_read_until_closed, socket)
        async with StreamChatAsync(API_KEY, API_SECRET, base_url=stream_emulator.base_url) as sdk:
            sdk.auth_token = old.token
            with pytest.raises(StreamAPIException) as refused:
                await sdk.query_channels({"members": {"$in": [LEAVER]}})
            assert refused.value.error_code == 40  # expired: the SDKs fetch a new token

            # A token issued after the removal's second works, and reaches nothing of the org.
            clock.lead = timedelta(seconds=2)
            fresh = await service.connect_user(caller=LEAVER, user_id=LEAVER)
            sdk.auth_token = fresh.token
            listed = await sdk.query_channels({"members": {"$in": [LEAVER]}})
            assert group.channel_id not in {c["channel"]["id"] for c in listed["channels"]}
            with pytest.raises(StreamAPIException):
                await sdk.channel("messaging", group.channel_id).send_message(
                    {"text": "still here"}, LEAVER
                )


def _socket_url(emulator: RunningEmulator, user_id: str, token: str) -> str:
    query = {
        "json": json.dumps({"user_id": user_id, "user_details": {"id": user_id}}),
        "api_key": API_KEY,
        "authorization": token,
        "stream-auth-type": "jwt",
    }
    return emulator.base_url.replace("http", "ws") + "/connect?" + urllib.parse.urlencode(query)


def _read_until_closed(socket: ClientConnection) -> None:
    for _ in range(50):
        socket.recv(timeout=5)
