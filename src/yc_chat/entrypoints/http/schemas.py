"""Request and response bodies of the HTTP contract, declared once (camelCase on the wire).

Field names, types and nullability here are the contract with the existing frontends:
rename nothing. Unknown request fields are ignored; wrong types are rejected by the
strict decoder in `body.py`. Value rules (lengths, ranges, membership) live in the domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from yc_chat.domain.limits import CHANNEL_ID_RULE, MAX_GROUP_NAME

GROUP_NAME_DOC = f"1 to {MAX_GROUP_NAME} characters after trimming."

Id = Annotated[str, msgspec.Meta(description="An id from the host platform's directory.")]
UserIdField = Annotated[str, msgspec.Meta(description="A user id; must be the caller's own.")]
EpochMs = Annotated[int, msgspec.Meta(description="Unix epoch milliseconds.")]
Status = Literal["pending", "active", "ended"]
Category = Literal["client", "colleague", "group"]


class _In(msgspec.Struct, kw_only=True, rename="camel"):
    """Base of request bodies."""


class _Out(msgspec.Struct, kw_only=True, rename="camel"):
    """Base of response bodies: every field is always present (null when empty)."""


# -- errors ---------------------------------------------------------------------------------


class FieldDetail(_Out):
    """One field-level problem."""

    field: str
    message: str


class ErrorBody(_Out, omit_defaults=True):
    """Every error response: a human message and a stable snake_case code."""

    error: Annotated[str, msgspec.Meta(description="Human-readable message.")]
    code: Annotated[str, msgspec.Meta(description="Stable snake_case error code.")]
    details: (
        Annotated[
            list[FieldDetail | str],
            msgspec.Meta(
                description="Field problems (400), or the offending ids (400 not_org_member)."
            ),
        ]
        | None
    ) = None


# -- requests -------------------------------------------------------------------------------


class TokenRequest(_In):
    """POST /api/chat/token."""

    user_id: UserIdField


class AppointmentChatRequest(_In):
    """POST /api/chat/channels: open (or get) an appointment's chat."""

    appointment_id: Id
    pet_owner_id: (
        Annotated[str, msgspec.Meta(description="Must match the appointment record if given.")]
        | None
    ) = None
    vet_id: (
        Annotated[str, msgspec.Meta(description="Must match the appointment record if given.")]
        | None
    ) = None
    appointment_time: (
        Annotated[
            str | int | float,
            msgspec.Meta(description="Accepted for compatibility and ignored (the record wins)."),
        ]
        | None
    ) = None
    activation_minutes: (
        Annotated[
            int,
            msgspec.Meta(
                description="Minutes before the appointment the chat opens (0..1440, default 5); "
                "honoured from org staff only."
            ),
        ]
        | None
    ) = None


class ColleagueDMRequest(_In):
    """POST /api/chat/channels/internal: a DM between two members of an org."""

    org_id: Id
    member_ids: Annotated[list[str], msgspec.Meta(description="Exactly two distinct user ids.")]
    created_by: UserIdField


class GroupRequest(_In):
    """POST /api/chat/channels/group."""

    org_id: Id
    name: Annotated[str, msgspec.Meta(description=GROUP_NAME_DOC)]
    member_ids: Annotated[list[str], msgspec.Meta(description="Org members to add.")]
    created_by: UserIdField
    is_read_only: (
        Annotated[bool, msgspec.Meta(description="Announcement room; org admins only.")] | None
    ) = None
    image: Annotated[str, msgspec.Meta(description="An https URL.")] | None = None
    channel_id: (
        Annotated[str, msgspec.Meta(description=f"Optional id matching {CHANNEL_ID_RULE}.")] | None
    ) = None


class GroupMembersRequest(_In):
    """POST /api/chat/channels/group/{channelId}/members."""

    added_by: UserIdField
    add: list[str] | None = None
    remove: list[str] | None = None


class DeviceRequest(_In):
    """POST /api/devices: register a push token for the caller."""

    token: Annotated[str, msgspec.Meta(description="The push token (FCM/APNs/web).")]
    platform: Annotated[str, msgspec.Meta(description="ios, android or web.")]


def _wire_names(*bodies: type[msgspec.Struct]) -> dict[str, str]:
    return {
        field.name: field.encode_name for body in bodies for field in msgspec.structs.fields(body)
    }


# The domain names fields by the use cases' parameter names (`member_ids`); the wire spells
# them as the request bodies do (`memberIds`). Query and path parameters (`orgId`,
# `channelId`) use the same spelling. Error details are renamed with this table.
WIRE_NAMES: Mapping[str, str] = _wire_names(
    TokenRequest,
    AppointmentChatRequest,
    ColleagueDMRequest,
    GroupRequest,
    GroupMembersRequest,
    DeviceRequest,
)


def wire_name(field: str) -> str:
    """`field` (a domain name, maybe with an index: `member_ids[0]`) as the wire spells it."""
    name, bracket, index = field.partition("[")
    return WIRE_NAMES.get(name, name) + bracket + index


# -- responses ------------------------------------------------------------------------------


class TokenResponse(_Out):
    """A Stream user token for the caller."""

    token: str
    expires_at: EpochMs
    api_key: Annotated[str, msgspec.Meta(description="The Stream API key to use the token with.")]
    base_url: Annotated[
        str | None,
        msgspec.Meta(description="The Stream API base URL to use; null for Stream's default."),
    ]


class ChannelRefResponse(_Out):
    """The channel a create call resolved to."""

    channel_id: str
    channel_type: Literal["messaging"]
    members: Annotated[list[str], msgspec.Meta(description="Member user ids.")]


class MemberOut(_Out):
    """An org member as other members see them."""

    id: str
    name: str
    email: str | None
    image: str | None
    role: str


class SearchResponse(_Out):
    """Typeahead results, best match first."""

    results: list[MemberOut]


class MembersResponse(_Out):
    """One page of an org's members, by name."""

    members: list[MemberOut]
    next_cursor: Annotated[str, msgspec.Meta(description="Opaque; null on the last page.")] | None


class GroupOut(_Out):
    """A group channel of an org."""

    id: str
    name: str
    members: list[str]
    status: Status
    is_group: Literal[True]
    chat_category: Literal["group"]
    org_id: str
    image: str | None
    is_read_only: bool
    created_by: str | None
    member_count: int
    frozen: bool


class GroupsResponse(_Out):
    """The org's groups the caller belongs to."""

    channels: list[GroupOut]


class ChannelOut(_Out):
    """A channel in the caller's list."""

    id: str
    name: str
    members: list[str]
    last_message: str | None
    last_message_at: EpochMs | None
    appointment_id: Annotated[str, msgspec.Meta(description="Client chats only.")] | None
    status: Status
    chat_category: Category
    org_id: str
    is_group: bool
    frozen: bool


class ChannelsResponse(_Out):
    """One page of the caller's channels, newest activity first."""

    channels: list[ChannelOut]
    next_cursor: Annotated[str, msgspec.Meta(description="Opaque; null on the last page.")] | None


class SuccessResponse(_Out):
    """The action was done (or had already been done)."""

    success: bool = True


class OkResponse(_Out):
    """The webhook event was accepted."""

    ok: bool = True


class HealthResponse(_Out):
    """The process is up."""

    status: Literal["ok"] = "ok"


class ReadyResponse(_Out):
    """Every required dependency answered; `degraded` names parts running on a fallback."""

    status: Literal["ready", "degraded"]
    checks: dict[str, str]
    degraded: list[str] = msgspec.field(default_factory=list)
