"""StreamState: one simulated Stream Chat app, and the API operations on it.

This is the state behind the fake chat provider and the Stream REST API emulator, so it
behaves like Stream where our code could tell the difference: the same validation, the same
error codes, the same limits. It is not a test spy: nothing here records calls.

Choices where Stream's behaviour is undocumented or we need one answer:

- Sending a message (`send_message`) into a frozen channel is `403` / code 17.
- A message attached to a channel update or a membership change is part of that server-side
  operation: it is posted (as type `system`) even when the channel is frozen, and before the
  update's `frozen` takes effect, so a "chat closed" notice always lands.
- `query_channels` sorts a channel without messages by its `created_at` when sorting by
  `last_message_at`; ties keep creation order (newest first when the first sort is
  descending).
- Read-only channel fields (`cid`, `member_count`, `created_at`, ...) in update data are an
  input error rather than silently dropped, so an adapter that sends them is caught.
- Permissions are checked only for client-side calls (a request made with a user token):
  the channel type's grants (`channel_types`, `permissions`), as Stream checks them.
- A full update whose data leaves `config_overrides` out keeps the channel's overrides;
  a partial `set` replaces them and `unset` clears them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from stream_emulator.state import payloads
from stream_emulator.state.access_control import AccessControlOperations
from stream_emulator.state.channel_actions import ChannelActions
from stream_emulator.state.channel_types import ChannelTypeOperations
from stream_emulator.state.channels import ChannelOperations
from stream_emulator.state.events import EventListener
from stream_emulator.state.member_roles import MemberRoleOperations
from stream_emulator.state.messages import MessageOperations
from stream_emulator.state.records import (
    Clock,
    StreamChannel,
    StreamMessage,
    StreamUser,
    system_clock,
)
from stream_emulator.state.store import Store
from stream_emulator.state.user_actions import UserActions
from stream_emulator.state.users import UserOperations
from stream_emulator.state.visibility import VisibilityOperations


class StreamState(
    UserOperations,
    UserActions,
    ChannelOperations,
    ChannelActions,
    MemberRoleOperations,
    ChannelTypeOperations,
    AccessControlOperations,
    MessageOperations,
    VisibilityOperations,
):
    """One Stream Chat app held in memory; every API operation raises `StreamAPIError`.

    The API operations come from `UserOperations`, `ChannelOperations`,
    `ChannelTypeOperations`, `MessageOperations` and `VisibilityOperations`; this class adds
    the failure switches, event subscription and inspection that are not API calls.
    """

    def __init__(self, *, clock: Clock = system_clock) -> None:
        self._store = Store(clock)

    # -- failure switch and events ---------------------------------------------------------

    def fail_next(self, count: int = 1, *, status_code: int = 503, message: str = "") -> None:
        """Make the next `count` API operations fail with `status_code`, as Stream would."""
        self._store.faults.fail_next(count, status_code=status_code, message=message)

    def set_unavailable(self, unavailable: bool = True) -> None:
        """While set, every API operation fails with 503 (Stream unreachable)."""
        self._store.faults.set_unavailable(unavailable)

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call `listener` with each Stream-shaped event; returns the unsubscribe function."""
        return self._store.events.subscribe(listener)

    # -- inspection (not API operations: never fail, never emit) ---------------------------

    def now(self) -> datetime:
        """The app's current time, from its clock, in UTC."""
        return self._store.now()

    def user(self, user_id: str) -> StreamUser | None:
        """The user, or None."""
        return self._store.users.get(user_id)

    def channel(self, channel_type: str, channel_id: str) -> StreamChannel | None:
        """The channel, or None."""
        return self._store.channels.get((channel_type, channel_id))

    def all_channels(self) -> list[StreamChannel]:
        """Every channel, in creation order."""
        return list(self._store.channels.values())

    def message_exists(self, message_id: str) -> bool:
        """Whether a message with this id exists."""
        return message_id in self._store.message_ids

    def channels_of(self, user_id: str) -> list[StreamChannel]:
        """The channels the user is a member of, in creation order."""
        return [c for c in self._store.channels.values() if c.member(user_id) is not None]

    def messages(self, channel_type: str, channel_id: str) -> tuple[StreamMessage, ...]:
        """The channel's messages, oldest first."""
        return tuple(self._store.messages.get((channel_type, channel_id), ()))

    def channel_state(
        self,
        channel: StreamChannel,
        *,
        message_limit: int = 25,
        member_limit: int | None = 100,
        member_offset: int = 0,
        reader: str | None = None,
    ) -> dict[str, object]:
        """The channel as Stream's query endpoints answer it: channel, members, messages
        (for a `reader`, without the history they cleared)."""
        messages = self.messages(channel.type, channel.id)
        if reader is not None:
            messages = self.visible_messages(reader, channel, messages)
        return payloads.channel_state(
            channel,
            messages,
            self._store.users.get,
            message_limit=message_limit,
            member_limit=member_limit,
            member_offset=member_offset,
            reader=reader,
        )

    def app_settings(self) -> dict[str, object]:
        """A minimal answer of Stream's app endpoint; callers use it as a health check."""
        self._store.faults.gate()
        return {"app": {"name": "yc-chat fake stream", "channel_configs": {}}}
