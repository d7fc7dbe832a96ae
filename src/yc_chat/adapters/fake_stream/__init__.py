"""yc_chat's in-process Stream: a ChatProvider over the Stream emulator's state.

The state is `stream_emulator.state` (its own package, beside yc_chat); this adapter drives it
directly, without HTTP, for the in-memory composition and the domain tests.
"""

from stream_emulator.state import (
    Clock,
    EventListener,
    StreamAPIError,
    StreamChannel,
    StreamMember,
    StreamMessage,
    StreamState,
    StreamUser,
)
from yc_chat.adapters.fake_stream.provider import FakeStreamChatProvider, set_up_app

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
    "set_up_app",
]
