"""The in-memory Stream model behaves like Stream; the fake provider maps it like the real one."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from yc_chat.adapters.fake_stream import (
    FakeStreamChatProvider,
    StreamAPIError,
    StreamChannel,
    StreamState,
)
from yc_chat.adapters.stream import mapping as stream_mapping
from yc_chat.domain import errors
from yc_chat.domain.model import (
    SYSTEM_PROFILE,
    AppointmentId,
    ChannelId,
    ChannelSpec,
    ChatCategory,
    ChatStatus,
    OrgId,
    UserId,
    UserProfile,
)
from yc_chat.domain.queries import ChannelQuery

START = datetime(2026, 1, 1, tzinfo=UTC)
SECRET = "unit-test-secret-long-enough-for-hs256"
LAST_MESSAGE_FIRST = [{"field": "last_message_at", "direction": -1}]


class TickingClock:
    """One second later on every reading."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> datetime:
        return START + timedelta(seconds=next(self._ticks))


@pytest.fixture
def state() -> StreamState:
    model = StreamState(clock=TickingClock())
    model.upsert_users(
        [
            {"id": "ana", "name": "Ana"},
            {"id": "ben", "name": "Ben", "image": "https://img.example/ben.png"},
            {"id": "cleo", "name": "Cleo"},
            {"id": "system", "name": "Yosemite Crew"},
        ]
    )
    return model


def create(
    state: StreamState,
    channel_id: str,
    *,
    members: tuple[str, ...] = ("ana", "ben"),
    data: Mapping[str, object] | None = None,
) -> None:
    state.get_or_create_channel(
        "messaging", channel_id, created_by_id="ana", members=members, data=data
    )


def query_ids(state: StreamState, conditions: Mapping[str, object], **page: int) -> list[str]:
    return [c.id for c in state.query_channels(conditions, LAST_MESSAGE_FIRST, **page)]


def assert_stream_error(
    caught: pytest.ExceptionInfo[StreamAPIError], status: int, code: int
) -> None:
    assert (caught.value.status_code, caught.value.code) == (status, code)


# -- errors and failure switch ------------------------------------------------------------


def test_errors_serialise_like_stream() -> None:
    error = StreamAPIError(404, 16, 'GetOrCreateChannel failed with error: "nope"')

    body = error.to_json()

    assert body["code"] == 16
    assert body["StatusCode"] == 404
    assert body["message"] == 'GetOrCreateChannel failed with error: "nope"'
    assert "duration" in body


@pytest.mark.parametrize(
    ("status", "code"), [(400, 4), (401, 5), (403, 17), (404, 16), (429, 9), (500, -1), (503, -1)]
)
def test_injected_failures_carry_streams_code(state: StreamState, status: int, code: int) -> None:
    state.fail_next(status_code=status)

    with pytest.raises(StreamAPIError) as caught:
        state.app_settings()

    assert_stream_error(caught, status, code)
    state.app_settings()  # one-shot


def test_fail_next_counts_operations(state: StreamState) -> None:
    state.fail_next(2, status_code=500)

    for _ in range(2):
        with pytest.raises(StreamAPIError):
            create(state, "c1")
    create(state, "c1")

    assert state.channel("messaging", "c1") is not None


def test_unavailable_until_switched_back(state: StreamState) -> None:
    state.set_unavailable()
    for _ in range(3):
        with pytest.raises(StreamAPIError) as caught:
            state.query_channels({})
        assert caught.value.status_code == 503
    # Inspection is not an API call: tests can still look while the API is down.
    assert state.user("ana") is not None

    state.set_unavailable(False)

    assert state.query_channels({}) == []


def test_the_clock_must_be_aware() -> None:
    naive = StreamState(clock=lambda: datetime(2026, 1, 1))

    with pytest.raises(ValueError, match="aware"):
        naive.upsert_users([{"id": "ana"}])


# -- users --------------------------------------------------------------------------------


def test_upsert_replaces_users_but_keeps_created_at(state: StreamState) -> None:
    before = state.user("ben")
    assert before is not None
    assert before.image == "https://img.example/ben.png"

    state.upsert_users([{"id": "ben", "name": "Benjamin", "team": "surgery"}])

    after = state.user("ben")
    assert after is not None
    assert (after.name, after.image, after.custom) == ("Benjamin", None, {"team": "surgery"})
    assert after.role == "user"
    assert after.created_at == before.created_at
    assert after.updated_at > before.updated_at


