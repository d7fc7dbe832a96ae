"""QueryMembers as a user and with the common filters, through the official Python SDK
(sync and async), with Stream's refusals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from stream_chat import StreamChat
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, user_token
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture

PEOPLE = {"ana": "Dr. Ana Núñez", "sam": "Sam Lee", "priya": "Priya Shah", "cleo": "Cleo Park"}


@pytest.fixture
def server(emulator: RunningEmulator) -> Iterator[StreamChat]:
    sdk = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    sdk.upsert_users([{"id": uid, "name": name} for uid, name in PEOPLE.items()])
    members = ["ana", "sam", {"user_id": "priya", "channel_role": "channel_moderator"}]
    sdk.channel("messaging", "group", {"members": members}).create("ana")
    yield sdk
    sdk.session.close()


def ids(members: list[dict[str, str]]) -> list[str]:
    # The SDKs' Channel.query_members answers the members list itself.
    return [member["user_id"] for member in members]


def test_a_member_queries_members_with_filters(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    sam = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    sam.auth_token = user_token("sam")
    channel = sam.channel("messaging", "group")

    assert ids(channel.query_members({})) == ["ana", "sam", "priya"]
    assert ids(channel.query_members({"name": {"$autocomplete": "sh"}})) == ["priya"]
    assert ids(channel.query_members({"name": {"$autocomplete": "NÚ"}})) == ["ana"]
    assert ids(channel.query_members({"id": {"$in": ["sam", "cleo"]}})) == ["sam"]
    assert ids(channel.query_members({"channel_role": "channel_moderator"})) == ["priya"]
    assert ids(channel.query_members({}, limit=1, offset=1)) == ["sam"]


async def test_the_async_sdk_queries_members_server_side(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    client = StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url)
    try:
        found = await client.channel("messaging", "group").query_members({"user_id": "ana"})
    finally:
        await client.close()
    assert ids(found) == ["ana"]


def test_outsiders_and_unknown_filters_are_refused(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    cleo = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    cleo.auth_token = user_token("cleo")
    with pytest.raises(StreamAPIException) as outsider:
        cleo.channel("messaging", "group").query_members({})
    with pytest.raises(StreamAPIException) as unknown:
        server.channel("messaging", "group").query_members({"banned": True})
    with pytest.raises(StreamAPIException) as empty:
        server.channel("messaging", "group").query_members({"name": {"$autocomplete": " "}})

    assert (outsider.value.status_code, outsider.value.error_code) == (403, 17)
    assert (unknown.value.status_code, unknown.value.error_code) == (400, 4)
    assert (empty.value.status_code, empty.value.error_code) == (400, 4)
