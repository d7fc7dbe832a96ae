"""Pending messages on the emulator (SendMessage's `pending`, the type's
`mark_messages_pending`, CommitMessage), as Stream documents them: a pending message is
its sender's alone (and the server's) until committed, then it is announced as new."""

from __future__ import annotations

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import as_user, connected, frames, watch
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def texts(emulator: RunningEmulator, user_id: str) -> list[str]:
    state = as_user(emulator, user_id).channel("messaging", "visit").query()
    return [m["text"] for m in state["messages"]]


def test_a_pending_message_is_the_senders_until_committed_then_announced(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    channel = server.channel("messaging", "visit")
    sent = channel.send_message(
        {"text": "held"}, "ana", pending=True, pending_message_metadata={"reason": "review"}
    )["message"]
    assert texts(emulator, "ana") == ["held"]
    assert texts(emulator, "sam") == []
    with pytest.raises(StreamAPIException) as hidden:
        as_user(emulator, "sam").get_message(sent["id"])
    assert hidden.value.status_code == 404
    stored = emulator.control.state.messages("messaging", "visit")[0]
    assert stored.pending and stored.pending_message_metadata == {"reason": "review"}
    visit = emulator.control.state.channel("messaging", "visit")
    assert visit is not None and visit.last_message_at is None

    with connected(emulator, "sam") as (sam, sam_id):
        watch(emulator, "sam", sam_id)
        committed = server.commit_message(sent["id"])["message"]
        announced = frames(sam, "message.new")
    assert committed["id"] == sent["id"] == announced["message"]["id"]
    assert texts(emulator, "sam") == ["held"]
    # Only a pending message can be committed; unknown ids are 404.
    with pytest.raises(StreamAPIException) as again:
        server.commit_message(sent["id"])
    assert (again.value.status_code, again.value.error_code) == (400, 4)
    with pytest.raises(StreamAPIException) as unknown:
        server.commit_message("nope")
    assert unknown.value.status_code == 404


def test_pending_is_server_side_and_the_type_can_make_it_the_default(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with pytest.raises(StreamAPIException) as client_side:
        as_user(emulator, "ana").channel("messaging", "visit").send_message(
            {"text": "x"}, "ana", pending=True
        )
    assert client_side.value.status_code == 403
    with pytest.raises(StreamAPIException) as not_a_flag:
        server.channel("messaging", "visit").send_message({"text": "x"}, "ana", pending="yes")
    assert (not_a_flag.value.status_code, not_a_flag.value.error_code) == (400, 4)
    with pytest.raises(StreamAPIException) as by_user:
        as_user(emulator, "ana").commit_message("whatever")
    assert by_user.value.status_code == 403

    server.update_channel_type("messaging", mark_messages_pending=True)
    as_user(emulator, "ana").channel("messaging", "visit").send_message({"text": "typed"}, "ana")
    assert texts(emulator, "sam") == [] and texts(emulator, "ana") == ["typed"]