def test_upsert_is_all_or_nothing(state: StreamState) -> None:
    with pytest.raises(StreamAPIError) as caught:
        state.upsert_users([{"id": "dora", "name": "Dora"}, {"id": "bad id!"}])

    assert_stream_error(caught, 400, 4)
    assert state.user("dora") is None


def test_upsert_takes_at_most_100_users(state: StreamState) -> None:
    with pytest.raises(StreamAPIError) as caught:
        state.upsert_users([{"id": f"u{n}"} for n in range(101)])

    assert_stream_error(caught, 400, 4)


def test_partial_user_update_sets_and_unsets(state: StreamState) -> None:
    state.partial_update_user("ben", set_fields={"name": "B.", "team": "x"}, unset=["image"])

    user = state.user("ben")
    assert user is not None
    assert (user.name, user.image, user.custom) == ("B.", None, {"team": "x"})
    with pytest.raises(StreamAPIError) as caught:
        state.partial_update_user("nobody", set_fields={"name": "x"})
    assert_stream_error(caught, 404, 16)
    with pytest.raises(StreamAPIError):
        state.partial_update_user("ben", set_fields={"created_at": "2020-01-01T00:00:00Z"})


def test_get_and_query_users(state: StreamState) -> None:
    assert state.get_user("ana").name == "Ana"
    with pytest.raises(StreamAPIError) as caught:
        state.get_user("nobody")
    assert_stream_error(caught, 404, 16)

    found = state.query_users({"id": {"$in": ["cleo", "ana", "nobody"]}})

    assert [user.id for user in found] == ["ana", "cleo"]
    assert [user.id for user in state.query_users({"id": "ben"})] == ["ben"]
    with pytest.raises(StreamAPIError):
        state.query_users({"name": "Ana"})


def test_user_updates_emit_events_creations_do_not(state: StreamState) -> None:
    events: list[dict[str, object]] = []
    state.subscribe(events.append)

    state.upsert_users([{"id": "dora", "name": "Dora"}, {"id": "ana", "name": "Ana N."}])
    state.partial_update_user("dora", set_fields={"name": "D."})

    assert [(e["type"], e["user"]["id"]) for e in events] == [  # type: ignore[index]
        ("user.updated", "ana"),
        ("user.updated", "dora"),
    ]


# -- channels -----------------------------------------------------------------------------


def test_get_or_create_returns_existing_channel_unchanged(state: StreamState) -> None:
    channel, created = state.get_or_create_channel(
        "messaging", "c1", created_by_id="ana", members=["ana", "ben"], data={"name": "One"}
    )
    again, created_again = state.get_or_create_channel(
        "messaging", "c1", created_by_id="ben", members=["cleo"], data={"name": "Two"}
    )

    assert (created, created_again) == (True, False)
    assert again == channel
    assert channel.cid == "messaging:c1"
    assert channel.data == {"name": "One"}
    assert channel.member_ids == ("ana", "ben")
    assert channel.member_count == 2
    assert [m.channel_role for m in channel.members] == ["owner", "channel_member"]
    assert channel.last_message_at is None


@pytest.mark.parametrize("channel_id", ["", "A", "a b", "a!b", "a.b", "é", "x" * 65])
def test_channel_ids_are_checked(state: StreamState, channel_id: str) -> None:
    with pytest.raises(StreamAPIError) as caught:
        create(state, channel_id)

    assert_stream_error(caught, 400, 4)


def test_bang_is_reserved(state: StreamState) -> None:
    with pytest.raises(StreamAPIError, match="reserved character"):
        create(state, "!members-abc")


def test_unknown_users_are_named(state: StreamState) -> None:
    with pytest.raises(StreamAPIError) as caught:
        create(state, "c1", members=("ana", "zed", "yan"))

    assert_stream_error(caught, 400, 4)
    assert "don't exist: [zed yan]" in caught.value.message
    assert state.channel("messaging", "c1") is None


def test_unknown_users_are_named_in_streams_words_for_each_channel_operation(
    state: StreamState,
) -> None:
    create(state, "c1")
    with pytest.raises(StreamAPIError) as created:
        create(state, "c2", members=("ana", "zed", "zed"))
    with pytest.raises(StreamAPIError) as added:
        state.update_members("messaging", "c1", add=["yan", "zed", "yan"])
    with pytest.raises(StreamAPIError) as invited:
        state.invite_members("messaging", "c1", ["cleo", "zed"])

    assert created.value.message == (
        'GetOrCreateChannel failed with error: "The following users are involved in channel '
        "create operation, but don't exist: [zed]. Please create the user objects before "
        'setting up the channel."'
    )
    for caught, names in ((added, "[yan zed]"), (invited, "[zed]")):
        assert caught.value.message == (
            'UpdateChannel failed with error: "The following users are involved in channel '
            f"update operation, but don't exist: {names}\""
        )
    channel = state.channel("messaging", "c1")
    assert channel is not None
    assert not any(member.invited for member in channel.members)


