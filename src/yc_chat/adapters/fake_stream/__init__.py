"""An in-memory Stream Chat: the app state in Stream's terms, and a ChatProvider on top of it."""

from yc_chat.adapters.fake_stream.errors import StreamAPIError
from yc_chat.adapters.fake_stream.model import (
    Clock,
    EventListener,
    StreamChannel,
    StreamMember,
    StreamMessage,
    StreamState,
    StreamUser,
)
from yc_chat.adapters.fake_stream.provider import FakeStreamChatProvider

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
