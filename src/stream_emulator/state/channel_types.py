"""Channel types: GetChannelType, ListChannelTypes, UpdateChannelType (server-side only).

The emulator has Stream's built-in `messaging` and `team` types (channels of other types are
refused). A type holds its settings (what clients read as `channel.config`) and its grants
(`permissions.ChannelTypeGrants`); `UpdateChannelType` changes either. As on Stream, a
role named in `grants` gets exactly that list, and an empty list gives it the defaults back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from stream_emulator.state import permissions
from stream_emulator.state.errors import does_not_exist, not_allowed
from stream_emulator.state.records import StreamChannel
from stream_emulator.state.type_records import ChannelType, updated_type

if TYPE_CHECKING:
    from stream_emulator.state.store import Store


class ChannelTypeOperations:
    """Stream's channel type endpoints over the store (server-side calls)."""

    _store: Store

    def get_channel_type(self, name: str) -> dict[str, object]:
        """GetChannelType: the type's settings and grants; 404 for an unknown type."""
        self._store.faults.gate()
        return self._require_type("GetChannelType", name).as_json()

    def list_channel_types(self) -> dict[str, dict[str, object]]:
        """ListChannelTypes: every type by name."""
        self._store.faults.gate()
        return {name: kind.as_json() for name, kind in sorted(self._store.channel_types.items())}

    def update_channel_type(self, name: str, body: Mapping[str, object]) -> dict[str, object]:
        """UpdateChannelType: change settings and grants; the type as it now is."""
        endpoint = "UpdateChannelType"
        self._store.faults.gate()
        current = self._require_type(endpoint, name)
        updated = updated_type(
            endpoint, current, body, self._store.now(), self._store.custom_permissions
        )
        self._store.channel_types[name] = updated
        return updated.as_json()

    def channel_type_of(self, channel: StreamChannel) -> ChannelType:
        """The type of `channel` (inspection: never fails, never emits)."""
        return self._store.channel_types[channel.type]

    def channel_config(self, channel: StreamChannel) -> dict[str, object]:
        """`channel.config`: the type's settings with the channel's overrides applied."""
        config = self.channel_type_of(channel).config()
        config.update(channel.config_overrides)
        return config

    def capabilities(self, channel: StreamChannel, user_id: str) -> list[str]:
        """`own_capabilities` of `user_id` in `channel`, from the grants, settings and state."""
        return permissions.capabilities(
            self.channel_type_of(channel).grants,
            self.channel_config(channel),
            channel,
            user_id,
            self._store.users.get(user_id),
            custom=self._store.custom_permissions,
        )

    def may(
        self, action: str, channel: StreamChannel, user_id: str, *, owns: bool | None = None
    ) -> bool:
        """Whether a client-side call by `user_id` may perform `action` on `channel`."""
        return self._store.may(action, channel, user_id, owns=owns)

    def require_permission(
        self,
        endpoint: str,
        action: str,
        channel: StreamChannel,
        user_id: str,
        *,
        owns: bool | None = None,
    ) -> None:
        """Refuse a client-side call (403 / code 17, Stream's words) unless it is allowed."""
        self._store.require(endpoint, action, channel, user_id, owns=owns)

    def require_create_channel(self, endpoint: str, channel_type: str, user_id: str) -> None:
        """Refuse (403 / code 17) a user creating a channel without CreateChannel."""
        kind = self._store.channel_types.get(channel_type)
        if kind is None:
            return  # the creation itself refuses an unknown type, in Stream's words
        user = self._store.users.get(user_id)
        if not permissions.may_create_channel(kind.grants, channel_type, user_id, user):
            role = user.role if user is not None else "user"
            raise not_allowed(
                endpoint,
                f"User '{user_id}' with role '{role}' is not allowed to perform action "
                f"{permissions.CREATE_CHANNEL} in scope '{channel_type}'",
            )

    def _require_type(self, endpoint: str, name: str) -> ChannelType:
        found = self._store.channel_types.get(name)
        if found is None:
            raise does_not_exist(endpoint, f"channel type {name} does not exist")
        return found