def test_reserved_fields_cannot_be_custom_data(state: StreamState) -> None:
    with pytest.raises(StreamAPIError) as caught:
        create(state, "c1", data={"member_count": 3})

    assert_stream_error(caught, 400, 4)
    with pytest.raises(StreamAPIError):
        create(state, "c1", data={"frozen": "yes"})


def test_unknown_channel_type_is_refused(state: StreamState) -> None:
    with pytest.raises(StreamAPIError):
        state.get_or_create_channel("nonsense", "c1", created_by_id="ana")


def test_frozen_at_creation(state: StreamState) -> None:
    create(state, "c1", data={"frozen": True, "status": "pending"})

    channel = state.channel("messaging", "c1")
    assert channel is not None
    assert channel.frozen
    assert channel.data == {"status": "pending"}


# -- messages -----------------------------------------------------------------------------


def test_messages_keep_order_unique_ids_and_last_message_at(state: StreamState) -> None:
    create(state, "c1")

    sent = [state.send_message("messaging", "c1", text=f"m{n}", user_id="ben") for n in range(5)]

    stored = state.messages("messaging", "c1")
    assert [m.text for m in stored] == ["m0", "m1", "m2", "m3", "m4"]
    assert len({m.id for m in stored}) == 5
    assert list(stored) == sent
    channel = state.channel("messaging", "c1")
    assert channel is not None
    assert channel.last_message_at == sent[-1].created_at
    assert all(m.type == "regular" for m in stored)


def test_frozen_channels_refuse_messages(state: StreamState) -> None:
    create(state, "c1", data={"frozen": True})

    with pytest.raises(StreamAPIError) as caught:
        state.send_message("messaging", "c1", text="hi", user_id="ben")

    assert_stream_error(caught, 403, 17)
    assert state.messages("messaging", "c1") == ()


def test_message_errors(state: StreamState) -> None:
    create(state, "c1")
    with pytest.raises(StreamAPIError) as caught:
        state.send_message("messaging", "nope", text="hi", user_id="ben")
    assert_stream_error(caught, 404, 16)
    with pytest.raises(StreamAPIError) as caught:
        state.send_message("messaging", "c1", text="hi", user_id="zed")
    assert_stream_error(caught, 400, 4)
    with pytest.raises(StreamAPIError) as caught:
        state.send_message("messaging", "c1", text="", user_id="ben")
    assert_stream_error(caught, 400, 4)
    with pytest.raises(StreamAPIError) as caught:
        state.send_message("messaging", "c1", text="x" * 5001, user_id="ben")
    assert_stream_error(caught, 400, 20)
    state.send_message("messaging", "c1", text="", user_id="ben", attachments=[{"type": "image"}])
    state.send_message("messaging", "c1", text="a", user_id="ben", message_id="m-1")
    with pytest.raises(StreamAPIError):
        state.send_message("messaging", "c1", text="b", user_id="ben", message_id="m-1")


def test_new_messages_emit_stream_shaped_events(state: StreamState) -> None:
    create(state, "c1")
    events: list[dict[str, object]] = []
    state.subscribe(events.append)

    message = state.send_message("messaging", "c1", text="hi", user_id="ben")

    (event,) = events
    assert event["type"] == "message.new"
    assert (event["cid"], event["channel_id"], event["channel_type"]) == (
        "messaging:c1",
        "c1",
        "messaging",
    )
    assert event["message"]["id"] == message.id  # type: ignore[index]
    assert event["message"]["text"] == "hi"  # type: ignore[index]
    assert event["user"]["id"] == "ben"  # type: ignore[index]
    assert event["created_at"] == "2026-01-01T00:00:02.000000Z"  # tick 2: after users, channel


# -- updates ------------------------------------------------------------------------------


def test_update_posts_its_message_then_freezes(state: StreamState) -> None:
    create(state, "c1", data={"status": "active", "name": "One"})

    updated = state.update_channel(
        "messaging",
        "c1",
        {"status": "ended", "name": "One", "frozen": True},
        message={"text": "Closed.", "user_id": "system"},
    )

    assert updated.frozen
    assert updated.data == {"status": "ended", "name": "One"}
    (notice,) = state.messages("messaging", "c1")
    assert (notice.text, notice.user_id, notice.type) == ("Closed.", "system", "system")
    assert updated.last_message_at == notice.created_at


