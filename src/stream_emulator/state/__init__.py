"""Stream Chat's state and rules, one module per resource: one app's data, in Stream's own
terms, and the API operations on it (no HTTP here; `stream_emulator.api` serves them).

Shared by every resource: `records` (the data), `store` (the invariants), `parsing`,
`filters`, `permissions`, `errors`, `events`, `payloads` (Stream's JSON), `faults`.
Per resource: `users`, `channels`, `messages`, `visibility` (hide/show, mutes), `uploads`,
`realtime` (websocket connections, watchers, read state); `stream_state.StreamState` puts
the operations behind one object, which yc_chat's in-process ChatProvider
(`yc_chat.adapters.fake_stream`) drives directly.
"""

from stream_emulator.state.errors import StreamAPIError
from stream_emulator.state.events import Event, EventListener
from stream_emulator.state.records import (
    Clock,
    StreamChannel,
    StreamMember,
    StreamMessage,
    StreamUser,
    system_clock,
)
from stream_emulator.state.stream_state import StreamState

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
