"""The Stream model's permission pieces: channel roles, grant modifiers, client-side sends."""

from __future__ import annotations

import pytest

from yc_chat.adapters.fake_stream import StreamAPIError, StreamState

READ_ONLY = {"grants": {"channel_member": ["!create-message"]}}


@pytest.fixture
def state() -> StreamState:
    model = StreamState()
    model.upsert_users([{"id": uid} for uid in ("ana", "ben", "cleo")])
    model.upsert_users([{"id": "root", "role": "admin"}])
    return model


def refused(state: StreamState, channel_id: str, user_id: str) -> tuple[int, int]:
    with pytest.raises(StreamAPIError) as caught:
        state.send_message("messaging", channel_id, text="x", user_id=user_id, client_side=True)
    return caught.value.status_code, caught.value.code


def test_members_post_client_side_and_strangers_do_not(state: StreamState) -> None:
    state.get_or_create_channel("messaging", "c1", created_by_id="ana", members=["ana", "ben"])

    state.send_message("messaging", "c1", text="hi", user_id="ben", client_side=True)

    assert refused(state, "c1", "cleo") == (403, 17)
    # Server-side calls skip permission checks, as on Stream.
    state.send_message("messaging", "c1", text="hi", user_id="cleo")


def test_grant_modifiers_silence_members_but_not_moderators_owners_or_admins(
    state: StreamState,
) -> None:
    state.get_or_create_channel(
        "messaging",
        "news",
        created_by_id="ana",
        members=["ana", "ben", "cleo", "root"],
        member_roles={"cleo": "channel_moderator"},
        data={"config_overrides": READ_ONLY, "topic": "news"},
    )

    assert refused(state, "news", "ben") == (403, 17)
    for poster in ("ana", "cleo", "root"):  # owner, channel moderator, global admin
        state.send_message("messaging", "news", text="ok", user_id=poster, client_side=True)
    channel = state.channel("messaging", "news")
    assert channel is not None
    assert dict(channel.data) == {"topic": "news"}
    assert channel.config_overrides == READ_ONLY


def test_overrides_survive_full_updates_and_partial_updates_replace_or_clear_them(
    state: StreamState,
) -> None:
    state.get_or_create_channel(
        "messaging",
        "news",
        created_by_id="ana",
        members=["ben"],
        data={"config_overrides": READ_ONLY},
    )

    state.update_channel("messaging", "news", {"topic": "kept"})
    assert refused(state, "news", "ben") == (403, 17)
    state.update_channel_partial(
        "messaging", "news", set_fields={"config_overrides": {"replies": False}}
    )
    state.send_message("messaging", "news", text="ok", user_id="ben", client_side=True)
    state.update_channel_partial("messaging", "news", unset=["config_overrides"])
    channel = state.channel("messaging", "news")
    assert channel is not None
    assert channel.config_overrides == {}


@pytest.mark.parametrize(
    "overrides",
    [
        "read-only",
        {"unknown_setting": True},
        {"grants": ["!create-message"]},
        {"grants": {"channel_member": "!create-message"}},
        {"grants": {"channel_member": ["Create Message"]}},
    ],
)
def test_malformed_overrides_are_input_errors(state: StreamState, overrides: object) -> None:
    with pytest.raises(StreamAPIError) as caught:
        state.get_or_create_channel(
            "messaging", "c1", created_by_id="ana", data={"config_overrides": overrides}
        )

    assert (caught.value.status_code, caught.value.code) == (400, 4)


def test_channel_roles_are_checked_and_kept_by_adds(state: StreamState) -> None:
    with pytest.raises(StreamAPIError):
        state.get_or_create_channel(
            "messaging", "c1", created_by_id="ana", members=["ana"], member_roles={"ana": "boss"}
        )
    with pytest.raises(StreamAPIError):
        state.get_or_create_channel(
            "messaging",
            "c1",
            created_by_id="ana",
            members=["ana"],
            member_roles={"ben": "channel_moderator"},
        )
    state.get_or_create_channel("messaging", "c1", created_by_id="ana", members=["ana"])

    channel = state.update_members(
        "messaging", "c1", add=["ben", "cleo"], add_roles={"ben": "channel_moderator"}
    )

    roles = {member.user_id: member.channel_role for member in channel.members}
    assert roles == {"ana": "owner", "ben": "channel_moderator", "cleo": "channel_member"}


def test_query_members_pages_in_joining_order(state: StreamState) -> None:
    state.get_or_create_channel(
        "messaging", "c1", created_by_id="ana", members=["ana", "ben", "cleo"]
    )

    first = state.query_members("messaging", "c1", limit=2)
    rest = state.query_members("messaging", "c1", limit=2, offset=2)

    assert [m.user_id for m in first + rest] == ["ana", "ben", "cleo"]
    with pytest.raises(StreamAPIError):
        state.query_members("messaging", "c1", limit=301)
    with pytest.raises(StreamAPIError):
        state.query_members("messaging", "missing")