def test_update_messages_land_in_frozen_channels(state: StreamState) -> None:
    create(state, "c1", data={"frozen": True})

    updated = state.update_channel(
        "messaging", "c1", {"frozen": True}, message={"text": "Closed.", "user_id": "system"}
    )

    assert updated.frozen
    assert [m.text for m in state.messages("messaging", "c1")] == ["Closed."]


def test_full_update_replaces_custom_data_and_unfreezes_when_left_out(state: StreamState) -> None:
    create(state, "c1", data={"frozen": True, "a": 1, "b": 2})

    updated = state.update_channel("messaging", "c1", {"b": 3})

    assert updated.data == {"b": 3}
    assert not updated.frozen


def test_update_checks_everything_before_changing_anything(state: StreamState) -> None:
    create(state, "c1", data={"a": 1})

    with pytest.raises(StreamAPIError):
        state.update_channel("messaging", "c1", {"a": 2}, message={"text": "x", "user_id": "zed"})

    channel = state.channel("messaging", "c1")
    assert channel is not None
    assert channel.data == {"a": 1}
    assert state.messages("messaging", "c1") == ()


def test_partial_channel_update_sets_and_unsets(state: StreamState) -> None:
    create(state, "c1", data={"a": 1, "b": 2})

    updated = state.update_channel_partial(
        "messaging", "c1", set_fields={"a": 5, "frozen": True}, unset=["b"]
    )
    assert (updated.data, updated.frozen) == ({"a": 5}, True)

    thawed = state.update_channel_partial("messaging", "c1", unset=["frozen"])
    assert (thawed.data, thawed.frozen) == ({"a": 5}, False)
    with pytest.raises(StreamAPIError) as caught:
        state.update_channel_partial("messaging", "c1", set_fields={"cid": "x"})
    assert_stream_error(caught, 400, 4)
    with pytest.raises(StreamAPIError) as caught:
        state.update_channel_partial("messaging", "nope", set_fields={"a": 1})
    assert_stream_error(caught, 404, 16)


def test_members_are_an_ordered_set(state: StreamState) -> None:
    create(state, "c1", members=("ana", "ben"))

    state.add_members("messaging", "c1", ["ben", "cleo", "cleo"])
    state.remove_members("messaging", "c1", ["zed-is-no-member", "ana"])
    channel = state.update_members(
        "messaging",
        "c1",
        add=["ana"],
        remove=["ben"],
        message={"text": "Ana is back, Ben left.", "user_id": "system"},
    )

    assert channel.member_ids == ("cleo", "ana")
    assert channel.member_count == 2
    assert [m.text for m in state.messages("messaging", "c1")] == ["Ana is back, Ben left."]


def test_member_changes_refuse_unknown_users_and_overlaps(state: StreamState) -> None:
    create(state, "c1")

    with pytest.raises(StreamAPIError) as caught:
        state.add_members("messaging", "c1", ["zed"])
    assert_stream_error(caught, 400, 4)
    with pytest.raises(StreamAPIError) as caught:
        state.update_members("messaging", "c1", add=["cleo"], remove=["cleo"])
    assert_stream_error(caught, 400, 4)
    channel = state.channel("messaging", "c1")
    assert channel is not None
    assert channel.member_ids == ("ana", "ben")


def test_delete_channel_is_hard_and_announced(state: StreamState) -> None:
    create(state, "c1")
    state.send_message("messaging", "c1", text="hi", user_id="ben")
    events: list[dict[str, object]] = []
    state.subscribe(events.append)

    state.delete_channel("messaging", "c1")

    assert state.channel("messaging", "c1") is None
    assert state.messages("messaging", "c1") == ()
    assert [(e["type"], e["cid"]) for e in events] == [("channel.deleted", "messaging:c1")]
    with pytest.raises(StreamAPIError) as caught:
        state.delete_channel("messaging", "c1")
    assert_stream_error(caught, 404, 16)
    create(state, "c1")  # the id is free again
    assert state.messages("messaging", "c1") == ()


