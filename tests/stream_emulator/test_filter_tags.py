"""Channel filter tags on the emulator (ChannelInput's `filter_tags`, UpdateChannel's
`add_filter_tags`/`remove_filter_tags`, QueryChannels' `filter_tags` filter)."""

from __future__ import annotations

from typing import Any

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from stream_emulator import RunningEmulator
from tests.support.emulator import as_user
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture


def cids(server: StreamChat, condition: Any) -> list[str]:
    found = server.query_channels({"filter_tags": condition}, [{"field": "id", "direction": 1}])
    return [c["channel"]["cid"] for c in found["channels"]]


def test_tags_are_set_at_creation_added_removed_and_filtered_on(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    created = server.channel("messaging", "lounge", {"filter_tags": ["vip", "vip", "eu"]})
    assert created.create("ana")["channel"]["filter_tags"] == ["vip", "eu"]
    visit = server.channel("messaging", "visit")
    added = visit.add_filter_tags(["premium", "vip"])
    assert added["channel"]["filter_tags"] == ["premium", "vip"]
    assert cids(server, {"$in": ["eu", "premium"]}) == ["messaging:lounge", "messaging:visit"]
    assert cids(server, "vip") == ["messaging:lounge", "messaging:visit"]
    assert cids(server, {"$eq": ["vip", "eu"]}) == ["messaging:lounge"]
    removed = visit.remove_filter_tags(["premium", "never-there"])
    assert removed["channel"]["filter_tags"] == ["vip"]
    assert cids(server, {"$in": ["premium"]}) == []


def test_tag_changes_need_update_channel_and_sane_tags(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    # sam is a member, not the owner: no UpdateChannel by default.
    with pytest.raises(StreamAPIException) as refused:
        as_user(emulator, "sam").channel("messaging", "visit").add_filter_tags(["x"])
    assert refused.value.status_code == 403
    owner = as_user(emulator, "ana").channel("messaging", "visit").add_filter_tags(["mine"])
    assert owner["channel"]["filter_tags"] == ["mine"]
    visit = server.channel("messaging", "visit")
    for bad in ([""], ["t"] * 11, ["x" * 256], "vip"):
        with pytest.raises(StreamAPIException) as caught:
            visit.add_filter_tags(bad)
        assert (caught.value.status_code, caught.value.error_code) == (400, 4)
    for condition in ({"$gt": "a"}, [], {"$in": [1]}):
        with pytest.raises(StreamAPIException) as caught:
            cids(server, condition)
        assert (caught.value.status_code, caught.value.error_code) == (400, 4)
    with pytest.raises(StreamAPIException) as caught:
        visit.update_partial(to_set={"filter_tags": ["x"]})
    assert (caught.value.status_code, caught.value.error_code) == (400, 4)
    assert server.channel("messaging", "visit").query()["channel"]["filter_tags"] == ["mine"]
