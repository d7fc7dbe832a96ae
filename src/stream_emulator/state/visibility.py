"""One member's own view of a channel: hide/show and mute/unmute, as Stream's do.

A hidden channel is left out of that user's QueryChannels (unless they filter for
`hidden: true`) until they show it again or anyone posts a new message in it. With
`clear_history` the messages up to the hide stay out of that user's channel state for good.
Hiding is the user's own view, not a write to the channel, so a frozen channel may be hidden.
A mute (optionally for `expiration` milliseconds) is listed in the user's `channel_mutes`;
unmuting a channel that is not muted changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from stream_emulator.state.errors import input_error, not_allowed
from stream_emulator.state.records import (
    StreamChannel,
    StreamChannelMute,
    StreamMessage,
)
from stream_emulator.state.store import Store

# A mute lasts at most about a hundred years.
MAX_MUTE_EXPIRATION_MS: Final = 100 * 365 * 24 * 3600 * 1000


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

    def mute_channels(
        self,
        cids: Sequence[str],
        *,
        user_id: str,
        expiration_ms: int | None = None,
        member_only: bool = True,
    ) -> list[StreamChannelMute]:
        """Mute each channel for `user_id`, who must be a member of all when `member_only`
        (a user's own call: server-side, any channel may be muted for any user)."""
        endpoint = "MuteChannel"
        if not cids:
            raise input_error(endpoint, "channel_cids must name at least one channel")
        if expiration_ms is not None and not 1 <= expiration_ms <= MAX_MUTE_EXPIRATION_MS:
            # Past this, the expiry time would not be a date any more (a 500 otherwise).
            raise input_error(
                endpoint,
                f"expiration must be between 1 and {MAX_MUTE_EXPIRATION_MS} milliseconds",
            )
        channels = [
            self._member_channel(endpoint, *_split(endpoint, cid), user_id, member_only)
            for cid in cids
        ]
        now = self._store.now()
        expires = None if expiration_ms is None else now + timedelta(milliseconds=expiration_ms)
        mutes = [
            StreamChannelMute(user_id=user_id, cid=channel.cid, created_at=now, expires=expires)
            for channel in channels
        ]
        for mute in mutes:
            self._store.channel_mutes[(user_id, mute.cid)] = mute
        return mutes

    def unmute_channels(
        self, cids: Sequence[str], *, user_id: str, member_only: bool = True
    ) -> None:
        """Lift the user's mutes of these channels (`member_only` as for muting)."""
        endpoint = "UnmuteChannel"
        if not cids:
            raise input_error(endpoint, "channel_cids must name at least one channel")
        channels = [
            self._member_channel(endpoint, *_split(endpoint, cid), user_id, member_only)
            for cid in cids
        ]
        for channel in channels:
            self._store.channel_mutes.pop((user_id, channel.cid), None)

    def channel_mutes(self, user_id: str) -> list[StreamChannelMute]:
        """The user's channel mutes still in force (inspection, never fails)."""
        now = self._store.now()
        return [
            mute
            for (owner, _cid), mute in self._store.channel_mutes.items()
            if owner == user_id and (mute.expires is None or mute.expires > now)
        ]

    def channel_mute(self, user_id: str, channel: StreamChannel) -> StreamChannelMute | None:
        """The user's mute of this channel if in force (inspection, never fails)."""
        return next((m for m in self.channel_mutes(user_id) if m.cid == channel.cid), None)

    def _member_channel(
        self,
        endpoint: str,
        channel_type: str,
        channel_id: str,
        user_id: str,
        member_only: bool = True,
    ) -> StreamChannel:
        self._store.faults.gate()
        if user_id not in self._store.users:
            raise input_error(endpoint, f"user {user_id} does not exist")
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        if member_only and channel.member(user_id) is None:
            raise not_allowed(
                endpoint, f"User '{user_id}' is not allowed to perform action {endpoint}"
            )
        return channel


def _split(endpoint: str, cid: str) -> tuple[str, str]:
    channel_type, _, channel_id = cid.partition(":")
    if not channel_type or not channel_id:
        raise input_error(endpoint, f"{cid!r} is not a channel cid (type:id)")
    return channel_type, channel_id