def test_batch_delete_is_hard_and_announced_as_delete_channel_is(state: StreamState) -> None:
    create(state, "c1")
    sent = state.send_message("messaging", "c1", text="hi", user_id="ben", message_id="m-1")
    events: list[dict[str, object]] = []
    state.subscribe(events.append)

    state.delete_channels(["messaging:c1"])

    assert state.channel("messaging", "c1") is None
    assert [(e["type"], e["cid"]) for e in events] == [("channel.deleted", "messaging:c1")]
    create(state, "c1")
    assert state.messages("messaging", "c1") == ()
    # The message id is free again too, as after a single delete.
    again = state.send_message("messaging", "c1", text="hi", user_id="ben", message_id=sent.id)
    assert again.id == "m-1"


def test_unsubscribe_stops_events(state: StreamState) -> None:
    create(state, "c1")
    events: list[dict[str, object]] = []
    unsubscribe = state.subscribe(events.append)
    unsubscribe()

    state.send_message("messaging", "c1", text="hi", user_id="ben")

    assert events == []


# -- query_channels -----------------------------------------------------------------------


@pytest.fixture
def populated(state: StreamState) -> StreamState:
    create(state, "c1", members=("ana", "ben"), data={"kind": "x", "n": 1, "flag": True})
    create(state, "c2", members=("ana", "cleo"), data={"kind": "y", "n": 2, "flag": False})
    create(state, "c3", members=("ben",), data={"kind": "x", "frozen": True})
    return state


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ({}, ["c3", "c2", "c1"]),
        ({"type": "messaging"}, ["c3", "c2", "c1"]),
        ({"type": "team"}, []),
        ({"id": "c2"}, ["c2"]),
        ({"id": {"$in": ["c1", "c3", "c9"]}}, ["c3", "c1"]),
        ({"cid": {"$eq": "messaging:c1"}}, ["c1"]),
        ({"members": {"$in": ["ana"]}}, ["c2", "c1"]),
        ({"members": {"$in": ["cleo", "ben"]}}, ["c3", "c2", "c1"]),
        ({"kind": "x"}, ["c3", "c1"]),
        ({"kind": {"$in": ["y", "z"]}}, ["c2"]),
        ({"n": 1}, ["c1"]),
        ({"flag": True}, ["c1"]),
        ({"n": True}, []),  # JSON true is not 1
        ({"missing": "x"}, []),
        ({"frozen": True}, ["c3"]),
        ({"frozen": False}, ["c2", "c1"]),
        ({"created_by_id": "ana"}, ["c3", "c2", "c1"]),
        ({"$and": [{"kind": "x"}, {"members": {"$in": ["ana"]}}]}, ["c1"]),
        ({"$or": [{"id": "c1"}, {"kind": "y"}]}, ["c2", "c1"]),
    ],
)
def test_query_channel_filters(
    populated: StreamState, conditions: dict[str, object], expected: list[str]
) -> None:
    assert query_ids(populated, conditions) == expected


@pytest.mark.parametrize(
    "conditions",
    [
        {"n": {"$gt": 1}},
        {"kind": {"$ne": "x"}},
        {"members": {"$eq": ["ana"]}},
        {"members": "ana"},
        {"$nor": [{"id": "c1"}]},
        {"$and": []},
        {"kind": {"$in": "x"}},
        {"frozen": "yes"},
        {"kind": {}},
        {"kind": ["x"]},
    ],
)
def test_unsupported_filters_are_refused(
    populated: StreamState, conditions: dict[str, object]
) -> None:
    with pytest.raises(StreamAPIError) as caught:
        populated.query_channels(conditions)

    assert_stream_error(caught, 400, 4)


def test_unsupported_filters_are_refused_even_without_channels(state: StreamState) -> None:
    with pytest.raises(StreamAPIError):
        state.query_channels({"kind": {"$regex": "x"}})


def test_sorting_by_last_message_falls_back_to_creation(populated: StreamState) -> None:
    populated.send_message("messaging", "c1", text="hi", user_id="ben")
    assert query_ids(populated, {}) == ["c1", "c3", "c2"]

    populated.send_message("messaging", "c2", text="hi", user_id="ana")
    assert query_ids(populated, {}) == ["c2", "c1", "c3"]

    ascending = populated.query_channels({}, [{"field": "last_message_at", "direction": 1}])
    assert [c.id for c in ascending] == ["c3", "c1", "c2"]
    by_size = populated.query_channels(
        {}, [{"field": "member_count", "direction": -1}, {"field": "created_at", "direction": 1}]
    )
    assert [c.id for c in by_size] == ["c1", "c2", "c3"]


