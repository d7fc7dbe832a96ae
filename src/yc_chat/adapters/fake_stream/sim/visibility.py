"""Hiding a channel from one member's channel list, as Stream's hide/show do.

A hidden channel is left out of that user's QueryChannels (unless they filter for
`hidden: true`) until they show it again or anyone posts a new message in it. With
`clear_history` the messages up to the hide stay out of that user's channel state for good.
Hiding is the user's own view, not a write to the channel, so a frozen channel may be hidden.
"""

from __future__ import annotations

from collections.abc import Sequence

from yc_chat.adapters.fake_stream.sim.errors import input_error, not_allowed
from yc_chat.adapters.fake_stream.sim.records import StreamChannel, StreamMessage
from yc_chat.adapters.fake_stream.sim.store import Store


class VisibilityOperations:
    """Hide and show a channel for one member; mixed into `StreamState`."""

    _store: Store

    def hide_channel(
        self, channel_type: str, channel_id: str, *, user_id: str, clear_history: bool = False
    ) -> StreamChannel:
        """Hide the channel from `user_id`'s channel list (they must be a member)."""
        channel = self._member_channel("HideChannel", channel_type, channel_id, user_id)
        self._store.hidden.add((user_id, channel.cid))
        if clear_history:
            self._store.cleared[(user_id, channel.cid)] = self._store.now()
        return channel

    def show_channel(self, channel_type: str, channel_id: str, *, user_id: str) -> StreamChannel:
        """List the channel for `user_id` again (showing a visible channel changes nothing)."""
        channel = self._member_channel("ShowChannel", channel_type, channel_id, user_id)
        self._store.hidden.discard((user_id, channel.cid))
        return channel

    def is_hidden(self, user_id: str, channel: StreamChannel) -> bool:
        """Whether `user_id` has hidden the channel (inspection, never fails)."""
        return (user_id, channel.cid) in self._store.hidden

    def visible_messages(
        self, user_id: str, channel: StreamChannel, messages: Sequence[StreamMessage]
    ) -> tuple[StreamMessage, ...]:
        """The messages `user_id` still sees: those after their last cleared history."""
        cleared = self._store.cleared.get((user_id, channel.cid))
        if cleared is None:
            return tuple(messages)
        return tuple(m for m in messages if m.created_at > cleared)

    def _member_channel(
        self, endpoint: str, channel_type: str, channel_id: str, user_id: str
    ) -> StreamChannel:
        self._store.faults.gate()
        if user_id not in self._store.users:
            raise input_error(endpoint, f"user {user_id} does not exist")
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        if channel.member(user_id) is None:
            raise not_allowed(
                endpoint, f"User '{user_id}' is not allowed to perform action {endpoint}"
            )
        return channel
