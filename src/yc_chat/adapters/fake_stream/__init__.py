"""An in-memory Stream Chat: the simulation (`sim`), and a ChatProvider on top of it."""

from yc_chat.adapters.fake_stream.provider import FakeStreamChatProvider
from yc_chat.adapters.fake_stream.sim import (
    Clock,
    EventListener,
    StreamAPIError,
    StreamChannel,
    StreamMember,
    StreamMessage,
    StreamState,
    StreamUser,
)

__all__ = [
    "Clock",
    "EventListener",
    "FakeStreamChatProvider",
    "StreamAPIError",
    "StreamChannel",
    "StreamMember",
    "StreamMessage",
    "StreamState",
    "StreamUser",
]
