"""An event's identity digest is over the same bytes as before it was written by hand:
identities already recorded (PostgreSQL, MongoDB) must still match a replay."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from yc_chat.adapters.stream.events import identity_json, stream_event_identity


@given(st.lists(st.text(), min_size=1, max_size=4).map(tuple))
def test_identity_json_is_json_dumps(parts: tuple[str, ...]) -> None:
    assert identity_json(parts) == json.dumps(parts)


def test_a_message_event_identity_is_the_digest_recorded_before() -> None:
    payload = {"type": "message.new", "message": {"id": 'm-"é\n', "user": {"id": "u"}}}
    before = json.dumps(("message", "message.new", 'm-"é\n')).encode()
    assert stream_event_identity(payload) == "sha256:" + hashlib.sha256(before).hexdigest()
