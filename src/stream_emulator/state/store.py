"""The simulation's data: users, channels, messages, and the invariants every operation keeps.

`Store` is shared by the user and channel operations (`users`, `channels`); it holds the
clock, the fault switches and the event bus too, so one object is one Stream app.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime

import attrs

from stream_emulator.state import events, permissions
from stream_emulator.state.custom_permissions import CustomPermission
from stream_emulator.state.errors import does_not_exist, id_list, input_error
from stream_emulator.state.events import EventBus
from stream_emulator.state.faults import Faults
from stream_emulator.state.message_history import MessageHistory
from stream_emulator.state.parsing import check_draft_shape, dedupe, draft_from_json
from stream_emulator.state.records import (
    Clock,
    Draft,
    StreamChannel,
    StreamChannelMute,
    StreamMessage,
    StreamUser,
    UserExtras,
)
from stream_emulator.state.type_records import (
    BUILT_IN_TYPES,
    MESSAGING_SETTINGS,
    ChannelType,
    default_channel_types,
)


class Store:
    """One Stream app's records, clock, injected faults and event listeners."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.users: dict[str, StreamUser] = {}
        # Insertion order is creation order: query_channels uses it to break ties.
        self.channels: dict[tuple[str, str], StreamChannel] = {}
        self.messages: dict[tuple[str, str], list[StreamMessage]] = {}
        self.message_ids: set[str] = set()
        # Per (user id, cid): channels a member hid, and when they last cleared its history.
        self.hidden: set[tuple[str, str]] = set()
        self.cleared: dict[tuple[str, str], datetime] = {}
        self.channel_mutes: dict[tuple[str, str], StreamChannelMute] = {}
        # Stream's asynchronous tasks (batch deletes), already completed: id → answer.
        self.tasks: dict[str, dict[str, object]] = {}
        # Earlier versions of edited messages (QueryMessageHistory).
        self.history = MessageHistory()
        # The app's own roles (name → created) and custom permissions (id → permission).
        self.custom_roles: dict[str, datetime] = {}
        self.custom_permissions: dict[str, CustomPermission] = {}
        self.user_extras = UserExtras()
        self._channel_types: dict[str, ChannelType] | None = None
        self.events = EventBus()
        self.faults = Faults()

    def now(self) -> datetime:
        """The current time, from the clock, in UTC."""
        value = self.clock()
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the clock must return an aware datetime")
        return value.astimezone(UTC)

    @property
    def channel_types(self) -> dict[str, ChannelType]:
        """The app's channel types, made when first needed (they are dated by the clock)."""
        if self._channel_types is None:
            self._channel_types = default_channel_types(self.now())
        return self._channel_types

    def channel_type_names(self) -> Collection[str]:
        """The app's channel type names (without making the types, which reads the clock)."""
        if self._channel_types is None:
            return BUILT_IN_TYPES
        return self._channel_types.keys()

    def type_settings(self, name: str) -> Mapping[str, object]:
        """A channel type's settings (Stream's defaults until the types are first made,
        which reads the clock)."""
        if self._channel_types is None:
            return MESSAGING_SETTINGS
        return self._channel_types[name].settings

    def may(
        self, action: str, channel: StreamChannel, user_id: str, *, owns: bool | None = None
    ) -> bool:
        """Whether a client-side call by `user_id` may perform `action` (permissions)."""
        grants = self.channel_types[channel.type].grants
        return permissions.allowed(
            grants,
            action,
            channel,
            user_id,
            self.users.get(user_id),
            owns=owns,
            custom=self.custom_permissions,
        )

    def require(
        self,
        endpoint: str,
        action: str,
        channel: StreamChannel,
        user_id: str,
        *,
        owns: bool | None = None,
    ) -> None:
        """Refuse a client-side call (403 / code 17) unless `user_id` may perform `action`."""
        grants = self.channel_types[channel.type].grants
        permissions.require(
            grants,
            endpoint,
            action,
            channel,
            user_id,
            self.users.get(user_id),
            owns=owns,
            custom=self.custom_permissions,
        )

    def require_channel(self, endpoint: str, channel_type: str, channel_id: str) -> StreamChannel:
        """The channel; 404 (code 16) in Stream's words when there is none."""
        channel = self.channels.get((channel_type, channel_id))
        if channel is None:
            raise does_not_exist(
                endpoint, f"Can't find channel with id {channel_type}:{channel_id}"
            )
        return channel

    def put(self, channel: StreamChannel) -> StreamChannel:
        """Store `channel` (a new version of it); returns it."""
        self.channels[(channel.type, channel.id)] = channel
        return channel

    def remove_channel(self, channel: StreamChannel) -> None:
        """Forget the channel and its messages, announced as `channel.deleted`."""
        key = (channel.type, channel.id)
        event = events.channel_deleted(channel, self.users.get, self.now())
        del self.channels[key]
        for message in self.messages.pop(key, []):
            self.message_ids.discard(message.id)
        self.events.emit(event)

    def require_users(self, endpoint: str, user_ids: Iterable[str], *, operation: str) -> None:
        """Refuse (code 4) a channel `operation` ("create" or "update") that involves users
        who do not exist, naming them in Stream's words."""
        missing = [uid for uid in dedupe(user_ids) if uid not in self.users]
        if not missing:
            return
        detail = (
            f"The following users are involved in channel {operation} operation, but don't "
            f"exist: {id_list(missing)}"
        )
        if operation == "create":
            detail += ". Please create the user objects before setting up the channel."
        raise input_error(endpoint, detail)

    def parse_update_message(
        self, endpoint: str, message: Mapping[str, object] | None
    ) -> Draft | None:
        """The message a channel update carries (a `system` one by default), checked."""
        if message is None:
            return None
        draft = draft_from_json(endpoint, message, default_type="system")
        self.check_draft(endpoint, draft)
        return draft

    def post_update_message(
        self, channel: StreamChannel, draft: Draft | None, now: datetime
    ) -> StreamChannel:
        """Post the message a channel update carries, when it carries one; returns the channel."""
        if draft is None:
            return channel
        return self.post(channel, draft, now)

    def check_draft(self, endpoint: str, draft: Draft) -> None:
        """A message may be posted: valid, from an existing user, with a fresh id."""
        check_draft_shape(endpoint, draft)
        if draft.user_id not in self.users:
            raise input_error(endpoint, f"user {draft.user_id} does not exist")
        if draft.id is not None and draft.id in self.message_ids:
            raise input_error(endpoint, f"a message with id {draft.id} already exists")

    def post(self, channel: StreamChannel, draft: Draft, now: datetime) -> StreamChannel:
        """Post `draft` in `channel` and announce it (`message.new`) unless it is pending;
        returns the channel."""
        message = StreamMessage(
            id=draft.id or str(uuid.uuid4()),
            cid=channel.cid,
            text=draft.text,
            user_id=draft.user_id,
            type=draft.type,
            attachments=draft.attachments,
            created_at=now,
            parent_id=draft.parent_id,
            show_in_channel=draft.show_in_channel,
            custom=dict(draft.custom),
            pinned_at=now if draft.pinned else None,
            pinned_by=draft.user_id if draft.pinned else None,
            pin_expires=draft.pin_expires if draft.pinned else None,
            silent=draft.silent,
            restricted_visibility=draft.restricted_visibility,
            quoted_message_id=draft.quoted_message_id,
            quoted=self._quoted(channel, draft.quoted_message_id),
            pending=draft.pending,
            pending_message_metadata=dict(draft.pending_message_metadata),
        )
        self.messages[(channel.type, channel.id)].append(message)
        self.message_ids.add(message.id)
        if message.pending:
            return channel
        return self.announce(channel, message, now)

    def _quoted(self, channel: StreamChannel, message_id: str | None) -> StreamMessage | None:
        if message_id is None:
            return None
        found = (m for m in self.messages[(channel.type, channel.id)] if m.id == message_id)
        return next(found, None)

    def announce(
        self, channel: StreamChannel, message: StreamMessage, now: datetime
    ) -> StreamChannel:
        """A message now visible to the channel: `last_message_at`, the thread's count, the
        channel back in hidden lists, and the events; returns the channel."""
        key = (channel.type, channel.id)
        if message.parent_id is not None:
            self.messages[key] = [
                attrs.evolve(m, reply_count=m.reply_count + 1) if m.id == message.parent_id else m
                for m in self.messages[key]
            ]
        # A new message brings a hidden channel back into every member's list.
        self.hidden = {entry for entry in self.hidden if entry[1] != channel.cid}
        channel = self.put(attrs.evolve(channel, last_message_at=now))
        self.events.emit(events.message_new(channel, message, self.users.get, now))
        parent = next((m for m in self.messages[key] if m.id == message.parent_id), None)
        if parent is not None:
            # As Stream does: the thread's parent, with its new reply_count, for every list
            # that shows it ("1 reply").
            self.events.emit(
                events.message_changed("message.updated", channel, parent, self.users.get, now)
            )
        return channel