def test_ties_break_by_creation_in_the_sorts_direction() -> None:
    frozen_time = StreamState(clock=lambda: START)
    frozen_time.upsert_users([{"id": "ana"}])
    for channel_id in ("c1", "c2", "c3"):
        frozen_time.get_or_create_channel("messaging", channel_id, created_by_id="ana")

    newest_first = frozen_time.query_channels({}, LAST_MESSAGE_FIRST)
    oldest_first = frozen_time.query_channels({}, [{"field": "created_at", "direction": 1}])

    assert [c.id for c in newest_first] == ["c3", "c2", "c1"]
    assert [c.id for c in oldest_first] == ["c1", "c2", "c3"]


def test_default_sort_is_last_updated(populated: StreamState) -> None:
    # Stream documents last_updated as the last message's time, else the creation time:
    # a data update is not activity.
    before = [c.id for c in populated.query_channels({})]
    populated.update_channel_partial("messaging", "c1", set_fields={"touched": True})

    assert [c.id for c in populated.query_channels({})] == before
    by_activity = populated.query_channels({}, [{"field": "last_message_at", "direction": -1}])
    assert [c.id for c in by_activity] == before


@pytest.mark.parametrize(
    "sort",
    [
        [{"field": "name", "direction": 1}],
        [{"field": "last_message_at", "direction": 0}],
        [{"field": "last_message_at", "direction": True}],
        ["last_message_at"],
        "last_message_at",
    ],
)
def test_unsupported_sorts_are_refused(populated: StreamState, sort: object) -> None:
    with pytest.raises(StreamAPIError) as caught:
        populated.query_channels({}, sort)  # type: ignore[arg-type]

    assert_stream_error(caught, 400, 4)


def test_query_pages_within_streams_limits(populated: StreamState) -> None:
    assert query_ids(populated, {}, limit=2) == ["c3", "c2"]
    assert query_ids(populated, {}, limit=2, offset=2) == ["c1"]
    assert query_ids(populated, {}, limit=30, offset=1000) == []
    for limit, offset in ((31, 0), (0, 0), (10, -1), (10, 1001)):
        with pytest.raises(StreamAPIError) as caught:
            populated.query_channels({}, limit=limit, offset=offset)
        assert_stream_error(caught, 400, 4)


def test_channel_state_payload(populated: StreamState) -> None:
    for n in range(3):
        populated.send_message("messaging", "c1", text=f"m{n}", user_id="ben")
    channel = populated.channel("messaging", "c1")
    assert channel is not None

    payload = populated.channel_state(channel, message_limit=2, member_limit=1)

    body = payload["channel"]
    assert isinstance(body, dict)
    assert body["cid"] == "messaging:c1"
    assert body["member_count"] == 2
    assert body["created_by"]["id"] == "ana"
    assert body["kind"] == "x"
    assert body["frozen"] is False
    # Ticks: 0 users, 1-3 channels, 4-6 messages.
    assert body["last_message_at"] == "2026-01-01T00:00:06.000000Z"
    assert [m["text"] for m in payload["messages"]] == ["m1", "m2"]  # type: ignore[attr-defined]
    assert [m["user_id"] for m in payload["members"]] == ["ana"]  # type: ignore[attr-defined]


# -- the fake provider: data layout, paging, faults, tokens --------------------------------


def client_spec(channel_id: str = "apt_1") -> ChannelSpec:
    return ChannelSpec(
        id=ChannelId(channel_id),
        category=ChatCategory.CLIENT,
        org_id=OrgId("org-1"),
        members=frozenset({UserId("ana"), UserId("ben")}),
        created_by=UserId("ana"),
        status=ChatStatus.PENDING,
        name="Chat with Ben",
        appointment_id=AppointmentId("apt-1"),
        appointment_time=datetime(2026, 1, 15, 14, 0, 0, 123456, tzinfo=UTC),
        pet_owner_id=UserId("ben"),
        pet_owner_name="Ben",
        pet_name="Rex",
        vet_id=UserId("ana"),
    )


async def test_provider_stores_the_contracts_custom_fields(state: StreamState) -> None:
    provider = FakeStreamChatProvider(state, api_secret=SECRET)

    await provider.open_channel(client_spec())

    channel = state.channel("messaging", "apt_1")
    assert channel is not None
    assert channel.frozen
    # The system user creates every channel; the contract's creator is custom data.
    assert channel.created_by_id == "system"
    assert channel.member_count == 2
    assert channel.data == {
        "createdBy": "ana",
        "chatCategory": "client",
        "orgId": "org-1",
        "isGroup": False,
        "status": "pending",
        "readOnly": False,
        "name": "Chat with Ben",
        "appointmentId": "apt-1",
        "appointmentTime": "2026-01-15T14:00:00.123Z",
        "petOwnerId": "ben",
        "petOwnerName": "Ben",
        "petName": "Rex",
        "vetId": "ana",
    }


