"""Offboarding with the real Stream adapter (the official SDK) over the emulator: the person
is no longer a Stream member of the org's staff channels, so their own Stream token reads
none of them, and a message sent after the removal pushes nothing to them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from stream_chat.async_chat.client import StreamChatAsync

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


async def _visible_to(emulator: RunningEmulator, user: str) -> set[str]:
    """The channel ids `user` reads with their own Stream token."""
    async with StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url) as sdk:
        sdk.auth_token = user_token(user)
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

    # Their own token reads none of the org's chats any more: Stream no longer has them.
    assert await _visible_to(stream_emulator, LEAVER) == set()
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
