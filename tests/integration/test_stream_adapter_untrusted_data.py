"""The real Stream adapter (the official async SDK) over the emulator, reading what people
wrote directly to Stream (issue 19, finding 5): a poisoned message, odd custom data and a
channel the service could not have written never fail a list or a lookup."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from stream_chat import StreamChat

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, adapter_config, as_user
from yc_chat.adapters.stream import StreamChatProvider
from yc_chat.domain import errors
from yc_chat.domain.model import ChannelId, ChatCategory, UserId
from yc_chat.domain.queries import ChannelQuery

ANA = UserId("ana")


@pytest.fixture
def server(emulator: RunningEmulator) -> StreamChat:
    """The official SDK with the app's secret: ana and sam, and a group 'rota' of theirs."""
    sdk = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    sdk.upsert_users([{"id": uid, "name": uid.title()} for uid in ("ana", "sam")])
    data = {"members": ["ana", "sam"], "chatCategory": "group", "orgId": "org-1", "isGroup": True}
    sdk.channel("messaging", "rota", data).create("ana")
    return sdk


@pytest.fixture
async def provider(emulator: RunningEmulator) -> AsyncIterator[StreamChatProvider]:
    async with await StreamChatProvider.open(adapter_config(emulator)) as opened:
        yield opened


async def test_a_poisoned_message_reads_as_the_replacement_character(
    server: StreamChat, emulator: RunningEmulator, provider: StreamChatProvider
) -> None:
    as_user(emulator, "sam").channel("messaging", "rota").send_message({"text": "\ud800"}, "sam")
    page = await provider.query_channels(ChannelQuery(member=ANA), limit=10, offset=0)
    channel = await provider.get_channel(ChannelId("rota"))
    assert [c.last_message_text for c in page.channels] == ["\ufffd"]
    assert channel is not None and channel.last_message_text == "\ufffd"


async def test_odd_data_is_sanitized_and_a_foreign_category_read_from_the_rest(
    server: StreamChat, provider: StreamChatProvider
) -> None:
    server.channel("messaging", "rota").update_partial(
        {"name": "x" * 50_000, "orgId": ["org-1"], "petName": 7, "chatCategory": "staff"}
    )
    page = await provider.query_channels(ChannelQuery(member=ANA), limit=10, offset=0)
    rota = next(c for c in page.channels if c.id == "rota")
    assert rota.category is ChatCategory.GROUP  # isGroup says so
    assert rota.name is not None and len(rota.name) == 1000
    assert (rota.org_id, rota.pet_name) == ("", None)
    assert await provider.get_channel(ChannelId("rota")) == rota


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_a_failing_stream_reads_in_the_contracts_words(
    server: StreamChat, emulator: RunningEmulator, provider: StreamChatProvider, status: int
) -> None:
    """Finding 7: a 503 body repeated Stream's own wording. The error the edge shows is ours."""
    emulator.control.fail(status)
    try:
        with pytest.raises(errors.ProviderUnavailable) as caught:
            await provider.query_channels(ChannelQuery(member=ANA), limit=10, offset=0)
    finally:
        emulator.control.heal()
    assert caught.value.message == errors.ProviderUnavailable.default_message
