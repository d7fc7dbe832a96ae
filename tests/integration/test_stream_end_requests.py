"""Ending a chat through the use case on the real Stream adapter over the emulator: at most
2 requests at Stream (issue 22), still one closing notice when ends race, and the status
change reuses only its own task's fresh read, never data another write made stale."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest

from stream_emulator import RunningEmulator
from tests.support.demo import FIXTURE
from tests.support.emulator import adapter_config
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture
from tests.support.notifier import RecordingNotifier
from yc_chat import in_memory
from yc_chat.adapters.clock import SystemClock
from yc_chat.adapters.fake_stream import StreamState
from yc_chat.adapters.stream import StreamChatProvider
from yc_chat.domain.model import (
    SYSTEM_PROFILE,
    ChannelData,
    ChannelId,
    ChannelSpec,
    ChatStatus,
    OrgId,
    UserId,
)
from yc_chat.entrypoints.fixture import parse_fixture
from yc_chat.entrypoints.runtime import Runtime

ORG = OrgId("org-1")
NURSE, VET = UserId("nurse-1"), UserId("vet-1")


@pytest.fixture
async def runtime(
    stream_emulator: RunningEmulator,
) -> AsyncIterator[tuple[Runtime, StreamChatProvider]]:
    stream_emulator.control.reset(StreamState())
    stream_emulator.control.webhook_url = None
    async with await StreamChatProvider.open(adapter_config(stream_emulator)) as chat:
        built = in_memory(chat=chat, notifier=RecordingNotifier(), clock=SystemClock())
        await built.load(parse_fixture(FIXTURE))
        # The system user is upserted once per process before its first notice; that
        # profile upsert is not part of what an end costs.
        await chat.upsert_profiles([SYSTEM_PROFILE])
        yield built, chat


async def _group(built: Runtime) -> ChannelId:
    ref = await built.service.create_group(
        caller=NURSE, created_by=NURSE, org_id=ORG, name="Night shift", member_ids=[VET]
    )
    return ref.channel_id


def _since(emulator: RunningEmulator, before: Any) -> dict[str, int]:
    return dict(emulator.control.requests() - before)


async def test_an_end_is_two_requests_and_a_repeat_one(
    stream_emulator: RunningEmulator, runtime: tuple[Runtime, StreamChatProvider]
) -> None:
    built, _ = runtime
    cid = await _group(built)
    before = stream_emulator.control.requests()

    ended = await built.service.end_chat(caller=NURSE, channel_id=cid)

    assert (ended.status, ended.frozen) == (ChatStatus.ENDED, True)
    # One read (under the end lock) and one full update that carries the notice.
    assert _since(stream_emulator, before) == {
        "POST /channels": 1,
        f"POST /channels/messaging/{cid}": 1,
    }
    before = stream_emulator.control.requests()
    await built.service.end_chat(caller=NURSE, channel_id=cid)
    assert _since(stream_emulator, before) == {"POST /channels": 1}
    assert len(stream_emulator.control.state.messages("messaging", cid)) == 1


async def test_racing_ends_post_one_notice(
    stream_emulator: RunningEmulator, runtime: tuple[Runtime, StreamChatProvider]
) -> None:
    built, chat = runtime
    cid = await _group(built)

    results = await asyncio.gather(
        *(built.service.end_chat(caller=NURSE, channel_id=cid) for _ in range(6)),
        return_exceptions=True,
    )

    assert any(not isinstance(result, BaseException) for result in results)
    notices = stream_emulator.control.state.messages("messaging", cid)
    assert len(notices) == 1
    channel = await chat.get_channel(cid)
    assert channel is not None and channel.is_ended


async def test_a_status_change_uses_only_its_own_fresh_read(
    stream_emulator: RunningEmulator, runtime: tuple[Runtime, StreamChatProvider]
) -> None:
    built, chat = runtime
    cid = await _group(built)

    # A read in another task is not this task's read: the change queries for itself.
    await asyncio.create_task(chat.get_channel(cid))
    before = stream_emulator.control.requests()
    await chat.set_status(cid, ChatStatus.ENDED, notice="Closed.")
    assert _since(stream_emulator, before) == {
        "POST /channels": 1,
        f"POST /channels/messaging/{cid}": 1,
    }


async def test_a_write_after_the_read_is_not_undone_by_the_status_change(
    stream_emulator: RunningEmulator, runtime: tuple[Runtime, StreamChatProvider]
) -> None:
    built, chat = runtime
    cid = await _group(built)
    read = await chat.get_channel(cid)
    assert read is not None

    # The full update sends all custom data back: it must not be the data read before
    # this rename, or the rename would be lost.
    data = {field.name: getattr(read, field.name) for field in attrs.fields(ChannelData)}
    renamed = ChannelSpec(**{**data, "name": "Day shift"}, created_by=NURSE)
    await chat.update_details(cid, renamed)
    before = stream_emulator.control.requests()
    ended = await chat.set_status(cid, ChatStatus.ENDED, notice="Closed.")

    assert (ended.name, ended.status) == ("Day shift", ChatStatus.ENDED)
    # The read was dropped by the write, so the change queried again.
    assert _since(stream_emulator, before)["POST /channels"] == 1
    again = await chat.get_channel(cid)
    assert again is not None and again.name == "Day shift"
