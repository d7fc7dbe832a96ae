"""The simulation's records: users, channels, members and messages, in Stream's own terms."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Final

import attrs

Clock = Callable[[], datetime]

OWNER_ROLE: Final = "owner"
MEMBER_ROLE: Final = "channel_member"
MODERATOR_ROLE: Final = "channel_moderator"
DEFAULT_USER_ROLE: Final = "user"


def system_clock() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@attrs.frozen(kw_only=True)
class StreamUser:
    """A Stream user: id, role, the well-known `name`/`image` and any custom fields."""

    id: str
    role: str = DEFAULT_USER_ROLE
    name: str | None = None
    image: str | None = None
    custom: Mapping[str, object] = attrs.field(factory=dict)
    created_at: datetime
    updated_at: datetime
    # Presence, kept by the realtime side: a user is online while a websocket is open.
    online: bool = False
    last_active: datetime | None = None
    # Revoke by issued-at: this user's tokens issued before it (or without `iat`) are
    # refused. Set and cleared only by a partial update; an upsert keeps it.
    revoke_tokens_issued_before: datetime | None = None


@attrs.frozen(kw_only=True)
class StreamMember:
    """A channel member: the user and when and with which channel role they joined."""

    user_id: str
    channel_role: str = MEMBER_ROLE
    created_at: datetime
    # The member's own settings (update_member_partial): custom data, pin and archive.
    custom: Mapping[str, object] = attrs.field(factory=dict)
    pinned_at: datetime | None = None
    archived_at: datetime | None = None
    # Invited (`invites`): a member still, whose answer is recorded when given.
    invited: bool = False
    invite_accepted_at: datetime | None = None
    invite_rejected_at: datetime | None = None


@attrs.frozen(kw_only=True)
class StreamReaction:
    """One user's reaction of one type to a message (a user has at most one per type)."""

    type: str
    user_id: str
    score: int = 1
    created_at: datetime
    custom: Mapping[str, object] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class StreamMessage:
    """A message in a channel; `type` is `regular` or `system`."""

    id: str
    cid: str
    text: str
    user_id: str
    type: str = "regular"
    attachments: tuple[Mapping[str, object], ...] = ()
    created_at: datetime
    # Set by an edit; a soft delete sets `deleted_at` and empties the text (type `deleted`).
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    # When an update last changed the text (`message_text_updated_at`: the kits' "Edited").
    text_updated_at: datetime | None = None
    # Oldest first.
    reactions: tuple[StreamReaction, ...] = ()
    # A thread reply names its parent; `show_in_channel` also lists it in the channel.
    parent_id: str | None = None
    show_in_channel: bool = False
    # On a thread's parent: how many replies it has had.
    reply_count: int = 0
    # Custom fields, flattened next to the reserved ones in Stream's JSON.
    custom: Mapping[str, object] = attrs.field(factory=dict)
    pinned_at: datetime | None = None
    pinned_by: str | None = None
    pin_expires: datetime | None = None
    silent: bool = False
    # Only these users (and the sender) see it; empty: everyone.
    restricted_visibility: tuple[str, ...] = ()
    quoted_message_id: str | None = None
    # The quoted message as it was when this one was posted (Stream sends it along as
    # `quoted_message`; the kits render the quote from it).
    quoted: StreamMessage | None = attrs.field(default=None, eq=False, repr=False)
    # Pending (SendMessage's `pending`, or the type's `mark_messages_pending`): seen by its
    # sender (and the server) alone, announced when committed.
    pending: bool = False
    pending_message_metadata: Mapping[str, object] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class StreamChannel:
    """A channel: reserved fields Stream maintains plus the custom `data` dict."""

    type: str
    id: str
    data: Mapping[str, object] = attrs.field(factory=dict)
    created_by_id: str
    frozen: bool = False
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None = None
    # An ordered set: insertion order, no repeats (the operations keep it so).
    members: tuple[StreamMember, ...] = ()
    # Channel-level settings (`grants` modifiers among them); never part of custom data.
    config_overrides: Mapping[str, object] = attrs.field(factory=dict)
    # Tags for filtering channels (`filter_tags`), an ordered set.
    filter_tags: tuple[str, ...] = ()

    @property
    def cid(self) -> str:
        """Stream's full channel id, `type:id`."""
        return f"{self.type}:{self.id}"

    @property
    def member_count(self) -> int:
        """Derived, as Stream derives it: never stored, never settable."""
        return len(self.members)

    @property
    def member_ids(self) -> tuple[str, ...]:
        """Member user ids in joining order."""
        return tuple(member.user_id for member in self.members)

    def member(self, user_id: str) -> StreamMember | None:
        """The member record of `user_id`, or None."""
        return next((m for m in self.members if m.user_id == user_id), None)

    def with_member(self, member: StreamMember) -> StreamChannel:
        """This channel with `member` replacing the one of the same user, or joining last."""
        if self.member(member.user_id) is None:
            return attrs.evolve(self, members=(*self.members, member))
        members = tuple(member if m.user_id == member.user_id else m for m in self.members)
        return attrs.evolve(self, members=members)


@attrs.frozen(kw_only=True)
class StreamChannelMute:
    """A user muted a channel (no notifications for it), until `expires` if set."""

    user_id: str
    cid: str
    created_at: datetime
    expires: datetime | None = None


@attrs.frozen(kw_only=True)
class Draft:
    """A message about to be posted, validated before any state changes."""

    text: str
    user_id: str
    type: str
    attachments: tuple[Mapping[str, object], ...] = ()
    id: str | None = None
    parent_id: str | None = None
    show_in_channel: bool = False
    custom: Mapping[str, object] = attrs.field(factory=dict)
    pinned: bool = False
    pin_expires: datetime | None = None
    silent: bool = False
    restricted_visibility: tuple[str, ...] = ()
    quoted_message_id: str | None = None
    pending: bool = False
    pending_message_metadata: Mapping[str, object] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class UserMute:
    """`user_id` muted `target_id` (until `expires` if set)."""

    user_id: str
    target_id: str
    created_at: datetime
    expires: datetime | None = None


@attrs.frozen(kw_only=True)
class Device:
    """A push device registered for a user."""

    id: str
    user_id: str
    push_provider: str
    created_at: datetime


@attrs.define
class UserExtras:
    """What one app keeps about users beyond their records."""

    devices: dict[str, Device] = attrs.field(factory=dict)
    mutes: dict[tuple[str, str], UserMute] = attrs.field(factory=dict)
    blocks: dict[tuple[str, str], datetime] = attrs.field(factory=dict)
    deleted: dict[str, datetime] = attrs.field(factory=dict)
    deactivated: dict[str, datetime] = attrs.field(factory=dict)
