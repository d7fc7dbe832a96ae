"""A simulation of Stream Chat: one app's state, in Stream's own terms, and its API operations.

It imports nothing else from yc_chat (an import-linter contract keeps it so): it holds its
own knowledge of Stream, so it can catch an adapter that gets Stream wrong. The ChatProvider
over it (`yc_chat.adapters.fake_stream.provider`) and the REST emulator
(`yc_chat.entrypoints.stream_emulator`) sit beside it.
"""

from yc_chat.adapters.fake_stream.sim.errors import StreamAPIError
from yc_chat.adapters.fake_stream.sim.events import Event, EventListener
from yc_chat.adapters.fake_stream.sim.records import (
    Clock,
    StreamChannel,
    StreamMember,
    StreamMessage,
    StreamUser,
    system_clock,
)
from yc_chat.adapters.fake_stream.sim.state import StreamState

__all__ = [
    "Clock",
    "Event",
    "EventListener",
    "StreamAPIError",
    "StreamChannel",
    "StreamMember",
    "StreamMessage",
    "StreamState",
    "StreamUser",
    "system_clock",
]
