"""Value objects and entities of the chat domain."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Literal, NewType

import attrs

from yc_chat.domain.limits import DEFAULT_ACTIVATION_MINUTES

UserId = NewType("UserId", str)
OrgId = NewType("OrgId", str)
AppointmentId = NewType("AppointmentId", str)
ChannelId = NewType("ChannelId", str)

SYSTEM_USER_ID = UserId("system")
SYSTEM_USER_NAME = "Yosemite Crew"
OWNER_ROLE = "owner"
ADMIN_ROLES = frozenset({OWNER_ROLE, "admin"})


def _role_word(role: str) -> str:
    """A role as compared: the host's free-form string, trimmed and case-folded."""
    return role.strip().lower()


class UserKind(enum.StrEnum):
    STAFF = "staff"
    PET_OWNER = "pet_owner"


class ChatCategory(enum.StrEnum):
    CLIENT = "client"
    COLLEAGUE = "colleague"
    GROUP = "group"


class ChannelRole(enum.StrEnum):
    """The caller's side in client chats, for narrowing a channel list."""

    PET_OWNER = "pet-owner"
    VET = "vet"


class ChatStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    ENDED = "ended"


_STATUS_ORDER = {ChatStatus.PENDING: 1, ChatStatus.ACTIVE: 2, ChatStatus.ENDED: 3}


def statuses_up_to(status: ChatStatus) -> tuple[ChatStatus, ...]:
    """The statuses `status` may replace: itself and the earlier ones (never a later one)."""
    return tuple(s for s, rank in _STATUS_ORDER.items() if rank <= _STATUS_ORDER[status])


def opens_at(starts_at: datetime, activation_minutes: int | None) -> datetime:
    """When an appointment's chat opens: `activation_minutes` (default 5) before it starts."""
    minutes = DEFAULT_ACTIVATION_MINUTES if activation_minutes is None else activation_minutes
    return starts_at - timedelta(minutes=minutes)


def later_status(current: ChatStatus | None, new: ChatStatus) -> ChatStatus:
    """Chat status only moves forward (pending, active, ended): the later of the two."""
    if current is None or _STATUS_ORDER[new] >= _STATUS_ORDER[current]:
        return new
    return current


