"""The chat provider port: channels, members, notices and user tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from yc_chat.domain.model import (
    Channel,
    ChannelId,
    ChannelSpec,
    ChatStatus,
    ClientAccess,
    OpenedChannel,
    UserId,
    UserProfile,
)
from yc_chat.domain.queries import ChannelPage, ChannelQuery


class ChatProvider(Protocol):
    """Where messages live (Stream in production)."""

    async def upsert_profiles(self, profiles: Sequence[UserProfile]) -> None:
        """Create or update users so they can be members and senders."""

    async def issue_user_token(
        self, user_id: UserId, *, issued_at: datetime, expires_at: datetime
    ) -> str:
        """A client token for `user_id` whose `exp` is `expires_at`."""

    async def revoke_tokens(self, user_id: UserId, *, issued_before: datetime) -> None:
        """Make every token issued to `user_id` before `issued_before` stop working (the
        `issued_at` given to `issue_user_token`); their open connections close. A user the
        provider does not know holds no working token: nothing to do."""

    async def client_access(self) -> ClientAccess:
        """The API key and address a client app uses with the tokens issued here."""

    async def open_channel(self, spec: ChannelSpec) -> OpenedChannel:
        """Get the channel with `spec.id`, creating it from `spec` if it does not exist.

        An existing channel is returned as it is; its data is not overwritten.
        """

    async def get_channel(self, channel_id: ChannelId) -> Channel | None:
        """The channel, or None when it does not exist."""

    async def set_status(
        self,
        channel_id: ChannelId,
        status: ChatStatus,
        *,
        notice: str | None = None,
    ) -> Channel:
        """Set the lifecycle status (frozen unless active), posting `notice` as `system`.

        The notice is posted before the channel freezes, in the same provider call.
        """

    async def update_details(self, channel_id: ChannelId, spec: ChannelSpec) -> Channel:
        """Rewrite the descriptive data (name, appointment and people fields) from `spec`.

        Category, org, status, frozen and members are left as they are.
        """

    async def change_members(
        self,
        channel_id: ChannelId,
        *,
        add: frozenset[UserId] = frozenset(),
        remove: frozenset[UserId] = frozenset(),
        notice: str | None = None,
        posters: frozenset[UserId] = frozenset(),
    ) -> Channel:
        """Add and remove members in one change, posting `notice` as `system`.

        `posters` are added users who may post even when the room is read-only.
        """

    async def query_channels(self, query: ChannelQuery, *, limit: int, offset: int) -> ChannelPage:
        """One page of the member's channels in the query's order, never one call per channel."""

    async def ping(self) -> None:
        """Raise ProviderUnavailable when the provider cannot be reached."""


class ChatProviderSetup(Protocol):
    """The provider-side permissions the service's rules rely on (Stream: the grants of
    its channel type), so people holding a user token cannot undo those rules directly.

    An operator concern (`yc-chat stream setup`, `/readyz`), not a use case's.
    """

    async def setup_missing(self) -> Sequence[str]:
        """What of the setup is not applied (names of the parts); empty when all of it is."""

    async def apply_setup(self) -> Sequence[str]:
        """Apply the setup (idempotent): the parts that were changed, empty when none."""
