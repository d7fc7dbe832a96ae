"""Read state of the realtime side: where each member stands in each channel, the unread
counts that ride on events, and the read events (`message.read` to the channel's watchers,
`notification.mark_read` to the reader's own connections, as Stream sends them).

`ReadState` is mixed into `Realtime`, which owns the connections and the watchers.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import attrs

from stream_emulator.state import StreamChannel, StreamState, payloads
from stream_emulator.state.errors import does_not_exist

Frame = dict[str, object]
# Sent down a connection's queue to make the server close it (close code, reason).
CloseRequest = tuple[int, str]


@attrs.define
class ReadMark:
    """Where one member stands in one channel."""

    last_read: datetime
    unread_messages: int = 0
    last_read_message_id: str | None = None


@attrs.define(eq=False)
class Connection:
    """One open websocket: its user, the channels it watches and its outgoing frames."""

    id: str
    user_id: str
    outbox: asyncio.Queue[Frame | CloseRequest]
    watching: set[str] = attrs.field(factory=set)
    issued_at: float | None = None  # its token's `iat`

    def send(self, frame: Frame) -> None:
        """Queue a frame; the connection's sender writes it out in order."""
        self.outbox.put_nowait(frame)


class ReadState:
    """Members' read marks and the read events; see the module docstring."""

    _state: StreamState
    _reads: dict[tuple[str, str], ReadMark]
    _connections: dict[str, Connection]

    def watchers(self, cid: str) -> list[Connection]:
        """Connections watching the channel (`Realtime` defines it)."""
        raise NotImplementedError

    def _channel_json(self, channel: StreamChannel) -> Frame:
        raise NotImplementedError

    @staticmethod
    def _channel_fields(cid: str) -> Frame:
        raise NotImplementedError

    # -- read state -----------------------------------------------------------------------

    def read_mark(self, user_id: str, channel: StreamChannel) -> ReadMark:
        """The member's read state; a member who never read has read up to joining."""
        key = (user_id, channel.cid)
        mark = self._reads.get(key)
        if mark is None:
            member = channel.member(user_id)
            joined = member.created_at if member is not None else channel.created_at
            mark = ReadMark(last_read=joined)
            self._reads[key] = mark
        return mark

    def mark_read(self, user_id: str, channel: StreamChannel, message_id: str | None) -> Frame:
        """Mark the channel read for the user; announce it; returns the `message.read` event."""
        messages = self._state.messages(channel.type, channel.id)
        last_id = message_id or (messages[-1].id if messages else None)
        now = self._state.now()
        mark = self.read_mark(user_id, channel)
        mark.last_read, mark.unread_messages, mark.last_read_message_id = now, 0, last_id
        event: Frame = {
            **self._channel_fields(channel.cid),
            "type": "message.read",
            "user": payloads.user_or_id(user_id, self._state.user),
            "created_at": payloads.format_time(now),
            "last_read_message_id": last_id,
        }
        counts = self.unread_counts(user_id)
        for connection in self.watchers(channel.cid):
            connection.send({**event, **counts} if connection.user_id == user_id else event)
        # As Stream: the reader's own connections hear it whether or not they watch the
        # channel (the UI kits clear the channel's unread badge on this one).
        notice: Frame = {
            **event,
            **counts,
            "type": "notification.mark_read",
            "unread_count": 0,
            "channel": self._channel_json(channel),
        }
        for connection in list(self._connections.values()):
            if connection.user_id == user_id:
                connection.send(notice)
        return event

    def mark_all_read(self, user_id: str) -> Frame:
        """Mark every channel of the user read (MarkChannelsRead without channels): each
        channel's watchers hear `message.read`, the user's connections one
        `notification.mark_read` without a channel (the SDKs then zero every badge)."""
        now = self._state.now()
        for channel in self._state.channels_of(user_id):
            messages = self._state.messages(channel.type, channel.id)
            mark = self.read_mark(user_id, channel)
            mark.last_read, mark.unread_messages = now, 0
            mark.last_read_message_id = messages[-1].id if messages else None
            event: Frame = {
                **self._channel_fields(channel.cid),
                "type": "message.read",
                "user": payloads.user_or_id(user_id, self._state.user),
                "created_at": payloads.format_time(now),
                "last_read_message_id": mark.last_read_message_id,
            }
            for connection in self.watchers(channel.cid):
                connection.send(event)
        notice: Frame = {
            "type": "notification.mark_read",
            "user": payloads.user_or_id(user_id, self._state.user),
            "created_at": payloads.format_time(now),
            "unread_count": 0,
            **self.unread_counts(user_id),
        }
        for connection in list(self._connections.values()):
            if connection.user_id == user_id:
                connection.send(notice)
        return notice

    def unread_counts(self, user_id: str) -> Frame:
        """The user's `total_unread_count` and `unread_channels`, as Stream reports them."""
        total = channels = 0
        for (reader, _), mark in self._reads.items():
            if reader == user_id and mark.unread_messages:
                total += mark.unread_messages
                channels += 1
        return {"total_unread_count": total, "unread_channels": channels}

    def read_json(self, channel: StreamChannel) -> list[Frame]:
        """A channel's `read` list: one entry per member."""
        return [
            {
                "user": payloads.user_or_id(member.user_id, self._state.user),
                "last_read": payloads.format_time(mark.last_read),
                "unread_messages": mark.unread_messages,
                "last_read_message_id": mark.last_read_message_id,
            }
            for member in channel.members
            for mark in (self.read_mark(member.user_id, channel),)
        ]

    def mark_unread(self, user_id: str, channel: StreamChannel, message_id: str) -> Frame:
        """The user has read only the messages before `message_id`: the rest count as unread
        again; their connections hear `notification.mark_unread`."""
        messages = [
            m for m in self._state.messages(channel.type, channel.id) if m.parent_id is None
        ]
        ids = [m.id for m in messages]
        if message_id not in ids:
            raise does_not_exist("MarkUnread", f"message {message_id} does not exist here")
        index = ids.index(message_id)
        mark = self.read_mark(user_id, channel)
        unread = [m for m in messages[index:] if m.user_id != user_id and not m.silent]
        mark.unread_messages = len(unread)
        mark.last_read_message_id = ids[index - 1] if index > 0 else None
        mark.last_read = messages[index].created_at - timedelta(microseconds=1)
        event: Frame = {
            **self._channel_fields(channel.cid),
            "type": "notification.mark_unread",
            "user": payloads.user_or_id(user_id, self._state.user),
            "created_at": payloads.format_time(self._state.now()),
            "first_unread_message_id": message_id,
            "last_read_message_id": mark.last_read_message_id,
            "last_read_at": payloads.format_time(mark.last_read),
            "unread_messages": mark.unread_messages,
            "unread_count": mark.unread_messages,
            **self.unread_counts(user_id),
        }
        for connection in list(self._connections.values()):
            if connection.user_id == user_id:
                connection.send(event)
        return event

    def unread_report(self, user_id: str) -> Frame:
        """UnreadCounts: the user's unread messages per channel and per channel type, and
        the threads they take part in whose newest reply is someone else's."""
        channels: list[Frame] = []
        by_type: dict[str, dict[str, int]] = {}
        threads: list[Frame] = []
        for channel in self._state.channels_of(user_id):
            mark = self.read_mark(user_id, channel)
            if mark.unread_messages:
                channels.append(
                    {
                        "channel_id": channel.cid,
                        "unread_count": mark.unread_messages,
                        "last_read": payloads.format_time(mark.last_read),
                    }
                )
                kind = by_type.setdefault(channel.type, {"channel_count": 0, "unread_count": 0})
                kind["channel_count"] += 1
                kind["unread_count"] += mark.unread_messages
            threads.extend(self._unread_threads(user_id, channel))
        return {
            "total_unread_count": sum(int(str(c["unread_count"])) for c in channels),
            "total_unread_threads_count": len(threads),
            "channels": channels,
            "channel_type": [{"channel_type": k, **v} for k, v in by_type.items()],
            "threads": threads,
        }

    def _unread_threads(self, user_id: str, channel: StreamChannel) -> list[Frame]:
        messages = self._state.messages(channel.type, channel.id)
        found: list[Frame] = []
        for parent in messages:
            replies = [m for m in messages if m.parent_id == parent.id]
            taking_part = parent.user_id == user_id or any(m.user_id == user_id for m in replies)
            if not replies or not taking_part or replies[-1].user_id == user_id:
                continue
            own = [i for i, m in enumerate(replies) if m.user_id == user_id]
            unread = len(replies) - (own[-1] + 1 if own else 0)
            found.append(
                {
                    "parent_message_id": parent.id,
                    "unread_count": unread,
                    "last_read": payloads.format_time(
                        replies[own[-1]].created_at if own else parent.created_at
                    ),
                }
            )
        return found
