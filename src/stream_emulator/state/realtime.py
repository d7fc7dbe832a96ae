"""Stream's realtime side: websocket connections, watchers, read state and event fan-out.

One `Realtime` hub per emulator, living on the emulator's event loop. It listens to the
Stream state's events (whatever caused them: a REST call as the server or as a user) and
routes each as Stream does:

- to every connection watching the event's channel (`watch: true` on a channel query,
  dropped on `stop-watching` or when the connection closes);
- as `notification.*` to members who are connected but not watching that channel
  (`notification.message_new`, `notification.added_to_channel`, ...);
- a thread reply also goes to the thread's other participants as
  `notification.thread_message_new`;
- `message.new` counts as unread for every member but the sender until they mark the
  channel read; the counts ride on events and on the connection's `me`.

Frames go out through one queue per connection, so a slow client never blocks the state.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from stream_emulator.state import StreamChannel, StreamState, payloads
from stream_emulator.state.reads import Connection as Connection
from stream_emulator.state.reads import Frame, ReadMark, ReadState
from stream_emulator.state.users import REVOKED_CLOSE_CODE, revoked


def _split_cid(cid: str) -> tuple[str, str]:
    channel_type, _, channel_id = cid.partition(":")
    return channel_type, channel_id


class Realtime(ReadState):
    """Connections, watchers and read state of one emulated app; see the module docstring."""

    def __init__(self, state: StreamState) -> None:
        self._state = state
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._connections: dict[str, Connection] = {}
        self._reads: dict[tuple[str, str], ReadMark] = {}
        self._ids = itertools.count(1)

    # -- lifecycle ------------------------------------------------------------------------

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on `loop` (the emulator's); events from other threads are handed over."""
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def reset(self, state: StreamState) -> None:
        """Serve a fresh app: every connection is dropped (clients reconnect), reads forgotten."""
        self._run(lambda: self._reset(state))

    def _reset(self, state: StreamState) -> None:
        self._state = state
        self._reads.clear()
        self.drop_all(code=1012, reason="the emulator was reset")

    def _run(self, action: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread or loop.is_closed():
            action()
        else:
            loop.call_soon_threadsafe(action)

    # -- connections ----------------------------------------------------------------------

    def open(self, user_id: str, *, issued_at: float | None = None) -> Connection:
        """Register a new connection for `user_id` (authenticated, token `iat` issued_at)."""
        connection_id = f"{uuid.uuid4()}--{next(self._ids)}"
        connection = Connection(
            id=connection_id, user_id=user_id, outbox=asyncio.Queue(), issued_at=issued_at
        )
        first = not self.is_online(user_id)
        self._connections[connection.id] = connection
        if first:
            self._presence(user_id, online=True)
        return connection

    def close(self, connection: Connection) -> None:
        """Forget a closed connection and everything it watched."""
        if self._connections.pop(connection.id, None) is None:
            return
        for cid in sorted(connection.watching):
            if connection.user_id not in self.watcher_ids(cid):
                self._watching_event("user.watching.stop", cid, connection.user_id)
        if not self.is_online(connection.user_id):
            self._presence(connection.user_id, online=False)

    def connection(self, connection_id: str | None, user_id: str) -> Connection | None:
        """The user's own open connection with this id, or None."""
        if connection_id is None:
            return None
        found = self._connections.get(connection_id)
        return found if found is not None and found.user_id == user_id else None

    def is_online(self, user_id: str) -> bool:
        """Whether the user has at least one open connection."""
        return any(c.user_id == user_id for c in self._connections.values())

    def drop_all(self, *, code: int = 1012, reason: str = "dropped by the emulator") -> int:
        """Close every connection from the server side (as a restart would); how many."""
        dropped = list(self._connections.values())
        for connection in dropped:
            connection.outbox.put_nowait((code, reason))
        return len(dropped)

    # -- watching -------------------------------------------------------------------------

    def watch(self, connection: Connection, cid: str) -> None:
        """The connection receives the channel's events from now on; the other watchers
        hear `user.watching.start` when the user was not watching yet."""
        started = connection.user_id not in self.watcher_ids(cid)
        connection.watching.add(cid)
        if started:
            self._watching_event("user.watching.start", cid, connection.user_id)

    def stop_watching(self, connection: Connection, cid: str) -> None:
        """The connection no longer receives the channel's events (`user.watching.stop` to
        the rest when no other connection of the user watches it)."""
        if cid not in connection.watching:
            return
        connection.watching.discard(cid)
        if connection.user_id not in self.watcher_ids(cid):
            self._watching_event("user.watching.stop", cid, connection.user_id)

    def _watching_event(self, kind: str, cid: str, user_id: str) -> None:
        event: Frame = {
            **self._channel_fields(cid),
            "type": kind,
            "user": payloads.user_or_id(user_id, self._state.user),
            "watcher_count": len(self.watcher_ids(cid)),
            "created_at": payloads.format_time(self._state.now()),
        }
        for connection in self.watchers(cid):
            if connection.user_id != user_id:
                connection.send(event)

    def watchers(self, cid: str) -> list[Connection]:
        """Connections watching the channel whose user is (still) a member: checked on every
        event, as REST checks it, so a removed user's socket gets nothing more of it."""
        channel = self._state.channel(*_split_cid(cid))
        members = {m.user_id for m in channel.members} if channel is not None else set()
        return [c for c in self._connections.values() if cid in c.watching and c.user_id in members]

    def connection_count(self, user_id: str) -> int:
        """How many connections the user has open."""
        return sum(c.user_id == user_id for c in self._connections.values())

    def watcher_ids(self, cid: str) -> list[str]:
        """Distinct users watching the channel, in connection order."""
        return list(dict.fromkeys(c.user_id for c in self.watchers(cid)))

    def me(self, user_id: str) -> Frame:
        """The connected user as the first `health.check` carries it (`OwnUser`)."""
        user = self._state.user(user_id)
        body: Frame = payloads.full_user(user) if user is not None else {"id": user_id}
        body.update(self.unread_counts(user_id))
        body.update({"online": True, "unread_count": body["total_unread_count"]})
        body["channel_mutes"] = self.channel_mutes_json(user_id)
        lookup = self._state.user
        body["mutes"] = [payloads.user_mute(m, lookup) for m in self._state.user_mutes(user_id)]
        return body

    def channel_mutes_json(self, user_id: str) -> list[Frame]:
        """The user's channel mutes in force, as `OwnUser.channel_mutes` lists them."""
        found = []
        for mute in self._state.channel_mutes(user_id):
            channel = self._state.channel(*_split_cid(mute.cid))
            if channel is not None:
                found.append(payloads.channel_mute(mute, channel, self._state.user))
        return found

    # -- channel payloads for users ---------------------------------------------------------

    def capabilities(self, channel: StreamChannel, user_id: str) -> list[str]:
        """`own_capabilities`: what the user may do in the channel (grants, settings, state)."""
        return self._state.capabilities(channel, user_id)

    def channel_config(self, channel: StreamChannel) -> Frame:
        """The type's configuration with the channel's overrides applied."""
        return self._state.channel_config(channel)

    def for_user(self, body: Frame, channel: StreamChannel, user_id: str | None) -> Frame:
        """A channel-state answer completed with what a user's client reads from it."""
        channel_json = body.get("channel")
        if isinstance(channel_json, dict):
            channel_json["config"] = self.channel_config(channel)
            if user_id is not None:
                channel_json["own_capabilities"] = self.capabilities(channel, user_id)
                mute = self._state.channel_mute(user_id, channel)
                channel_json["muted"] = mute is not None
                if mute is not None and mute.expires is not None:
                    channel_json["mute_expires_at"] = payloads.format_time(mute.expires)
                channel_json["hidden"] = self._state.is_hidden(user_id, channel)
        body["read"] = self.read_json(channel)
        watchers = self.watcher_ids(channel.cid)
        body["watcher_count"] = len(watchers)
        body["watchers"] = [payloads.user_or_id(uid, self._state.user) for uid in watchers]
        if user_id is not None:
            member = channel.member(user_id)
            if member is not None:
                body["membership"] = payloads.member(member, self._state.user)
        return body

    # -- events ---------------------------------------------------------------------------

    def publish(self, event: Mapping[str, object]) -> None:
        """Route one event of the state (from any thread) to the connections it concerns."""
        copied = dict(event)
        self._run(lambda: self._route(copied))

    def send_channel_event(self, channel: StreamChannel, user_id: str, event: Frame) -> Frame:
        """A client event (`typing.start`, custom ones) to the channel's watchers."""
        full: Frame = {
            **event,
            **self._channel_fields(channel.cid),
            "user": payloads.user_or_id(user_id, self._state.user),
            "created_at": payloads.format_time(self._state.now()),
        }
        for connection in self.watchers(channel.cid):
            connection.send(full)
        return full

    def send_to_user(self, user_id: str, event: Frame) -> None:
        """An event about the user's own view (mutes, hidden channels) to their connections."""
        full = {**event, "created_at": payloads.format_time(self._state.now())}
        for connection in list(self._connections.values()):
            if connection.user_id == user_id:
                connection.send(full)

    def _route(self, event: Frame) -> None:
        kind = event.get("type")
        cid = event.get("cid")
        if kind == "message.new" and isinstance(cid, str):
            self._message_new(cid, event)
        elif kind in ("member.added", "member.removed") and isinstance(cid, str):
            self._membership(cid, event)
        elif isinstance(kind, str) and kind.startswith("notification.invite"):
            self._to_member(event)
        elif kind in ("channel.deleted", "channel.truncated") and isinstance(cid, str):
            self._to_watchers_and_members(cid, event, f"notification.{kind.replace('.', '_')}")
        elif isinstance(cid, str):
            for connection in self.watchers(cid):
                connection.send(event)
        elif kind == "user.updated":
            self._close_revoked(event)
            self._to_everyone(event)

    def _message_new(self, cid: str, event: Frame) -> None:
        channel = self._state.channel(*_split_cid(cid))
        if channel is None:
            return
        message = event.get("message")
        sender = message.get("user") if isinstance(message, Mapping) else None
        sender_id = sender.get("id") if isinstance(sender, Mapping) else None
        # A thread reply counts in its thread, not in the channel (unless also shown there);
        # a silent message counts nowhere (Stream: silent messages leave unread counts alone).
        in_channel = not isinstance(message, Mapping) or (
            (message.get("parent_id") is None or message.get("show_in_channel") is True)
            and message.get("silent") is not True
        )
        for member in channel.members:
            if member.user_id != sender_id and in_channel:
                self.read_mark(member.user_id, channel).unread_messages += 1
        watcher_count = len(self.watcher_ids(cid))
        base = {**event, "watcher_count": watcher_count}
        notified = self._channel_json(channel)
        if isinstance(message, Mapping) and isinstance(message.get("parent_id"), str):
            self._thread_message_new(channel, {**base, "channel": notified}, sender_id)
        for connection in list(self._connections.values()):
            if channel.member(connection.user_id) is None:
                continue  # not (or no longer) a member: nothing of the channel reaches them
            counts = self.unread_counts(connection.user_id)
            if cid in connection.watching:
                connection.send({**base, **counts})
            else:
                connection.send(
                    {**base, **counts, "type": "notification.message_new", "channel": notified}
                )

    def _thread_message_new(self, channel: StreamChannel, event: Frame, sender_id: object) -> None:
        """A reply, for the thread's other participants (its parent's author and those who
        replied) as `notification.thread_message_new`: the kits' thread list marks the
        thread as unseen or stale on it."""
        message = event["message"]
        assert isinstance(message, Mapping)
        parent_id = message["parent_id"]
        thread = [
            m
            for m in self._state.messages(channel.type, channel.id)
            if m.id == parent_id or m.parent_id == parent_id
        ]
        participants = {m.user_id for m in thread} - {sender_id}
        notice: Frame = {
            **event,
            "type": "notification.thread_message_new",
            "thread_id": parent_id,
            "message_id": message.get("id"),
        }
        for connection in list(self._connections.values()):
            if connection.user_id in participants and channel.member(connection.user_id):
                connection.send(notice)

    def _membership(self, cid: str, event: Frame) -> None:
        member = event.get("member")
        user_id = member.get("user_id") if isinstance(member, Mapping) else None
        added = event.get("type") == "member.added"
        for connection in self._connections.values():
            if not added and connection.user_id == user_id:
                connection.watching.discard(cid)  # removed: told below, then nothing more
        for connection in self.watchers(cid):
            connection.send(event)
        if not isinstance(user_id, str):
            return
        channel = self._state.channel(*_split_cid(cid))
        notice: Frame = {
            **event,
            "type": "notification.added_to_channel"
            if added
            else "notification.removed_from_channel",
        }
        if channel is not None:
            notice["channel"] = self._channel_json(channel)
        for connection in self._connections.values():
            if connection.user_id == user_id and cid not in connection.watching:
                connection.send(notice)

    def _to_member(self, event: Frame) -> None:
        """An invitation's news, for the invitee's own connections."""
        member = event.get("member")
        user_id = member.get("user_id") if isinstance(member, Mapping) else None
        for connection in self._connections.values():
            if connection.user_id == user_id:
                connection.send(event)

    def _to_watchers_and_members(self, cid: str, event: Frame, notification: str) -> None:
        channel = event.get("channel")
        members = channel.get("members") if isinstance(channel, Mapping) else None
        member_ids = {
            member.get("user_id")
            for member in (members if isinstance(members, list) else [])
            if isinstance(member, Mapping)
        }
        for connection in self._connections.values():
            if cid in connection.watching:
                connection.send(event)
            elif connection.user_id in member_ids:
                connection.send({**event, "type": notification})
            if event.get("type") == "channel.deleted":
                connection.watching.discard(cid)

    def _close_revoked(self, event: Frame) -> None:
        """Close the user's sockets whose token a revocation now refuses."""
        user = event.get("user")
        user_id = user.get("id") if isinstance(user, Mapping) else None
        cut_off = self._state.tokens_revoked_before(user_id) if isinstance(user_id, str) else None
        for connection in list(self._connections.values()):
            if connection.user_id == user_id and revoked(connection.issued_at, cut_off):
                connection.outbox.put_nowait((REVOKED_CLOSE_CODE, "token revoked"))

    def _to_everyone(self, event: Frame) -> None:
        for connection in self._connections.values():
            connection.send(event)

    def _presence(self, user_id: str, *, online: bool) -> None:
        self._state.set_presence(user_id, online=online)
        user = self._state.user(user_id)
        user_json: Frame = payloads.user(user) if user is not None else {"id": user_id}
        user_json["online"] = online
        event: Frame = {
            "type": "user.presence.changed",
            "user": user_json,
            "created_at": payloads.format_time(self._state.now()),
        }
        for connection in self._connections.values():
            if connection.user_id != user_id and self._shares_a_channel(connection, user_id):
                connection.send(event)

    def _shares_a_channel(self, connection: Connection, user_id: str) -> bool:
        for cid in connection.watching:
            channel = self._state.channel(*_split_cid(cid))
            if channel is not None and channel.member(user_id) is not None:
                return True
        return False

    def _channel_json(self, channel: StreamChannel) -> Frame:
        body = payloads.channel(channel, self._state.user)
        body["config"] = self.channel_config(channel)
        return body

    @staticmethod
    def _channel_fields(cid: str) -> Frame:
        channel_type, channel_id = _split_cid(cid)
        return {"cid": cid, "channel_type": channel_type, "channel_id": channel_id}


def health_check(connection: Connection, *, me: Frame | None, now: datetime) -> Frame:
    """Stream's `health.check` event: the first frame (with `me`) and each heartbeat answer."""
    frame: Frame = {
        "type": "health.check",
        "connection_id": connection.id,
        "cid": "*",
        "created_at": payloads.format_time(now),
    }
    if me is not None:
        frame["me"] = me
    return frame
