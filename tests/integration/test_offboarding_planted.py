"""Offboarding finishes whatever a person planted on Stream (issue 19, finding 2), through
the real Stream adapter (the official SDK) over the emulator, from the attacker's side.

The attack as found: with his own Stream token, a staff member creates 40 channels without
an id (Stream names them `!members-…`, ids this service never uses), staff-looking, with
himself and colleagues in them. He is then removed: the removal must answer, his real
group and DM must be processed (he can no longer read or post there), and pushes keep
flowing for everyone else.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.chat_spy import SpyChat
from tests.support.demo import FIXTURE, USER_IDS
from tests.support.emulator import API_KEY, API_SECRET, adapter_config, user_token
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture
from tests.support.notifier import RecordingNotifier
from tests.support.world import NO_WORKER, default_settings
from yc_chat import in_memory
from yc_chat.adapters.clock import SystemClock
from yc_chat.adapters.fake_stream import StreamState
from yc_chat.adapters.stream import StreamChatProvider
from yc_chat.domain.events import MessagePosted
from yc_chat.domain.inbox import InboxState
from yc_chat.domain.limits import OFFBOARD_CALL_BUDGET
from yc_chat.domain.model import UserId
from yc_chat.entrypoints.fixture import parse_fixture
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.entrypoints.settings import Settings

ORG = "org-1"
LEAVER = "vet-2"
PLANTED = 40


@pytest.fixture
async def world(
    stream_emulator: RunningEmulator,
) -> AsyncIterator[tuple[Runtime, SpyChat, RecordingNotifier]]:
    stream_emulator.control.reset(StreamState())
    stream_emulator.control.webhook_url = None
    notifier = RecordingNotifier()
    async with await StreamChatProvider.open(adapter_config(stream_emulator)) as stream:
        chat = SpyChat(stream)
        runtime = in_memory(
            Settings(http=default_settings(), worker=NO_WORKER),
            chat=chat,
            notifier=notifier,
            clock=SystemClock(),
        )
        await runtime.load(parse_fixture(FIXTURE))
        yield runtime, chat, notifier


def _as(
    emulator: RunningEmulator, user: str, issued_ago: timedelta = timedelta(seconds=5)
) -> StreamChatAsync:
    sdk = StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url)
    sdk.auth_token = user_token(user, issued_ago=issued_ago)
    return sdk


async def _plant(emulator: RunningEmulator, count: int) -> None:
    """As vet-2, with his own token: channels without ids, one per member set."""
    others = [u for u in USER_IDS if u != LEAVER]
    member_sets = [
        [LEAVER, *group]
        for size in range(1, len(others) + 1)
        for group in itertools.combinations(others, size)
    ]
    async with StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url) as server:
        await server.upsert_users([{"id": user} for user in USER_IDS])
    async with _as(emulator, LEAVER) as sdk:
        for n, members in enumerate(member_sets[:count]):
            channel = sdk.channel(
                "messaging",
                None,
                {
                    "members": members,
                    "chatCategory": "group",
                    "orgId": ORG,
                    "isGroup": True,
                    "name": f"Happy Paws: all staff (official) {n}",
                },
            )
            await channel.create(LEAVER)


async def test_planted_channels_do_not_stall_the_removal_of_their_maker(
    stream_emulator: RunningEmulator,
    world: tuple[Runtime, SpyChat, RecordingNotifier],
) -> None:
    runtime, chat, notifier = world
    service = runtime.service
    group = await service.create_group(
        caller=UserId("vet-1"),
        org_id=ORG,  # type: ignore[arg-type]
        name="Rota",
        member_ids=[UserId(LEAVER), UserId("nurse-1")],
        created_by=UserId("vet-1"),
    )
    dm = await service.start_colleague_dm(
        caller=UserId("vet-1"),
        org_id=ORG,  # type: ignore[arg-type]
        member_ids=[UserId("vet-1"), UserId(LEAVER)],
        created_by=UserId("vet-1"),
    )
    # Sockets and REST calls he makes with a token issued before the removal.
    await service.connect_user(caller=UserId(LEAVER), user_id=UserId(LEAVER))
    await _plant(stream_emulator, PLANTED)
    chat.calls.clear()

    # What DELETE /api/orgs/{orgId}/members/{userId} runs (the app's event loop is not
    # this test's, and the SDK's session belongs to this one).
    outcome = await service.remove_org_member(
        caller=UserId("admin-1"),
        org_id=ORG,  # type: ignore[arg-type]
        user_id=UserId(LEAVER),
    )

    assert outcome.calls == sum(chat.calls.values()) <= OFFBOARD_CALL_BUDGET
    await service.process_inbox_events.drain()
    counts = await runtime.ports.inbox.counts()
    assert counts.get(InboxState.PARKED, 0) == 0 and counts.get(InboxState.PENDING, 0) == 0

    # His tokens from before the removal are revoked.
    async with _as(stream_emulator, LEAVER, issued_ago=timedelta(minutes=1)) as old:
        with pytest.raises(StreamAPIException) as refused:
            await old.query_channels({"members": {"$in": [LEAVER]}}, limit=30)
        assert refused.value.error_code == 40
    # His real chats: he is out of them on Stream, so even a newer token of his reads and
    # posts nothing there.
    async with _as(stream_emulator, LEAVER, issued_ago=timedelta(seconds=1)) as sdk:
        response_json = await sdk.query_channels({"members": {"$in": [LEAVER]}}, limit=30)
        seen = {entry["channel"]["id"] for entry in response_json["channels"]}
        assert group.channel_id not in seen and dm.channel_id not in seen
        for channel_id in (group.channel_id, dm.channel_id):
            with pytest.raises(StreamAPIException):
                await sdk.channel("messaging", channel_id).send_message(
                    {"text": "still here"}, LEAVER
                )

    # Pushes keep flowing for the others.
    await service.handle_chat_event(
        event_id="after-removal",
        event=MessagePosted(
            channel_id=group.channel_id,
            sender_id=UserId("vet-1"),
            sender_name=None,
            text="rota for next week",
            has_attachments=False,
            is_system=False,
        ),
    )
    assert [n.recipient_id for n in notifier.sent] == ["nurse-1"]
