"""Message search on the emulator through the official Python SDK, sync and async: text in
the caller's channels only, newest first, with Stream's input errors."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, as_user
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


@pytest.fixture
def server(server: StreamChat) -> StreamChat:
    """The shared 'visit' world plus a staff channel, with messages in both."""
    server.channel("messaging", "staff", {"members": ["ana", "cleo"]}).create("ana")
    server.channel("messaging", "visit").send_message({"text": "Rex needs a vaccine"}, "ana")
    server.channel("messaging", "staff").send_message({"text": "Order more VACCINE doses"}, "cleo")
    server.channel("messaging", "visit").send_message({"text": "Vaccine booked for Friday"}, "sam")
    return server


def texts(response: dict[str, list[dict[str, dict[str, str]]]]) -> list[str]:
    return [hit["message"]["text"] for hit in response["results"]]


def test_a_user_finds_text_only_in_their_own_channels(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    everywhere = {"type": "messaging"}
    sam = as_user(emulator, "sam").search(everywhere, "vaccine")
    ana = as_user(emulator, "ana").search(everywhere, "vaccine", limit=2)

    assert texts(sam) == ["Vaccine booked for Friday", "Rex needs a vaccine"]
    assert sam["results"][0]["message"]["channel"]["cid"] == "messaging:visit"
    assert texts(ana) == ["Vaccine booked for Friday", "Order more VACCINE doses"]


async def test_the_async_sdk_searches_server_side(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    client = StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url)
    try:
        found = await client.search({"cid": "messaging:staff"}, "doses")
        paged = await client.search({"type": "messaging"}, "vaccine", offset=2)
    finally:
        await client.close()
    assert texts(found) == ["Order more VACCINE doses"]
    assert texts(paged) == ["Rex needs a vaccine"]


@pytest.mark.parametrize(
    ("filters", "query"),
    [
        ({}, "vaccine"),
        ({"type": "messaging"}, "  "),
        ({"type": "messaging"}, {"text": {"$regex": "x"}}),
    ],
)
def test_bad_searches_are_input_errors(
    emulator: RunningEmulator, server: StreamChat, filters: dict[str, str], query: object
) -> None:
    with pytest.raises(StreamAPIException) as refused:
        as_user(emulator, "sam").search(filters, query)  # type: ignore[arg-type]
    assert (refused.value.status_code, refused.value.error_code) == (400, 4)


def test_whole_words_message_filters_sorts_and_cursors(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    visit = server.channel("messaging", "visit")
    visit.send_message({"text": "vaccines are due", "id": "a-1", "urgent": True}, "ana")
    # A word is whole: "vaccines" is not "vaccine".
    assert texts(server.search({"type": "messaging"}, "vaccine")) == [
        "Vaccine booked for Friday",
        "Order more VACCINE doses",
        "Rex needs a vaccine",
    ]
    urgent = server.search({"type": "messaging"}, {"urgent": True})
    assert texts(urgent) == ["vaccines are due"]
    prefixed = server.search(
        {"type": "messaging"}, {"text": {"$autocomplete": "vacc"}, "user_id": "ana"}
    )
    assert texts(prefixed) == ["vaccines are due", "Rex needs a vaccine"]

    first = server.search({"type": "messaging"}, "vaccine", sort=[{"created_at": 1}], limit=2)
    assert texts(first) == ["Rex needs a vaccine", "Order more VACCINE doses"]
    rest = server.search({"type": "messaging"}, "vaccine", limit=2, next=first["next"])
    assert texts(rest) == ["Vaccine booked for Friday"]
    assert rest["next"] is None and rest["previous"]
    with pytest.raises(StreamAPIException) as refused:
        server.search({"type": "messaging"}, "vaccine", limit=2, next="not-a-cursor")
    assert refused.value.error_code == 4
