"""WebhookDecoder contract, run against every adapter: Stream's webhook JSON (the real Stream
and the built-in emulator both send it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from yc_chat.adapters.stream.events import STREAM_WEBHOOKS
from yc_chat.domain.events import ChannelDeleted, MessagePosted, OtherEvent, UserUpdated
from yc_chat.domain.model import ChannelId, UserId

FORMATS: dict[str, Any] = {"stream": STREAM_WEBHOOKS}

MESSAGE = {
    "type": "message.new",
    "cid": "messaging:apt_1",
    "created_at": "2026-01-15T12:00:00Z",
    "message": {"id": "m-1", "text": "Is Rex OK?", "user": {"id": "owner-1", "name": "Sam"}},
}


@pytest.fixture(params=sorted(FORMATS))
def webhooks(request: pytest.FixtureRequest) -> Any:
    return FORMATS[request.param]


def _raw(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def test_a_message_decodes_to_its_domain_event(webhooks: Any) -> None:
    event = webhooks.decode(_raw(MESSAGE))
    assert event == MessagePosted(
        channel_id=ChannelId("apt_1"),
        sender_id=UserId("owner-1"),
        sender_name="Sam",
        text="Is Rex OK?",
        has_attachments=False,
        is_system=False,
    )


def test_other_known_events_decode(webhooks: Any) -> None:
    deleted = webhooks.decode(_raw({"type": "channel.deleted", "channel_id": "dm_1"}))
    assert deleted == ChannelDeleted(channel_id=ChannelId("dm_1"))
    updated = webhooks.decode(_raw({"type": "user.updated", "user": {"id": "u", "name": "N"}}))
    assert updated == UserUpdated(user_id=UserId("u"), name="N")
    assert webhooks.decode(_raw({"type": "reaction.new"})) == OtherEvent(type="reaction.new")


def test_identify_names_the_type_and_an_identity_that_survives_redelivery(
    webhooks: Any,
) -> None:
    event_type, identity = webhooks.identify(_raw(MESSAGE))
    assert event_type == "message.new"
    assert identity is not None
    # The same event serialised differently (another delivery) keeps its identity.
    reordered = json.dumps(dict(reversed(list(MESSAGE.items())))).encode()
    assert webhooks.identify(reordered) == (event_type, identity)
    other = {**MESSAGE, "message": {**MESSAGE["message"], "id": "m-2"}}
    assert webhooks.identify(_raw(other))[1] != identity


def test_a_body_without_anything_to_tell_it_by_has_no_identity(webhooks: Any) -> None:
    assert webhooks.identify(_raw({"type": "health.check"})) == ("health.check", None)


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1, 2]", b'{"no": "type"}', b'{"type": 7}', b"[" * 100_000],
)
def test_what_is_not_an_event_is_a_value_error(webhooks: Any, raw: bytes) -> None:
    with pytest.raises(ValueError):
        webhooks.identify(raw)
    with pytest.raises(ValueError):
        webhooks.decode(raw)
