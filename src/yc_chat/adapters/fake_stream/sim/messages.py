"""Message operations: get, edit (full or partial) and delete one message by id.

As on Stream: a user may edit or delete only their own messages, and nothing in a frozen
channel (server-side calls may do both anywhere); a delete is soft unless `hard` (the
message stays, emptied, with type `deleted`). Each change is announced (`message.updated`,
`message.deleted`). Only `text` and `attachments` are editable in the simulation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from yc_chat.adapters.fake_stream.sim import events
from yc_chat.adapters.fake_stream.sim.errors import (
    does_not_exist,
    input_error,
    message_too_long,
    not_allowed,
)
from yc_chat.adapters.fake_stream.sim.parsing import MAX_MESSAGE_LENGTH
from yc_chat.adapters.fake_stream.sim.records import StreamChannel, StreamMessage
from yc_chat.adapters.fake_stream.sim.store import Store

EDITABLE_FIELDS = frozenset({"text", "attachments"})


class MessageOperations:
    """The message endpoints of one app; mixed into `StreamState`."""

    _store: Store

    def get_message(self, message_id: str, *, as_user: str | None = None) -> StreamMessage:
        """The message; a user must be a member of its channel (403 otherwise)."""
        endpoint = "GetMessage"
        self._store.faults.gate()
        channel, message = self._find(endpoint, message_id)
        if as_user is not None and channel.member(as_user) is None:
            raise not_allowed(endpoint, f"User '{as_user}' is not allowed to read this message")
        return message

    def update_message(
        self,
        message_id: str,
        *,
        set_fields: Mapping[str, object],
        unset: Sequence[str] = (),
        as_user: str | None = None,
    ) -> StreamMessage:
        """Set (and unset) the editable fields of a message; announced as `message.updated`."""
        endpoint = "UpdateMessage"
        self._store.faults.gate()
        channel, message = self._find(endpoint, message_id)
        self._check_own(endpoint, channel, message, as_user, "UpdateMessage")
        text, attachments = message.text, message.attachments
        for key, value in set_fields.items():
            if key == "text":
                if not isinstance(value, str):
                    raise input_error(endpoint, "message.text must be a string")
                text = value
            elif key == "attachments":
                if not isinstance(value, list) or not all(isinstance(a, Mapping) for a in value):
                    raise input_error(endpoint, "message.attachments must be a list of objects")
                attachments = tuple(dict(item) for item in value)
        for key in unset:
            if key not in EDITABLE_FIELDS:
                raise input_error(endpoint, f"field {key} cannot be unset")
            text, attachments = ("", attachments) if key == "text" else (text, ())
        if not text and not attachments:
            raise input_error(endpoint, "message must have text or attachments")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise message_too_long(endpoint, MAX_MESSAGE_LENGTH)
        now = self._store.now()
        updated = attrs.evolve(message, text=text, attachments=attachments, updated_at=now)
        self._replace(channel, updated)
        lookup = self._store.users.get
        self._store.events.emit(
            events.message_changed("message.updated", channel, updated, lookup, now)
        )
        return updated

    def delete_message(
        self, message_id: str, *, hard: bool = False, as_user: str | None = None
    ) -> StreamMessage:
        """Delete a message (soft: emptied, type `deleted`); announced as `message.deleted`."""
        endpoint = "DeleteMessage"
        self._store.faults.gate()
        channel, message = self._find(endpoint, message_id)
        self._check_own(endpoint, channel, message, as_user, "DeleteMessage")
        if hard and as_user is not None:
            raise not_allowed(endpoint, "only server-side calls can hard-delete messages")
        now = self._store.now()
        deleted = attrs.evolve(
            message, text="", attachments=(), type="deleted", deleted_at=now, updated_at=now
        )
        key = (channel.type, channel.id)
        if hard:
            self._store.messages[key] = [m for m in self._store.messages[key] if m.id != message_id]
            self._store.message_ids.discard(message_id)
        else:
            self._replace(channel, deleted)
        lookup = self._store.users.get
        self._store.events.emit(
            events.message_changed("message.deleted", channel, deleted, lookup, now)
        )
        return deleted

    def _find(self, endpoint: str, message_id: str) -> tuple[StreamChannel, StreamMessage]:
        if message_id in self._store.message_ids:
            for (channel_type, channel_id), messages in self._store.messages.items():
                for message in messages:
                    if message.id == message_id:
                        channel = self._store.channels[(channel_type, channel_id)]
                        return channel, message
        raise does_not_exist(endpoint, f"message {message_id} does not exist")

    def _check_own(
        self,
        endpoint: str,
        channel: StreamChannel,
        message: StreamMessage,
        as_user: str | None,
        action: str,
    ) -> None:
        if as_user is None:
            return
        if message.user_id != as_user or channel.member(as_user) is None:
            raise not_allowed(
                endpoint,
                f"User '{as_user}' is not allowed to perform action {action} on this message",
            )
        if channel.frozen:
            raise not_allowed(endpoint, f"channel {channel.cid} is frozen")

    def _replace(self, channel: StreamChannel, message: StreamMessage) -> None:
        key = (channel.type, channel.id)
        self._store.messages[key] = [
            message if m.id == message.id else m for m in self._store.messages[key]
        ]
