"""The webhook's reading of a body, made faster without changing what it answers: the
identity digest is over the same bytes as before it was written by hand (identities
already recorded, in PostgreSQL or MongoDB, must still match a replay), and the body is
accepted, refused and identified exactly as json.loads did."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yc_chat.adapters.stream.events import (
    STREAM_WEBHOOKS,
    StreamEventError,
    identity_json,
    stream_event_identity,
    stream_event_type,
)


@given(st.lists(st.text(), min_size=1, max_size=4).map(tuple))
def test_identity_json_is_json_dumps(parts: tuple[str, ...]) -> None:
    assert identity_json(parts) == json.dumps(parts)


def test_a_message_event_identity_is_the_digest_recorded_before() -> None:
    payload = {"type": "message.new", "message": {"id": 'm-"é\n', "user": {"id": "u"}}}
    before = json.dumps(("message", "message.new", 'm-"é\n')).encode()
    assert stream_event_identity(payload) == "sha256:" + hashlib.sha256(before).hexdigest()


def _by_json_loads(raw: bytes) -> object:
    """What identify answered when it decoded with json.loads: the reference."""
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        return "refused: a webhook body must be JSON"
    try:
        return stream_event_type(payload), stream_event_identity(payload)
    except StreamEventError as exc:
        return f"refused: {exc}"


def _identified(raw: bytes) -> object:
    try:
        return STREAM_WEBHOOKS.identify(raw)
    except StreamEventError as exc:
        return f"refused: {exc}"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
_EVENTS = st.fixed_dictionaries(
    {"type": st.sampled_from(["message.new", "", "x" * 300]) | st.text()},
    optional={"message": st.fixed_dictionaries({}, optional={"id": st.text() | _JSON}),
              "created_at": st.text(), "channel_id": st.text(), "extra": _JSON},
)  # fmt: skip


@given(st.one_of(_JSON, _EVENTS))
def test_bodies_are_accepted_and_identified_as_json_loads_did(value: object) -> None:
    """The webhook decodes with msgspec first: it must accept, refuse and identify every
    body exactly as json.loads did (NaN and infinities included)."""
    for raw in (json.dumps(value).encode(), json.dumps(value, indent=1).encode("utf-16")):
        assert _identified(raw) == _by_json_loads(raw)


@given(st.binary(max_size=64))
def test_arbitrary_bytes_are_refused_or_accepted_as_json_loads_did(raw: bytes) -> None:
    assert _identified(raw) == _by_json_loads(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type":"message.new","message":{"id":"m\\ud800"}}',  # a lone surrogate escape
        b'\xef\xbb\xbf{"type":"message.new","message":{"id":"m"}}',  # a byte-order mark
        b'{"type":"message.new","n":NaN,"message":{"id":"m"}}',
        b'{"type":"message.new","n":1e999,"message":{"id":"m"}}',
        b'{"type":"a","type":"message.new","message":{"id":"m"}}',  # the last key counts
        b'{"type":"message.new","message":{"id":"\xff"}}',  # not UTF-8
        b'{"type":"message.new"} trailing',
        b"[" * 2000 + b"]" * 2000,
    ],
)
def test_the_bodies_msgspec_and_json_loads_read_differently(raw: bytes) -> None:
    assert _identified(raw) == _by_json_loads(raw)
