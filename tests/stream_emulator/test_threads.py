"""Thread replies on the emulator through the official Python SDK, sync and async: replies
with `parent_id`, the parent's `reply_count`, GetReplies paging, the live `message.new`,
and Stream's refusals (outsiders, frozen channels, bad parents)."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, as_user, connected, frames, post, watch
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def reply(
    emulator: RunningEmulator, user_id: str, parent_id: str, text: str, **extra: object
) -> str:
    sent = (
        as_user(emulator, user_id)
        .channel("messaging", "visit")
        .send_message({"text": text, "parent_id": parent_id, **extra}, user_id)
    )
    assert sent["message"]["parent_id"] == parent_id
    return str(sent["message"]["id"])


def test_replies_count_on_the_parent_and_stay_out_of_the_channel(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    parent = post(emulator, "ana", "how is Rex?")
    first = reply(emulator, "sam", parent, "better")
    shown = reply(emulator, "ana", parent, "good", show_in_channel=True)

    channel = as_user(emulator, "sam").channel("messaging", "visit")
    thread = channel.get_replies(parent)
    listed = channel.query()["messages"]

    assert [m["id"] for m in thread["messages"]] == [first, shown]
    assert server.get_message(parent)["message"]["reply_count"] == 2
    assert [m["id"] for m in listed] == [parent, shown]
    assert listed[0]["reply_count"] == 2
    assert listed[1]["show_in_channel"] is True


def test_get_replies_pages_by_limit_and_ids(emulator: RunningEmulator, server: StreamChat) -> None:
    parent = post(emulator, "ana", "thread")
    ids = [reply(emulator, "sam", parent, f"r{n}") for n in range(5)]
    channel = server.channel("messaging", "visit")

    newest = channel.get_replies(parent, limit=2)["messages"]
    before = channel.get_replies(parent, limit=2, id_lt=ids[3])["messages"]
    after = channel.get_replies(parent, limit=2, id_gt=ids[0])["messages"]

    assert [m["id"] for m in newest] == ids[3:]
    assert [m["id"] for m in before] == ids[1:3]
    assert [m["id"] for m in after] == ids[1:3]


async def test_the_async_sdk_replies_and_reads_the_thread(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    parent = post(emulator, "sam", "question")
    client = StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url)
    try:
        channel = client.channel("messaging", "visit")
        sent = await channel.send_message({"text": "answer", "parent_id": parent}, "ana")
        thread = await channel.get_replies(parent)
        with pytest.raises(StreamAPIException) as missing:
            await channel.send_message({"text": "x", "parent_id": "nope"}, "ana")
    finally:
        await client.close()

    assert [m["id"] for m in thread["messages"]] == [sent["message"]["id"]]
    assert thread["messages"][0]["parent_id"] == parent
    assert (missing.value.status_code, missing.value.error_code) == (400, 4)


def test_watchers_get_the_reply_live_with_its_parent_id(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    parent = post(emulator, "ana", "live thread")
    with connected(emulator, "ana") as (socket, connection_id):
        watch(emulator, "ana", connection_id)
        reply_id = reply(emulator, "sam", parent, "live reply")
        event = frames(socket, "message.new")

    assert (event["message"]["id"], event["message"]["parent_id"]) == (reply_id, parent)


def test_outsiders_and_frozen_channels_get_no_replies(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    parent = post(emulator, "ana", "private")
    reply(emulator, "sam", parent, "kept")
    cleo = as_user(emulator, "cleo")

    with pytest.raises(StreamAPIException) as outsider_reads:
        cleo.channel("messaging", "visit").get_replies(parent)
    with pytest.raises(StreamAPIException) as outsider_writes:
        cleo.channel("messaging", "visit").send_message(
            {"text": "let me in", "parent_id": parent}, "cleo"
        )
    server.channel("messaging", "visit").update_partial({"frozen": True})
    with pytest.raises(StreamAPIException) as frozen:
        reply(emulator, "sam", parent, "too late")

    for refusal in (outsider_reads, outsider_writes, frozen):
        assert (refusal.value.status_code, refusal.value.error_code) == (403, 17)
    assert server.get_message(parent)["message"]["reply_count"] == 1
    thread = server.channel("messaging", "visit").get_replies(parent)["messages"]
    assert [m["text"] for m in thread] == ["kept"]


@pytest.mark.parametrize(
    ("parent_of", "message"),
    [("unknown", "does not exist"), ("reply", "cannot be the parent")],
)
def test_a_reply_needs_a_top_level_parent_in_the_same_channel(
    emulator: RunningEmulator, server: StreamChat, parent_of: str, message: str
) -> None:
    parent = post(emulator, "ana", "top")
    nested = reply(emulator, "sam", parent, "reply")
    server.channel("messaging", "other", {"members": ["ana", "sam"]}).create("ana")
    elsewhere = server.channel("messaging", "other").send_message({"text": "x"}, "ana")
    target = {"unknown": str(elsewhere["message"]["id"]), "reply": nested}[parent_of]

    with pytest.raises(StreamAPIException) as refused:
        reply(emulator, "sam", target, "nope")

    assert (refused.value.status_code, refused.value.error_code) == (400, 4)
    assert message in str(refused.value)
    assert server.get_message(parent)["message"]["reply_count"] == 1


def test_replies_paging_options_the_emulator_lacks_are_refused(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    parent = post(emulator, "ana", "top")
    sam = as_user(emulator, "sam")

    with pytest.raises(StreamAPIException) as refused:
        sam.channel("messaging", "visit").get_replies(parent, created_at_after="2020-01-01")
    with pytest.raises(StreamAPIException) as gone:
        sam.channel("messaging", "visit").get_replies("no-such-message")

    assert (refused.value.status_code, refused.value.error_code) == (400, 4)
    assert (gone.value.status_code, gone.value.error_code) == (404, 16)


def test_query_threads_lists_a_users_threads_newest_first(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    first = channel.send_message({"text": "Fever?"}, "ana")["message"]["id"]
    second = channel.send_message({"text": "Appetite?"}, "ana")["message"]["id"]
    channel.send_message({"text": "No fever", "parent_id": first}, "sam")
    channel.send_message({"text": "Eats well", "parent_id": second}, "sam")
    channel.send_message({"text": "Good", "parent_id": first}, "ana")

    found = as_user(emulator, "sam").query_threads(filter={}, user_id="sam")
    assert [t["parent_message_id"] for t in found["threads"]] == [first, second]
    thread = found["threads"][0]
    assert (thread["reply_count"], thread["participant_count"]) == (2, 2)
    assert [r["text"] for r in thread["latest_replies"]] == ["No fever", "Good"]

    paged = server.query_threads(
        filter={"channel_cid": "messaging:visit"},
        sort=[{"field": "created_at", "direction": 1}],
        limit=1,
        user_id="ana",
    )
    assert [t["parent_message_id"] for t in paged["threads"]] == [first]
    rest = server.query_threads(filter={}, limit=1, next=paged["next"], user_id="ana")
    assert [t["parent_message_id"] for t in rest["threads"]] == [second]
    assert as_user(emulator, "cleo").query_threads(filter={}, user_id="cleo")["threads"] == []
