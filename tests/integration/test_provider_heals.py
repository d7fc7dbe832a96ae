"""Provider state heals itself: Stream emptied mid-run (a restarted emulator, a new app on the
same database, users deleted in the dashboard) while yc-chat still remembers the profiles it
sent. The next creations succeed with nobody's help; a chat Stream lost is reported plainly.

The real Stream adapter (official SDK) over the emulator, whose state is reset to empty.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

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
from yc_chat.domain import errors
from yc_chat.domain.model import AppointmentId, ChannelId, ChannelRef, OrgId, UserId
from yc_chat.domain.service import ChatService
from yc_chat.entrypoints.fixture import parse_fixture

ORG = OrgId("org-1")


@pytest.fixture
async def service(stream_emulator: RunningEmulator) -> AsyncIterator[ChatService]:
    stream_emulator.control.reset(StreamState())
    stream_emulator.control.webhook_url = None
    async with await StreamChatProvider.open(adapter_config(stream_emulator)) as chat:
        runtime = in_memory(chat=chat, notifier=RecordingNotifier(), clock=SystemClock())
        await runtime.load(parse_fixture(FIXTURE))
        yield runtime.service


def _members(emulator: RunningEmulator, channel_id: str) -> set[str]:
    channel = emulator.control.state.channel("messaging", channel_id)
    assert channel is not None, f"{channel_id} is not in Stream"
    return {member.user_id for member in channel.members}


async def _dm(service: ChatService) -> str:
    dm = await service.start_colleague_dm(
        caller=UserId("vet-1"), org_id=ORG, member_ids=[UserId("vet-1"), UserId("nurse-1")],
        created_by=UserId("vet-1"),
    )  # fmt: skip
    return str(dm.channel_id)


async def _ward(service: ChatService) -> ChannelRef:
    """vet-1's group with vet-2."""
    return await service.create_group(
        caller=UserId("vet-1"), org_id=ORG, name="Ward", member_ids=[UserId("vet-2")],
        created_by=UserId("vet-1"),
    )  # fmt: skip


async def test_creations_succeed_after_stream_lost_every_user(
    stream_emulator: RunningEmulator, service: ChatService
) -> None:
    # A normal run: profiles sent once, remembered by their fingerprints.
    dm_id = await _dm(service)
    await service.open_appointment_chat(
        caller=UserId("owner-2"), appointment_id=AppointmentId("apt-2")
    )

    stream_emulator.control.reset(StreamState())  # Stream comes back empty

    # A chat yc-chat recorded is opened again: recreated, its users restored.
    assert await _dm(service) == dm_id
    assert _members(stream_emulator, dm_id) == {"vet-1", "nurse-1"}
    chat = await service.open_appointment_chat(
        caller=UserId("owner-2"), appointment_id=AppointmentId("apt-2")
    )
    assert _members(stream_emulator, str(chat.channel_id)) == {"owner-2", "vet-2"}
    # New creations work too, with users never sent since the loss.
    group = await _ward(service)
    assert _members(stream_emulator, str(group.channel_id)) >= {"vet-1", "vet-2"}
    # Ending posts a notice as the system user, which Stream lost too: restored as well.
    ended = await service.end_chat(caller=UserId("vet-2"), channel_id=chat.channel_id)
    assert ended.is_ended


async def test_adding_members_stream_lost_restores_them(
    stream_emulator: RunningEmulator, service: ChatService
) -> None:
    group = await _ward(service)
    await _dm(service)  # nurse-1's profile is sent, and remembered
    state = stream_emulator.control.state
    # Stream lost nurse-1 only (deleted in the dashboard, say), keeping the group.
    del state._store.users["nurse-1"]  # the emulator has no user deletion of its own

    updated = await service.update_group_members(
        caller=UserId("vet-1"), channel_id=group.channel_id, added_by=UserId("vet-1"),
        add=[UserId("nurse-1")],
    )  # fmt: skip
    assert "nurse-1" in updated.members
    assert state.user("nurse-1") is not None


async def test_ending_a_chat_stream_no_longer_has_says_so(
    stream_emulator: RunningEmulator, service: ChatService
) -> None:
    group = await _ward(service)
    stream_emulator.control.reset(StreamState())

    with pytest.raises(errors.NotFound) as caught:
        await service.end_chat(caller=UserId("vet-1"), channel_id=ChannelId(group.channel_id))
    assert caught.value.code == errors.CODE_CHANNEL_NOT_FOUND
