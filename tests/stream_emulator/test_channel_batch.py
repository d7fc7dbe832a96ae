"""Channel batch updates (`PUT /channels/batch`, Stream's ChannelBatchUpdate) on the
emulator: one operation over the channels a filter selects, run as a finished task."""

from __future__ import annotations

from typing import Any

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import as_user
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


@pytest.fixture
def rooms(server: StreamChat) -> list[str]:
    """Two more channels (ana and sam in both) beside 'visit'."""
    for name in ("room-a", "room-b"):
        server.channel("messaging", name, {"members": ["ana", "sam"]}).create("ana")
    return ["messaging:room-a", "messaging:room-b"]


def run(server: StreamChat, **options: Any) -> dict[str, Any]:
    task_id = server.update_channels_batch(options)["task_id"]  # type: ignore[arg-type]
    task = server.get_task(task_id)
    assert task["status"] == "completed"
    return dict(task["result"])


def member_ids(emulator: RunningEmulator, cid: str) -> list[str]:
    channel = emulator.control.state.channel(*cid.split(":"))
    assert channel is not None
    return list(channel.member_ids)


def test_members_are_added_to_and_removed_from_the_selected_channels_only(
    emulator: RunningEmulator, server: StreamChat, rooms: list[str]
) -> None:
    result = run(
        server,
        operation="addMembers",
        filter={"cids": {"$in": rooms}},
        members=[{"user_id": "cleo"}],
    )
    assert result["success_channels_count"] == 2 and result["failed_channels"] == []
    assert all("cleo" in member_ids(emulator, cid) for cid in rooms)
    assert "cleo" not in member_ids(emulator, "messaging:visit")
    run(server, operation="removeMembers", filter={"cids": rooms[0]}, members=[{"user_id": "sam"}])
    assert "sam" not in member_ids(emulator, rooms[0])
    assert "sam" in member_ids(emulator, rooms[1])


def test_archive_hide_moderators_and_data_per_channel(
    emulator: RunningEmulator, server: StreamChat, rooms: list[str]
) -> None:
    every = {"types": {"$eq": "messaging"}}
    run(server, operation="archive", filter=every, members=[{"user_id": "sam"}])
    state = server.channel("messaging", "room-a").query()
    sam = next(m for m in state["members"] if m["user_id"] == "sam")
    assert sam["archived_at"]
    run(server, operation="hide", filter={"cids": {"$in": rooms}}, members=[{"user_id": "ana"}])
    listed = server.query_channels({"cid": {"$in": rooms}}, user_id="ana")["channels"]
    assert listed == []
    run(server, operation="addModerators", filter=every, members=[{"user_id": "sam"}])
    visit = emulator.control.state.channel("messaging", "visit")
    assert visit is not None and visit.member("sam") is not None
    assert visit.member("sam").channel_role == "channel_moderator"  # type: ignore[union-attr]
    run(
        server,
        operation="updateData",
        filter=every,
        data={"custom": {"topic": "x"}, "frozen": True},
    )
    assert all(c.frozen and c.data["topic"] == "x" for c in emulator.control.state.all_channels())


def test_a_failing_channel_fails_alone_with_its_reason(
    emulator: RunningEmulator, server: StreamChat, rooms: list[str]
) -> None:
    server.channel("messaging", "room-a").add_moderators(["cleo"])
    result = run(
        server,
        operation="demoteModerators",
        filter={"cids": {"$in": [*rooms, "messaging:visit"]}},
        members=[{"user_id": "cleo"}],
    )
    assert result["success_channels_count"] == 1
    failed = sorted(cid for failure in result["failed_channels"] for cid in failure["cids"])
    assert failed == sorted(["messaging:room-b", "messaging:visit"])
    assert all("cleo" in failure["reason"] for failure in result["failed_channels"])
    room = emulator.control.state.channel("messaging", "room-a")
    assert room is not None and room.member("cleo") is not None
    assert room.member("cleo").channel_role == "channel_member"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "options",
    [
        {"operation": "explode", "filter": {"types": "messaging"}, "members": [{"user_id": "a"}]},
        {"operation": "addMembers", "members": [{"user_id": "cleo"}]},
        {"operation": "addMembers", "filter": {"team": "x"}, "members": [{"user_id": "cleo"}]},
        {
            "operation": "addMembers",
            "filter": {"cids": {"$gt": "a"}},
            "members": [{"user_id": "c"}],
        },
        {"operation": "addMembers", "filter": {"types": "messaging"}},
        {"operation": "assignRoles", "filter": {"types": "messaging"}, "members": ["cleo"]},
        {"operation": "updateData", "filter": {"types": "messaging"}},
        {"operation": "updateData", "filter": {"types": "messaging"}, "data": {"name": "x"}},
    ],
)
def test_bad_batches_are_refused_before_anything_runs(
    emulator: RunningEmulator, server: StreamChat, options: dict[str, Any]
) -> None:
    with pytest.raises(StreamAPIException) as caught:
        server.update_channels_batch(options)  # type: ignore[arg-type]
    assert (caught.value.status_code, caught.value.error_code) == (400, 4)
    assert member_ids(emulator, "messaging:visit") == ["ana", "sam"]


def test_batches_are_server_side_only(emulator: RunningEmulator, server: StreamChat) -> None:
    with pytest.raises(StreamAPIException) as caught:
        as_user(emulator, "ana").update_channels_batch(
            {"operation": "addMembers", "filter": {"types": "messaging"}, "members": []}
        )
    assert caught.value.status_code == 403