async def test_set_status_is_one_update_and_keeps_foreign_custom_fields(
    state: StreamState,
) -> None:
    provider = FakeStreamChatProvider(state, api_secret=SECRET)
    await provider.open_channel(client_spec())
    # A field some frontend added directly in Stream must survive our full update.
    state.update_channel_partial("messaging", "apt_1", set_fields={"pinnedNote": "x"})

    await provider.set_status(ChannelId("apt_1"), ChatStatus.ENDED, notice="Closed.")

    channel = state.channel("messaging", "apt_1")
    assert channel is not None
    assert channel.frozen
    assert channel.data["status"] == "ended"
    assert channel.data["pinnedNote"] == "x"
    assert [(m.user_id, m.type, m.text) for m in state.messages("messaging", "apt_1")] == [
        ("system", "system", "Closed.")
    ]


class LimitRecordingState(StreamState):
    """Remembers the page size of every query_channels call."""

    def __init__(self) -> None:
        super().__init__(clock=TickingClock())
        self.limits: list[int] = []

    def query_channels(
        self,
        filter_conditions: Mapping[str, object],
        sort: Sequence[Mapping[str, object]] | None = None,
        *,
        limit: int = 10,
        offset: int = 0,
    ) -> list[StreamChannel]:
        self.limits.append(limit)
        return super().query_channels(filter_conditions, sort, limit=limit, offset=offset)


async def test_provider_pages_through_streams_30_channel_limit() -> None:
    state = LimitRecordingState()
    state.upsert_users([{"id": "ana"}])
    for n in range(75):
        state.get_or_create_channel("messaging", f"c{n:02d}", created_by_id="ana", members=["ana"])
    provider = FakeStreamChatProvider(state, api_secret=SECRET)

    page = await provider.query_channels(ChannelQuery(member=UserId("ana")), limit=70, offset=0)

    assert len(page.channels) == 70
    assert page.has_more
    assert state.limits == [30, 30, 11]


async def test_provider_stops_at_streams_offset_ceiling(state: StreamState) -> None:
    provider = FakeStreamChatProvider(state, api_secret=SECRET)
    query = ChannelQuery(member=UserId("ana"))

    assert (await provider.query_channels(query, limit=5, offset=1000)).channels == ()
    # Past Stream's capacity is the adapter refusing (502), never the caller's 400.
    with pytest.raises(errors.ProviderFailed):
        await provider.query_channels(query, limit=5, offset=1001)
    with pytest.raises(errors.ProviderFailed):
        await provider.query_channels(query, limit=0, offset=0)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, errors.ProviderFailed),
        (401, errors.ProviderFailed),
        (403, errors.ProviderFailed),
        (404, errors.NotFound),
        (429, errors.ProviderUnavailable),
        (500, errors.ProviderUnavailable),
        (503, errors.ProviderUnavailable),
    ],
)
async def test_provider_translates_stream_errors(
    state: StreamState, status: int, expected: type[errors.ChatError]
) -> None:
    provider = FakeStreamChatProvider(state, api_secret=SECRET)
    state.fail_next(status_code=status)

    with pytest.raises(expected):
        await provider.get_channel(ChannelId("apt_1"))


async def test_not_found_carries_the_channel_code(state: StreamState) -> None:
    provider = FakeStreamChatProvider(state, api_secret=SECRET)

    with pytest.raises(errors.NotFound) as caught:
        await provider.change_members(ChannelId("grp_nope"), add=frozenset({UserId("ana")}))

    assert caught.value.code == errors.CODE_CHANNEL_NOT_FOUND


async def test_ping_fails_while_stream_is_unreachable(state: StreamState) -> None:
    provider = FakeStreamChatProvider(state, api_secret=SECRET)
    state.set_unavailable()

    with pytest.raises(errors.ProviderUnavailable):
        await provider.ping()

    state.set_unavailable(False)
    await provider.ping()