def _require_aware(_: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must carry a UTC offset")


@attrs.frozen(kw_only=True)
class User:
    """A person known to the directory: clinic staff or a pet owner."""

    id: UserId
    name: str
    kind: UserKind = UserKind.STAFF
    email: str | None = None
    image: str | None = None


@attrs.frozen(kw_only=True)
class Org:
    """A clinic (business) whose staff talk to each other and to pet owners."""

    id: OrgId
    name: str


@attrs.frozen(kw_only=True)
class Membership:
    """A user's current membership of an org, with a free-form role string."""

    org_id: OrgId
    user_id: UserId
    role: str

    @property
    def is_admin(self) -> bool:
        return _role_word(self.role) in ADMIN_ROLES

    @property
    def is_owner(self) -> bool:
        return _role_word(self.role) == OWNER_ROLE


@attrs.frozen(kw_only=True)
class Member:
    """A member as listed to other members: the user's profile plus their role."""

    user: User
    role: str


@attrs.frozen(kw_only=True)
class Appointment:
    """An appointment as the host platform records it, mirrored with its chat's state."""

    id: AppointmentId
    org_id: OrgId
    pet_owner_id: UserId
    vet_id: UserId
    starts_at: datetime = attrs.field(validator=_require_aware)
    pet_name: str = ""
    pet_owner_name: str = ""
    chat_channel_id: ChannelId | None = None
    chat_status: ChatStatus | None = None
    chat_activation_minutes: int | None = None

    @property
    def activation_minutes(self) -> int:
        if self.chat_activation_minutes is None:
            return DEFAULT_ACTIVATION_MINUTES
        return self.chat_activation_minutes

    @property
    def chat_opens_at(self) -> datetime:
        return opens_at(self.starts_at, self.chat_activation_minutes)

    def status_at(self, now: datetime) -> ChatStatus:
        """The chat status this appointment should have at `now`."""
        if self.chat_status is ChatStatus.ENDED:
            return ChatStatus.ENDED
        return ChatStatus.ACTIVE if now >= self.chat_opens_at else ChatStatus.PENDING


@attrs.frozen(kw_only=True)
class ChannelData:
    """What a channel is about: category, org, members, status and the frontends' metadata."""

    id: ChannelId
    category: ChatCategory
    org_id: OrgId
    members: frozenset[UserId]
    status: ChatStatus
    name: str | None = None
    image: str | None = None
    read_only: bool = False
    appointment_id: AppointmentId | None = None
    appointment_time: datetime | None = None
    pet_owner_id: UserId | None = None
    pet_owner_name: str | None = None
    pet_name: str | None = None
    vet_id: UserId | None = None

    @property
    def is_group(self) -> bool:
        return self.category is ChatCategory.GROUP

    @property
    def member_count(self) -> int:
        return len(self.members)

    @property
    def is_ended(self) -> bool:
        return self.status is ChatStatus.ENDED


@attrs.frozen(kw_only=True)
class ChannelSpec(ChannelData):
    """Everything needed to create a channel: its data and its creator."""

    created_by: UserId
    # Members besides the creator who may post in a read-only room: the org admins.
    posters: frozenset[UserId] = frozenset()

    @property
    def frozen(self) -> bool:
        # Pending chats exist but nobody can write yet; ended ones are closed for good.
        return self.status is not ChatStatus.ACTIVE


@attrs.frozen(kw_only=True)
class Channel(ChannelData):
    """A channel as the chat provider holds it now.

    `created_by` is the contract's creator (a group's creator, a DM's opener, an
    appointment chat's vet), kept in custom data; `provider_creator` is who the provider
    says created the channel: the system user for every channel yc-chat creates
    (`domain.provenance`).
    """

    created_by: UserId | None
    frozen: bool
    provider_creator: UserId | None = None
    created_at: datetime | None = None
    last_message_at: datetime | None = None
    last_message_text: str | None = None


@attrs.frozen(kw_only=True)
class OpenedChannel:
    """The result of get-or-create: the channel and whether this call created it."""

    channel: Channel
    created: bool


@attrs.frozen(kw_only=True)
class UserProfile:
    """What the chat provider shows of a user."""

    id: UserId
    name: str
    image: str | None = None

    @classmethod
    def of(cls, user: User) -> UserProfile:
        return cls(id=user.id, name=user.name, image=user.image)

    @property
    def fingerprint(self) -> str:
        # A change of name or image is what makes a provider upsert worth paying for.
        return f"{len(self.name)}:{self.name}|{self.image or ''}"


SYSTEM_PROFILE = UserProfile(id=SYSTEM_USER_ID, name=SYSTEM_USER_NAME)


@attrs.frozen(kw_only=True)
class Device:
    """A push token registered by a user."""

    user_id: UserId
    token: str
    platform: str


@attrs.frozen(kw_only=True)
class Notification:
    """One push notification for one recipient, about the channel a message was posted in.

    Push adapters turn the channel fields into the payload frontends read.
    """

    recipient_id: UserId
    title: str
    body: str
    channel_id: ChannelId | None = None
    category: ChatCategory | None = None
    appointment_id: AppointmentId | None = None
    # The same for every send of this push (retries and repeats after a crash), so a
    # provider that supports it shows a repeat once (events.push_collapse_id).
    collapse_id: str | None = None


class ClaimState(enum.StrEnum):
    """What claiming a once-only side effect found."""

    TAKEN = "taken"  # the caller holds it now: do the effect, then confirm (or release) it
    HELD = "held"  # another caller holds it and its lease has not run out
    DONE = "done"  # confirmed: the effect took place


class PushOutcome(enum.StrEnum):
    """What became of one notification."""

    SENT = "sent"  # delivered to at least one of the recipient's devices (or logged)
    NO_DEVICE = "no_device"  # the recipient has no device that still accepts pushes
    RETRY = "retry"  # reached no device, for a reason that may pass (network, rate limit)
    REJECTED = "rejected"  # refused for good (bad payload, credentials): retrying won't help


@attrs.frozen(kw_only=True)
class ClientAccess:
    """What a client app needs besides its token to reach the chat provider."""

    api_key: str
    # None: the provider's default address (Stream's own API).
    base_url: str | None = None


@attrs.frozen(kw_only=True)
class UserToken:
    """A chat provider token for a user, with its expiry and where to use it."""

    token: str = attrs.field(repr=False)
    expires_at: datetime
    access: ClientAccess


@attrs.frozen(kw_only=True)
class IssuedToken:
    """A provider token as it was signed: for whom, issued and expiring when (whole seconds,
    its `iat` before backdating and its `exp`)."""

    user_id: UserId
    token: str = attrs.field(repr=False)
    issued_at: datetime
    expires_at: datetime


@attrs.frozen(kw_only=True)
class TokenRecord:
    """What the shared token store knows of one user: the last token kept for reuse, and
    the revocation cut-off (tokens issued before it no longer work)."""

    token: IssuedToken | None = None
    revoked_before: datetime | None = None


@attrs.frozen(kw_only=True)
class ChannelRef:
    """What channel-creating use cases return: the id and the member ids."""

    channel_id: ChannelId
    members: tuple[UserId, ...]
    channel_type: Literal["messaging"] = "messaging"
