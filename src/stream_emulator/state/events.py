"""Events: what the simulated Stream announces, in Stream's webhook/websocket shapes.

`EventBus` hands each event to its listeners synchronously, on the thread that changed the
state; the emulator's webhook dispatcher (and any realtime layer) subscribes to it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from stream_emulator.state import payloads
from stream_emulator.state.records import (
    StreamChannel,
    StreamMember,
    StreamMessage,
    StreamReaction,
    StreamUser,
)

Event = dict[str, object]
EventListener = Callable[[Event], None]


class EventBus:
    """Listeners of the simulation's events."""

    def __init__(self) -> None:
        self._listeners: list[EventListener] = []

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call `listener` with each event; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, event: Event) -> None:
        """Hand `event` to every listener, in subscription order."""
        for listener in list(self._listeners):
            listener(event)


def user_updated(user: StreamUser, now: datetime) -> Event:
    """`user.updated`: an existing user was replaced or partly updated."""
    return {
        "type": "user.updated",
        "user": payloads.user(user),
        "created_at": payloads.format_time(now),
    }


def message_new(
    channel: StreamChannel, message: StreamMessage, lookup: payloads.UserLookup, now: datetime
) -> Event:
    """`message.new`: a message was posted in `channel`."""
    return {
        "type": "message.new",
        "cid": channel.cid,
        "channel_id": channel.id,
        "channel_type": channel.type,
        "message": payloads.message(message, lookup),
        "user": payloads.user_or_id(message.user_id, lookup),
        "watcher_count": 0,
        "created_at": payloads.format_time(now),
    }


def _about(channel: StreamChannel) -> Event:
    return {"cid": channel.cid, "channel_id": channel.id, "channel_type": channel.type}


def channel_deleted(channel: StreamChannel, lookup: payloads.UserLookup, now: datetime) -> Event:
    """`channel.deleted`: `channel` (as it was, with its members) was hard-deleted."""
    channel_json = payloads.channel(channel, lookup)
    # The members it had: they are told even when not watching (notification.channel_deleted).
    channel_json["members"] = payloads.members(channel, lookup)
    return {
        "type": "channel.deleted",
        **_about(channel),
        "channel": channel_json,
        "created_at": payloads.format_time(now),
    }


def channel_updated(channel: StreamChannel, lookup: payloads.UserLookup, now: datetime) -> Event:
    """`channel.updated`: data, `frozen` or settings of `channel` changed."""
    return {
        "type": "channel.updated",
        **_about(channel),
        "channel": payloads.channel(channel, lookup),
        "created_at": payloads.format_time(now),
    }


def member_changed(
    kind: str,
    channel: StreamChannel,
    member: StreamMember,
    lookup: payloads.UserLookup,
    now: datetime,
) -> Event:
    """`member.added` or `member.removed` (`kind`): `member` joined or left `channel`."""
    return {
        "type": kind,
        **_about(channel),
        "member": payloads.member(member, lookup),
        "user": payloads.user_or_id(member.user_id, lookup),
        "created_at": payloads.format_time(now),
    }


def message_changed(
    kind: str,
    channel: StreamChannel,
    message: StreamMessage,
    lookup: payloads.UserLookup,
    now: datetime,
) -> Event:
    """`message.updated` or `message.deleted` (`kind`): `message` in `channel` changed."""
    return {
        "type": kind,
        **_about(channel),
        "message": payloads.message(message, lookup),
        "user": payloads.user_or_id(message.user_id, lookup),
        "created_at": payloads.format_time(now),
    }


def reaction_changed(
    kind: str,
    channel: StreamChannel,
    message: StreamMessage,
    reaction: StreamReaction,
    lookup: payloads.UserLookup,
    now: datetime,
) -> Event:
    """`reaction.new` or `reaction.deleted` (`kind`) on `message`."""
    return {
        "type": kind,
        **_about(channel),
        "message": payloads.message(message, lookup),
        "reaction": payloads.reaction(reaction, lookup),
        "user": payloads.user_or_id(reaction.user_id, lookup),
        "created_at": payloads.format_time(now),
    }
