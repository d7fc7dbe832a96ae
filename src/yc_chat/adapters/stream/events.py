"""Stream webhook payloads to domain events. Pure: JSON value in, ChatEvent out.

Stream sends `{"type": ..., "cid": "messaging:<id>", "channel_id": ..., "message": {...},
"user": {...}}`. Only the fields the domain reacts to are read; a known event type whose
payload lacks them becomes an OtherEvent (acknowledged and ignored) rather than an error,
so Stream does not retry a payload we will never understand.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from json.encoder import encode_basestring_ascii
from typing import Any

import msgspec

from yc_chat.domain.events import (
    ChannelDeleted,
    ChatEvent,
    MessagePosted,
    OtherEvent,
    UserUpdated,
)
from yc_chat.domain.limits import MAX_PROVIDER_NAME, MAX_PROVIDER_TEXT
from yc_chat.domain.model import ChannelId, UserId
from yc_chat.domain.text import clean_text

MAX_TYPE_LENGTH = 100


class StreamEventError(ValueError):
    """The payload is not a Stream event at all (not an object, or no type)."""


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _channel_id(payload: Mapping[str, Any]) -> ChannelId | None:
    """The channel id from `channel_id`, `cid` ("type:id") or the nested channel."""
    direct = _text(payload.get("channel_id"))
    if direct is not None:
        return ChannelId(direct)
    cid = _text(payload.get("cid")) or _text(_mapping(payload.get("channel")).get("cid"))
    if cid is not None and ":" in cid:
        return ChannelId(cid.split(":", 1)[1]) if cid.split(":", 1)[1] else None
    nested = _text(_mapping(payload.get("channel")).get("id"))
    return ChannelId(nested) if nested is not None else None


def _message_posted(payload: Mapping[str, Any]) -> ChatEvent | None:
    message = _mapping(payload.get("message"))
    sender = _mapping(message.get("user")) or _mapping(payload.get("user"))
    sender_id = _text(sender.get("id"))
    channel_id = _channel_id(payload)
    if sender_id is None or channel_id is None:
        return None
    attachments = message.get("attachments")
    text = message.get("text")
    name = _text(sender.get("name"))
    # A person wrote these: shown in a push only cut short and encodable.
    return MessagePosted(
        channel_id=channel_id,
        sender_id=UserId(sender_id),
        sender_name=clean_text(name, limit=MAX_PROVIDER_NAME) if name is not None else None,
        text=clean_text(text, limit=MAX_PROVIDER_TEXT) if isinstance(text, str) else "",
        has_attachments=isinstance(attachments, list) and len(attachments) > 0,
        is_system=message.get("type") == "system",
    )


def _channel_deleted(payload: Mapping[str, Any]) -> ChatEvent | None:
    channel_id = _channel_id(payload)
    return ChannelDeleted(channel_id=channel_id) if channel_id is not None else None


def _user_updated(payload: Mapping[str, Any]) -> ChatEvent | None:
    user = _mapping(payload.get("user"))
    user_id = _text(user.get("id"))
    if user_id is None:
        return None
    # The profile as Stream now holds it, so our own upsert's echo can be recognised.
    return UserUpdated(
        user_id=UserId(user_id), name=_text(user.get("name")), image=_text(user.get("image"))
    )


_PARSERS = {
    "message.new": _message_posted,
    "channel.deleted": _channel_deleted,
    "user.updated": _user_updated,
}


def stream_event_type(payload: Any) -> str:
    """The event's `type`; raises StreamEventError if `payload` is not an event at all.

    This is the whole of what makes a body an event: a known type lacking what the domain
    reads is still one (an OtherEvent), so the webhook checks only this before recording.
    """
    if not isinstance(payload, Mapping):
        raise StreamEventError("a webhook body must be a JSON object")
    event_type = payload.get("type")
    if not isinstance(event_type, str) or not event_type or len(event_type) > MAX_TYPE_LENGTH:
        raise StreamEventError("a webhook body needs a string `type`")
    return event_type


def parse_stream_event(payload: Any) -> ChatEvent:
    """The domain event for a decoded webhook body; raises StreamEventError if it is not one."""
    event_type = stream_event_type(payload)
    parser = _PARSERS.get(event_type)
    if parser is None:
        return OtherEvent(type=event_type)
    event = parser(payload)
    return event if event is not None else OtherEvent(type=event_type, malformed=True)


def stream_event_identity(payload: Any) -> str | None:
    """What the event is, whoever delivered it: type and message id, else type, channel (or
    user) and `created_at`. None when the payload carries neither.

    Stream gives each delivery its own `X-Webhook-Id`; a captured signed body replayed
    under new ids is still the same event by this identity, so it is recorded once.
    """
    if not isinstance(payload, Mapping):
        return None
    event_type = _text(payload.get("type"))
    if event_type is None:
        return None
    message_id = _text(_mapping(payload.get("message")).get("id"))
    if message_id is not None:
        return _digest("message", event_type, message_id)
    created_at = _text(payload.get("created_at"))
    if created_at is None:
        return None
    channel_id = _channel_id(payload)
    if channel_id is not None:
        return _digest("channel", event_type, channel_id, created_at)
    user_id = _text(_mapping(payload.get("user")).get("id"))
    if user_id is not None:
        return _digest("user", event_type, user_id, created_at)
    return None


def _digest(*parts: str) -> str:
    # JSON keeps the parts apart whatever they contain; the digest bounds the key's size.
    return "sha256:" + hashlib.sha256(identity_json(parts).encode()).hexdigest()


def identity_json(parts: tuple[str, ...]) -> str:
    """`json.dumps(parts)` exactly (recorded identities are digests of it), written with
    its string encoder directly: the general encoder was a third of the identity."""
    return "[" + ", ".join(map(encode_basestring_ascii, parts)) + "]"


def decode_stream_event(raw: bytes) -> ChatEvent:
    """The domain event for a raw webhook body; raises StreamEventError if it is not one."""
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise StreamEventError("a webhook body must be JSON") from exc
    return parse_stream_event(payload)


_decode_json = msgspec.json.Decoder().decode


def _loads(raw: bytes) -> Any:
    """`json.loads(raw)`: the same values, accepting and refusing the same bodies. msgspec
    reads a body in a fifth of the time; what it refuses (NaN, a lone surrogate escape, a
    byte-order mark, UTF-16, ...) json.loads still decides, so acceptance stays json's."""
    try:
        return _decode_json(raw)
    except msgspec.DecodeError:
        return json.loads(raw)


class StreamWebhooks:
    """WebhookDecoder for Stream's webhook JSON (also what the emulator sends)."""

    def identify(self, raw: bytes) -> tuple[str, str | None]:
        """Stream's `type` and the event's identity; raises StreamEventError (a ValueError)
        if `raw` is not an event."""
        try:
            payload = _loads(raw)
        except (ValueError, RecursionError) as exc:
            raise StreamEventError("a webhook body must be JSON") from exc
        # Only whether it is an event: building the domain event (text cleaning and all) is
        # the worker's, from the record; doing it here too cost a seventh of an acknowledgement.
        return stream_event_type(payload), stream_event_identity(payload)

    def decode(self, raw: bytes) -> ChatEvent:
        """The domain event; raises StreamEventError (a ValueError) if `raw` is not an event."""
        return decode_stream_event(raw)


STREAM_WEBHOOKS = StreamWebhooks()
