"""Chat provider events this service reacts to, in domain words."""

from __future__ import annotations

import hashlib
from datetime import datetime

import attrs

from yc_chat.domain.limits import PUSH_BODY_LIMIT
from yc_chat.domain.model import SYSTEM_USER_ID, ChannelId, OrgId, UserId
from yc_chat.domain.queries import CreationCursor

MEDIA_PLACEHOLDER = "[Media Message]"


@attrs.frozen(kw_only=True)
class MessagePosted:
    channel_id: ChannelId
    sender_id: UserId
    sender_name: str | None
    text: str
    has_attachments: bool
    # The provider marked it as a system message (Stream: `type: system`).
    is_system: bool

    def from_system(self, system_user: UserId = SYSTEM_USER_ID) -> bool:
        """Whether the service wrote it (no push): marked as such, or sent as the system user."""
        return self.is_system or self.sender_id == system_user


@attrs.frozen(kw_only=True)
class ChannelDeleted:
    channel_id: ChannelId


@attrs.frozen(kw_only=True)
class UserUpdated:
    """A user's provider profile changed; `name`/`image` as the provider now holds them.

    Stream also reports our own upserts this way: the handler compares with what we last
    wrote, so those echoes do not mark the profile stale (which would make every later
    token call write again).
    """

    user_id: UserId
    name: str | None = None
    image: str | None = None


@attrs.frozen(kw_only=True)
class OtherEvent:
    type: str
    # A type we act on whose payload lacks what acting needs (a message without a sender).
    malformed: bool = False


@attrs.frozen(kw_only=True)
class MemberLeftOrg:
    """Ours, not the provider's: a member was removed from an org and must be offboarded.

    Kept in the event inbox as a job, so an offboarding interrupted by a crash or an
    outage is finished by the worker.
    """

    org_id: OrgId
    user_id: UserId
    # When the membership went: tokens issued before it are revoked (None: when handled).
    removed_at: datetime | None = None
    # Where the walk over their channels resumes (None: from the start, tokens first).
    resume: CreationCursor | None = None


ChatEvent = MessagePosted | ChannelDeleted | UserUpdated | OtherEvent | MemberLeftOrg


def push_body(text: str) -> str:
    """The notification body: the text cut to 100 characters, or the media placeholder."""
    stripped = text.strip()
    if not stripped:
        return MEDIA_PLACEHOLDER
    return stripped[:PUSH_BODY_LIMIT]


def push_collapse_id(event_id: str, recipient: UserId) -> str:
    """The stable collapse id of one recipient's push about one event: the same on every
    send, distinct for any other (event, recipient), and 35 ASCII characters (APNs takes up
    to 64 bytes; no id or name of a person is readable in it)."""
    digest = hashlib.sha256(f"{len(event_id)}:{event_id}|{recipient}".encode()).hexdigest()
    return "yc-" + digest[:32]


def event_kind(event: ChatEvent) -> str:
    """A small, fixed vocabulary naming the event (a metrics label: never the raw type)."""
    match event:
        case MessagePosted():
            return "message_posted"
        case ChannelDeleted():
            return "channel_deleted"
        case UserUpdated():
            return "user_updated"
        case OtherEvent():
            return "other"
        case MemberLeftOrg():
            return "member_left_org"
