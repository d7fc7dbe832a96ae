"""Reading Stream's answers as untrusted input (issue 19 D): whatever a channel state holds,
reading it never raises, never yields text no encoder can write, and logs without content."""

from __future__ import annotations

import json
import logging
from typing import Any

import attrs
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yc_chat.adapters.stream import reading
from yc_chat.adapters.stream.events import decode_stream_event
from yc_chat.domain.events import MessagePosted
from yc_chat.domain.limits import MAX_ID_LENGTH, MAX_PROVIDER_NAME, MAX_PROVIDER_TEXT
from yc_chat.domain.model import ChatCategory
from yc_chat.domain.text import is_clean

MARKER = "CONTENT-7f3a"

# Text as a person may write it through Stream: lone surrogates, control and format
# characters, very long runs, and our marker, which must never reach a log line.
odd_text = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.sampled_from(["\ud800", "\udfff", "\u202e", "\x00", "a", "é", "😀"])),
    st.builds(lambda n, c: MARKER + c * n, st.integers(0, 30_000), st.sampled_from("x\ud83d")),
    st.just(MARKER),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), odd_text)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = (
    "chatCategory", "orgId", "isGroup", "status", "name", "image", "readOnly", "appointmentId",
    "appointmentTime", "petOwnerId", "petOwnerName", "petName", "vetId", "frozen",
    "created_by", "created_by_id", "created_at", "last_message_at", "member_count",
)  # fmt: skip
known = {
    "chatCategory": st.sampled_from([c.value for c in ChatCategory]),
    "status": st.sampled_from(["pending", "active", "ended"]),
    "orgId": st.just("org-1"),
}
channel_ids = st.one_of(st.from_regex(r"\A[a-z0-9_-]{1,64}\Z"), odd_text, st.integers(), st.none())


@st.composite
def channel_objects(draw: st.DrawFn, *, ours: bool = False) -> Any:
    """A channel object; `ours`: with an id and a category we could have written, so it
    reads as a channel and every other field is whatever a person put there."""
    valid_id = st.from_regex(r"\A[a-z0-9_-]{1,64}\Z")
    data: dict[str, Any] = {"id": draw(valid_id if ours else channel_ids)}
    for field in draw(st.sets(st.sampled_from(FIELDS))):
        strategy = known.get(field)
        if strategy is None:
            data[field] = draw(values)
        elif field == "chatCategory" and ours:
            data[field] = draw(strategy)
        else:
            data[field] = draw(st.one_of(values, strategy))
    return data


member_entries = st.one_of(
    values,
    st.fixed_dictionaries({"user_id": st.one_of(odd_text, st.integers())}),
    st.fixed_dictionaries({"user": st.fixed_dictionaries({"id": odd_text})}),
)
message_entries = st.one_of(values, st.fixed_dictionaries({"text": values}))
_rest = {
    "members": st.one_of(st.lists(member_entries, max_size=4), values),
    "messages": st.one_of(st.lists(message_entries, max_size=3), values),
}
states = st.fixed_dictionaries(
    {}, optional={"channel": st.one_of(channel_objects(), values), **_rest}
)
our_states = st.fixed_dictionaries({"channel": channel_objects(ours=True)}, optional=_rest)


def _strings(channel: Any) -> list[str]:
    found = [v for v in attrs.asdict(channel, recurse=False).values() if isinstance(v, str)]
    return found + [str(m) for m in channel.members]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(state=st.one_of(states, our_states))
def test_any_channel_state_reads_as_a_clean_channel_or_none(state: dict[str, Any]) -> None:
    channel = reading.read_channel(state, reading.UntrustedLog())
    if channel is not None:
        _assert_clean(channel)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(state=our_states)
def test_odd_fields_of_a_channel_we_could_have_written_are_shown_clean(
    state: dict[str, Any],
) -> None:
    channel = reading.read_channel(state, reading.UntrustedLog())
    assert channel is not None
    _assert_clean(channel)


def _assert_clean(channel: Any) -> None:
    assert 0 < len(channel.id) <= MAX_ID_LENGTH and is_clean(channel.id)
    for text in _strings(channel):
        assert is_clean(text)
        text.encode("utf-8")
    msgspec.json.encode(_strings(channel))  # what a list response encodes
    assert all(0 < len(m) <= MAX_ID_LENGTH for m in channel.members)
    for name in (channel.name, channel.pet_name, channel.pet_owner_name, channel.image):
        assert name is None or len(name) <= MAX_PROVIDER_NAME
    assert channel.last_message_text is None or len(channel.last_message_text) <= MAX_PROVIDER_TEXT
    assert channel.category in set(ChatCategory)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(state=states)
def test_what_is_skipped_or_repaired_is_logged_once_without_content(
    state: dict[str, Any],
) -> None:
    log = reading.UntrustedLog()
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("yc_chat.stream")
    logger.addHandler(handler)
    try:
        for _ in range(3):
            reading.read_channel(state, log)
    finally:
        logger.removeHandler(handler)
    assert len(records) <= 1
    for record in records:
        assert MARKER not in record.getMessage() + repr(record.__dict__)
        assert "\ud800" not in repr(record.__dict__)


@given(text=odd_text, name=st.one_of(odd_text, st.integers(), st.none()))
def test_a_pushed_message_is_read_clean(text: str, name: object) -> None:
    message = {"id": "m1", "text": text, "user": {"id": "ana", "name": name}}
    # json writes a lone surrogate as its \u escape, as Stream's webhook body carries it.
    raw = json.dumps({"type": "message.new", "cid": "messaging:grp_1", "message": message})
    event = decode_stream_event(raw.encode())
    assert isinstance(event, MessagePosted)
    assert is_clean(event.text) and len(event.text) <= MAX_PROVIDER_TEXT
    assert event.sender_name is None or (
        is_clean(event.sender_name) and len(event.sender_name) <= MAX_PROVIDER_NAME
    )


def test_a_category_we_never_write_is_read_from_the_other_fields() -> None:
    for category in ("evil", "", 7, ["group"], {"$in": ["group"]}):
        repairs = reading.Repairs()
        group = reading.channel_from_state(
            {"channel": {"id": "c1", "chatCategory": category, "isGroup": True}}, repairs
        )
        dm = reading.channel_from_state({"channel": {"id": "c2", "chatCategory": category}})
        assert (group.category, dm.category) == (ChatCategory.GROUP, ChatCategory.COLLEAGUE)
        assert repairs.fields == {"chatCategory"}


def test_a_state_without_a_channel_anyone_could_address_is_unreadable() -> None:
    for channel in ({}, {"id": ""}, {"id": 7}, {"id": "\ud800"}, {"id": "x" * 300}, "c1"):
        with pytest.raises(reading.StreamDataError):
            reading.channel_from_state({"channel": channel})


def test_times_from_odd_offsets_are_unreadable_not_failures() -> None:
    assert reading.parse_time("0001-01-01T00:00:00+14:00") is None
    assert reading.parse_time("9999-12-31T23:59:59-14:00") is None
    assert reading.parse_time("2026-01-15T14:00:00" + "0" * 10_000) is None