async def test_tokens_are_signed_with_the_api_secret(state: StreamState) -> None:
    provider = FakeStreamChatProvider(state, api_secret=SECRET)
    issued = datetime(2026, 1, 1, 12, 0, 30, 999, tzinfo=UTC)

    token = await provider.issue_user_token(
        UserId("ana"), issued_at=issued, expires_at=issued + timedelta(hours=1)
    )

    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {
        "user_id": "ana",
        "iat": int(issued.timestamp()) - 5,  # back-dated as the real adapter does
        "exp": int(issued.timestamp()) + 3600,
    }
    assert SECRET not in repr(provider)


async def test_default_secret_is_random() -> None:
    first, second = FakeStreamChatProvider(), FakeStreamChatProvider()

    assert first.api_secret != second.api_secret
    assert len(first.api_secret) >= 32


async def test_upsert_profiles_sends_name_and_image(state: StreamState) -> None:
    provider = FakeStreamChatProvider(state, api_secret=SECRET)

    await provider.upsert_profiles(
        [SYSTEM_PROFILE, UserProfile(id=UserId("dora"), name="Dora", image="https://i/d.png")]
    )

    dora = state.user("dora")
    system = state.user("system")
    assert dora is not None
    assert system is not None
    assert (dora.name, dora.image) == ("Dora", "https://i/d.png")
    assert (system.name, system.image) == (SYSTEM_PROFILE.name, None)


# -- stream_mapping on data not written by us ---------------------------------------------


def test_legacy_channels_without_our_fields_still_read() -> None:
    group = stream_mapping.channel_from_state(
        {
            "channel": {"id": "old-group", "isGroup": True, "frozen": True},
            "members": [{"user": {"id": "ana"}}, {"user_id": "ben"}, "junk"],
            "messages": [],
        }
    )
    dm = stream_mapping.channel_from_state({"channel": {"id": "old-dm", "created_by_id": "ana"}})
    client = stream_mapping.channel_from_state(
        {"channel": {"id": "old-apt", "appointmentId": "apt-9", "status": "weird"}}
    )

    assert (group.category, group.status) == (ChatCategory.GROUP, ChatStatus.ENDED)
    assert group.members == {UserId("ana"), UserId("ben")}
    assert (dm.category, dm.status, dm.org_id, dm.created_by) == (
        ChatCategory.COLLEAGUE,
        ChatStatus.ACTIVE,
        "",
        "ana",
    )
    assert (client.category, client.status) == (ChatCategory.CLIENT, ChatStatus.ACTIVE)


def test_the_mapping_knows_every_field_stream_keeps_on_a_channel(state: StreamState) -> None:
    # The simulation keeps its own list of the fields Stream maintains (it does not import
    # the adapter's), so a field missing from the adapter's list shows up here: the adapter
    # would take it for custom data and send it back in a full update.
    state.upsert_users([{"id": "ana"}])
    channel, _ = state.get_or_create_channel(
        "messaging",
        "c1",
        created_by_id="ana",
        data={"kind": "x", "config_overrides": {"grants": {"channel_member": []}}},
        members=["ana"],
    )
    state.send_message("messaging", "c1", text="hi", user_id="ana")
    sent = state.channel("messaging", "c1")
    assert sent is not None
    body = state.channel_state(sent)["channel"]
    assert isinstance(body, dict)
    assert "last_message_at" in body
    assert "config" in body

    assert set(body) - set(channel.data) <= stream_mapping.STREAM_CHANNEL_FIELDS
    assert stream_mapping.custom_data(body) == {"kind": "x"}


def test_unreadable_channel_state_is_an_error() -> None:
    with pytest.raises(stream_mapping.StreamDataError):
        stream_mapping.channel_from_state({"channel": {"name": "no id"}})
    with pytest.raises(stream_mapping.StreamDataError):
        stream_mapping.channel_from_state({})


def test_times_read_whatever_precision_stream_writes() -> None:
    assert stream_mapping.parse_time("2026-01-15T14:00:00.123456789Z") == datetime(
        2026, 1, 15, 14, 0, 0, 123456, tzinfo=UTC
    )
    assert stream_mapping.parse_time("2026-01-15T14:00:00") == datetime(2026, 1, 15, 14, tzinfo=UTC)
    assert stream_mapping.parse_time("yesterday") is None
    assert stream_mapping.parse_time(None) is None


def test_channel_filter_names_only_the_narrowing_given() -> None:
    query = ChannelQuery(member=UserId("ana"), category=ChatCategory.GROUP, vet_id=UserId("v"))

    assert stream_mapping.channel_filter(query) == {
        "type": "messaging",
        "members": {"$in": ["ana"]},
        "chatCategory": "group",
        "vetId": "v",
    }
