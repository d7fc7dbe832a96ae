"""Message operations: get, edit (full or partial) and delete one message by id; reactions.

As on Stream: a user may edit or delete only their own messages, and nothing in a frozen
channel (server-side calls may do both anywhere); a delete is soft unless `hard` (the
message stays, emptied, with type `deleted`). Each change is announced (`message.updated`,
`message.deleted`). Only `text` and `attachments` are editable in the simulation.
Reactions: a member reacts (one reaction per type and user; reacting again replaces it,
`enforce_unique` keeps only the new one), not in a frozen channel; removing is by type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from stream_emulator.state import events, filters, message_search, permissions
from stream_emulator.state.errors import (
    does_not_exist,
    input_error,
    message_too_long,
    not_allowed,
)
from stream_emulator.state.message_fields import (
    SERVER_WRITTEN,
    SETTABLE,
    custom_fields,
    parse_time,
)
from stream_emulator.state.message_history import HistoryEntry
from stream_emulator.state.parsing import MAX_MESSAGE_LENGTH
from stream_emulator.state.payloads import visible_to
from stream_emulator.state.records import StreamChannel, StreamMessage, StreamReaction
from stream_emulator.state.store import Store

MAX_SEARCH_LIMIT = 100
REACTION_TYPE_PATTERN = re.compile(r"^[A-Za-z0-9_+-]{1,30}\Z")
MAX_REACTIONS_PAGE = 300
MAX_REPLIES_PAGE = 300


class MessageOperations:
    """The message endpoints of one app; mixed into `StreamState`."""

    _store: Store

    def get_message(self, message_id: str, *, as_user: str | None = None) -> StreamMessage:
        """The message; a user must be a member of its channel (403 otherwise)."""
        endpoint = "GetMessage"
        self._store.faults.gate()
        channel, message = self._find(endpoint, message_id)
        if as_user is not None:
            self._store.require(endpoint, permissions.READ_CHANNEL, channel, as_user)
            if not visible_to(message, as_user):
                raise does_not_exist(endpoint, f"Message with id {message_id} does not exist")
        return message

    def commit_message(self, message_id: str) -> StreamMessage:
        """CommitMessage: a pending message becomes visible and is announced."""
        endpoint = "CommitMessage"
        self._store.faults.gate()
        channel, message = self._find(endpoint, message_id)
        if not message.pending:
            raise input_error(endpoint, f"message {message_id} is not pending")
        key = (channel.type, channel.id)
        committed = attrs.evolve(message, pending=False)
        self._store.messages[key] = [
            committed if m.id == message_id else m for m in self._store.messages[key]
        ]
        self._store.announce(channel, committed, self._store.now())
        return next(m for m in self._store.messages[key] if m.id == message_id)

    def update_message(
        self,
        message_id: str,
        *,
        set_fields: Mapping[str, object],
        unset: Sequence[str] = (),
        as_user: str | None = None,
        acting_user: str | None = None,
        full: bool = False,
    ) -> StreamMessage:
        """Set (and unset) fields of a message: text, attachments, `pinned` (and
        `pin_expires`), `silent` and custom fields; `full` (UpdateMessage) replaces the
        custom fields with those given. Pins are by `acting_user` (else the caller, else the
        sender). Announced as `message.updated`."""
        endpoint = "UpdateMessage"
        self._store.faults.gate()
        channel, message = self._find(endpoint, message_id)
        self._check_own(endpoint, channel, message, as_user, "UpdateMessage")
        now = self._store.now()
        pinner = acting_user or as_user or message.user_id
        changed = _apply_set(endpoint, message, set_fields, pinner, now, full=full)
        changed = _apply_unset(endpoint, changed, unset)
        if not changed.text and not changed.attachments:
            raise input_error(endpoint, "message must have text or attachments")
        if len(changed.text) > MAX_MESSAGE_LENGTH:
            raise message_too_long(endpoint, MAX_MESSAGE_LENGTH)
        updated = attrs.evolve(
            changed,
            updated_at=now,
            text_updated_at=now if changed.text != message.text else message.text_updated_at,
        )
        self._replace(channel, updated)
        self._store.history.record(message, updated, pinner)
        lookup = self._store.users.get
        self._store.events.emit(
            events.message_changed("message.updated", channel, updated, lookup, now)
        )
        return updated

    def message_history(
        self, conditions: object, sort: object, *, limit: int, offset: int
    ) -> tuple[list[HistoryEntry], bool]:
        """QueryMessageHistory: a page of a message's earlier versions, and whether more
        follow (see `message_history`)."""
        self._store.faults.gate()
        return self._store.history.query(conditions, sort, limit=limit, offset=offset)

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
        # The text stays stored (shown with `show_deleted_message`), as on Stream.
        deleted = attrs.evolve(message, type="deleted", deleted_at=now, updated_at=now)
        key = (channel.type, channel.id)
        if hard:
            self._store.messages[key] = [m for m in self._store.messages[key] if m.id != message_id]
            self._store.message_ids.discard(message_id)
            self._store.history.forget(message_id)
        else:
            self._replace(channel, deleted)
        lookup = self._store.users.get
        self._store.events.emit(
            events.message_changed("message.deleted", channel, deleted, lookup, now)
        )
        return deleted

    def send_reaction(
        self,
        message_id: str,
        *,
        reaction_type: str,
        user_id: str,
        score: int = 1,
        enforce_unique: bool = False,
        client_side: bool = False,
        custom: Mapping[str, object] | None = None,
    ) -> tuple[StreamMessage, StreamReaction]:
        """React to a message as `user_id`; announced as `reaction.new`."""
        endpoint = "SendReaction"
        self._store.faults.gate()
        if not REACTION_TYPE_PATTERN.match(reaction_type):
            raise input_error(endpoint, "reaction.type must be 1 to 30 letters, digits, _ + -")
        if score < 1:
            raise input_error(endpoint, "reaction.score must be a positive integer")
        if user_id not in self._store.users:
            raise input_error(endpoint, f"user {user_id} does not exist")
        channel, message = self._find(endpoint, message_id)
        self._check_may_react(endpoint, channel, message, user_id, client_side)
        now = self._store.now()
        added = StreamReaction(
            type=reaction_type,
            user_id=user_id,
            score=score,
            created_at=now,
            custom=dict(custom or {}),
        )
        kept = tuple(
            item
            for item in message.reactions
            if item.user_id != user_id or (item.type != reaction_type and not enforce_unique)
        )
        updated = attrs.evolve(message, reactions=(*kept, added))
        self._replace(channel, updated)
        lookup = self._store.users.get
        self._store.events.emit(
            events.reaction_changed("reaction.new", channel, updated, added, lookup, now)
        )
        return updated, added

    def delete_reaction(
        self, message_id: str, *, reaction_type: str, user_id: str, client_side: bool = False
    ) -> tuple[StreamMessage, StreamReaction]:
        """Remove the user's reaction of that type; announced as `reaction.deleted`."""
        endpoint = "DeleteReaction"
        self._store.faults.gate()
        channel, message = self._find(endpoint, message_id)
        self._check_may_react(endpoint, channel, message, user_id, client_side)
        removed = next(
            (r for r in message.reactions if r.user_id == user_id and r.type == reaction_type),
            None,
        )
        if removed is None:
            raise does_not_exist(endpoint, f"reaction {reaction_type} by {user_id} does not exist")
        updated = attrs.evolve(
            message, reactions=tuple(r for r in message.reactions if r is not removed)
        )
        self._replace(channel, updated)
        now = self._store.now()
        lookup = self._store.users.get
        self._store.events.emit(
            events.reaction_changed("reaction.deleted", channel, updated, removed, lookup, now)
        )
        return updated, removed

    def reactions(
        self, message_id: str, *, limit: int = 10, offset: int = 0, as_user: str | None = None
    ) -> list[StreamReaction]:
        """A page of the message's reactions, newest first."""
        endpoint = "GetReactions"
        self._store.faults.gate()
        if not 1 <= limit <= MAX_REACTIONS_PAGE or offset < 0:
            raise input_error(endpoint, f"limit must be 1 to {MAX_REACTIONS_PAGE}, offset >= 0")
        channel, message = self._find(endpoint, message_id)
        if as_user is not None:
            self._store.require(endpoint, permissions.READ_CHANNEL, channel, as_user)
        return list(reversed(message.reactions))[offset : offset + limit]

    def replies(
        self,
        parent_id: str,
        *,
        limit: int = 10,
        id_lt: str | None = None,
        id_gt: str | None = None,
        as_user: str | None = None,
    ) -> list[StreamMessage]:
        """A page of a thread's replies, oldest first: the newest `limit` ones (before
        `id_lt` if given), or the first `limit` after `id_gt`."""
        endpoint = "GetReplies"
        self._store.faults.gate()
        if not 1 <= limit <= MAX_REPLIES_PAGE:
            raise input_error(endpoint, f"limit must be 1 to {MAX_REPLIES_PAGE}")
        channel, _parent = self._find(endpoint, parent_id)
        if as_user is not None:
            self._store.require(endpoint, permissions.READ_CHANNEL, channel, as_user)
        thread = [
            m
            for m in self._store.messages[(channel.type, channel.id)]
            if m.parent_id == parent_id and (as_user is None or visible_to(m, as_user))
        ]
        ids = [m.id for m in thread]
        for bound in (id_lt, id_gt):
            if bound is not None and bound not in ids:
                raise input_error(endpoint, f"message {bound} is not a reply in this thread")
        if id_gt is not None:
            return thread[ids.index(id_gt) + 1 :][:limit]
        if id_lt is not None:
            thread = thread[: ids.index(id_lt)]
        return thread[-limit:]

    def search_messages(
        self,
        filter_conditions: Mapping[str, object],
        query: str | None,
        *,
        message_filter: Mapping[str, object] | None = None,
        sort: object = None,
        limit: int = 20,
        offset: int = 0,
        as_user: str | None = None,
    ) -> list[tuple[StreamChannel, StreamMessage]]:
        """Messages with every word of `query` and/or matching `message_filter`, in the
        channels the filter selects (for a user, only channels they are a member of);
        newest first unless `sort` says otherwise. One page of `limit` from `offset`."""
        endpoint = "Search"
        self._store.faults.gate()
        if not filter_conditions:
            raise input_error(endpoint, "filter_conditions is required")
        if query is None and message_filter is None:
            raise input_error(endpoint, "query or message_filter_conditions is required")
        if query is not None and not message_search.words(query):
            raise input_error(endpoint, "query must not be empty")
        # One more than a page may be asked for: to tell whether a next page exists.
        if not 1 <= limit <= MAX_SEARCH_LIMIT + 1 or offset < 0:
            raise input_error(endpoint, f"limit must be 1 to {MAX_SEARCH_LIMIT}, offset >= 0")
        predicate = filters.compile_channel_filter(endpoint, filter_conditions)
        wanted = (
            message_search.compile_message_filter(endpoint, message_filter)
            if message_filter is not None
            else None
        )
        found: list[tuple[object, StreamMessage]] = []
        for channel in self._store.channels.values():
            if not predicate(channel):
                continue
            if as_user is not None and not self._store.may(
                permissions.READ_CHANNEL, channel, as_user
            ):
                continue
            for message in self._store.messages.get((channel.type, channel.id), ()):
                if message.deleted_at is not None:
                    continue
                if query is not None and not message_search.matches_query(message, query):
                    continue
                if wanted is not None and not wanted(message):
                    continue
                if as_user is not None and not visible_to(message, as_user):
                    continue
                found.append((channel, message))
        ordered = message_search.sort_hits(endpoint, found, sort)
        return [
            (self._store.channels[_key(message.cid)], message)
            for _, message in ordered[offset : offset + limit]
        ]

    def _check_may_react(
        self,
        endpoint: str,
        channel: StreamChannel,
        message: StreamMessage,
        user_id: str,
        client_side: bool,
    ) -> None:
        if message.deleted_at is not None:
            raise input_error(endpoint, "a deleted message cannot get reactions")
        if not client_side:
            return
        # Sending needs CreateReaction; removing one's own reaction DeleteReaction as owner.
        if endpoint == "DeleteReaction":
            self._store.require(endpoint, permissions.DELETE_REACTION, channel, user_id, owns=True)
        else:
            self._store.require(endpoint, permissions.CREATE_REACTION, channel, user_id)
        if channel.frozen:
            raise not_allowed(endpoint, f"channel {channel.cid} is frozen")

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
        # The action's grant, as the author (`-owner`) or on anyone's message.
        self._store.require(endpoint, action, channel, as_user, owns=message.user_id == as_user)
        if channel.frozen:
            raise not_allowed(endpoint, f"channel {channel.cid} is frozen")

    def _replace(self, channel: StreamChannel, message: StreamMessage) -> None:
        key = (channel.type, channel.id)
        self._store.messages[key] = [
            message if m.id == message.id else m for m in self._store.messages[key]
        ]


