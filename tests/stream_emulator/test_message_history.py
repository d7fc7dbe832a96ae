"""Message history on the emulator (QueryMessageHistory, `POST /messages/history`): each
content edit keeps the version it replaces, who set it and when; paged with cursors."""

from __future__ import annotations

from typing import Any

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import as_user
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def history(server: StreamChat, message_id: str, **options: Any) -> dict[str, Any]:
    return dict(
        server.query_message_history(
            {"message_id": {"$eq": message_id}},
            sort=[{"message_updated_at": options.pop("direction", -1)}],
            **options,
        )
    )


def test_edits_keep_earlier_versions_newest_first_in_pages(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    sent = server.channel("messaging", "visit").send_message({"text": "v0", "tone": "a"}, "ana")
    message_id = sent["message"]["id"]
    server.update_message({"id": message_id, "text": "v1", "user_id": "ana"})
    server.update_message_partial(message_id, {"set": {"text": "v2"}}, "sam")
    server.update_message_partial(message_id, {"set": {"pinned": True}}, "sam")  # not an edit
    server.update_message({"id": message_id, "text": "v3", "user_id": "ana"})

    every = history(server, message_id)["message_history"]
    assert [e["text"] for e in every] == ["v2", "v1", "v0"]
    assert [e["message_updated_by_id"] for e in every] == ["sam", "ana", "ana"]
    assert every[2]["custom"] == {"tone": "a"} and every[2]["is_deleted"] is False
    assert every[2]["message_updated_at"] == sent["message"]["created_at"]

    first = history(server, message_id, limit=2)
    assert [e["text"] for e in first["message_history"]] == ["v2", "v1"]
    second = history(server, message_id, limit=2, next=first["next"])
    assert [e["text"] for e in second["message_history"]] == ["v0"]
    assert "next" not in second and second["prev"]
    oldest = history(server, message_id, direction=1)["message_history"]
    assert [e["text"] for e in oldest] == ["v0", "v1", "v2"]
    by_sam = server.query_message_history(
        {"message_id": message_id, "message_updated_by_id": {"$in": ["sam"]}}
    )["message_history"]
    assert [e["text"] for e in by_sam] == ["v2"]

    server.delete_message(message_id, hard=True)
    assert history(server, message_id)["message_history"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"filter": {}},
        {"filter": {"message_id": {"$gt": "a"}}},
        {"filter": {"message_id": "m", "colour": "red"}},
        {"filter": {"message_id": "m", "message_updated_at": {"$near": "2026-01-01T00:00:00Z"}}},
        {"filter": {"message_id": "m"}, "sort": [{"field": "text", "direction": 1}]},
        {"filter": {"message_id": "m"}, "limit": 101},
        {"filter": {"message_id": "m"}, "next": "not-a-cursor"},
    ],
)
def test_bad_history_queries_are_400(server: StreamChat, body: dict[str, Any]) -> None:
    with pytest.raises(StreamAPIException) as caught:
        server.post("messages/history", data=body)
    assert (caught.value.status_code, caught.value.error_code) == (400, 4)


def test_history_is_server_side(emulator: RunningEmulator, server: StreamChat) -> None:
    with pytest.raises(StreamAPIException) as caught:
        as_user(emulator, "ana").query_message_history({"message_id": "m"})
    assert caught.value.status_code == 403