def _apply_set(
    endpoint: str,
    message: StreamMessage,
    fields: Mapping[str, object],
    pinner: str,
    now: datetime,
    *,
    full: bool,
) -> StreamMessage:
    custom = custom_fields(endpoint, fields) if full else {**message.custom}
    text, attachments, silent = message.text, message.attachments, message.silent
    pinned_at, pinned_by, pin_expires = message.pinned_at, message.pinned_by, message.pin_expires
    for key, value in fields.items():
        if key == "text":
            if not isinstance(value, str):
                raise input_error(endpoint, "message.text must be a string")
            text = value
        elif key == "attachments":
            if not isinstance(value, list) or not all(isinstance(a, Mapping) for a in value):
                raise input_error(endpoint, "message.attachments must be a list of objects")
            attachments = tuple(dict(item) for item in value)
        elif key == "pinned":
            if not isinstance(value, bool):
                raise input_error(endpoint, "pinned must be a boolean")
            if value and pinned_at is None:
                pinned_at, pinned_by = now, pinner
            elif not value:
                pinned_at, pinned_by, pin_expires = None, None, None
        elif key == "pinned_at":
            # stream-chat's pinMessage sends it (null for now); a time backdates the pin.
            pinned_time = parse_time(endpoint, "pinned_at", value)
            if pinned_time is not None and fields.get("pinned") is not False:
                pinned_at, pinned_by = pinned_time, pinned_by or pinner
        elif key == "pin_expires" and isinstance(value, int) and not isinstance(value, bool):
            # The Python SDK's pin_message sends a duration in seconds.
            pin_expires = now + timedelta(seconds=value)
        elif key == "pin_expires":
            pin_expires = parse_time(endpoint, "pin_expires", value)
        elif key == "silent":
            if not isinstance(value, bool):
                raise input_error(endpoint, "silent must be a boolean")
            silent = value
        elif key == "custom" and isinstance(value, Mapping) and not full:
            custom.update(value)
        elif key in SETTABLE or key in SERVER_WRITTEN:
            if not full and key != "mentioned_users":
                raise input_error(endpoint, f"field {key} cannot be changed")
        elif not full:
            custom[key] = value
    return attrs.evolve(
        message,
        custom=custom,
        text=text,
        attachments=attachments,
        silent=silent,
        pinned_at=pinned_at,
        pinned_by=pinned_by,
        pin_expires=pin_expires,
    )


def _apply_unset(endpoint: str, message: StreamMessage, keys: Sequence[str]) -> StreamMessage:
    custom = {**message.custom}
    text, attachments = message.text, message.attachments
    pinned_at, pinned_by, pin_expires = message.pinned_at, message.pinned_by, message.pin_expires
    for key in keys:
        if key == "text":
            text = ""
        elif key == "attachments":
            attachments = ()
        elif key == "pin_expires":
            pin_expires = None
        elif key == "pinned":
            pinned_at, pinned_by, pin_expires = None, None, None
        elif key in SETTABLE or key in SERVER_WRITTEN:
            raise input_error(endpoint, f"field {key} cannot be unset")
        else:
            custom.pop(key, None)
    return attrs.evolve(
        message,
        custom=custom,
        text=text,
        attachments=attachments,
        pinned_at=pinned_at,
        pinned_by=pinned_by,
        pin_expires=pin_expires,
    )


def _key(cid: str) -> tuple[str, str]:
    channel_type, _, channel_id = cid.partition(":")
    return channel_type, channel_id
