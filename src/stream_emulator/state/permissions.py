"""Stream's permissions (v2): grants per channel type and role, checked on client-side calls.

Permissions are checked only for requests made with a user token; server-side calls (the
API secret) may do anything, as on Stream. A check asks: may this user perform this action
on this channel (or message)? The subject's roles are its global role (`user` by default)
and, when it is a member, its channel role (`channel_member`, `channel_moderator`). Each
role's grants come from the channel type (Stream's defaults until `UpdateChannelType`
replaces a role's list), changed by the channel's `config_overrides.grants` modifiers
(`"!create-message"` revokes, a plain id adds). A permission id is the action in kebab
case (`CreateMessage` -> `create-message`); its `-owner` form applies only when the subject
owns the resource: the channel's creator for channel actions, the author for a message's or
a reaction's. The default grants are Stream's permissions reference for `messaging`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from stream_emulator.state.custom_permissions import CustomPermission
from stream_emulator.state.errors import not_allowed
from stream_emulator.state.records import (
    DEFAULT_USER_ROLE,
    MEMBER_ROLE,
    MODERATOR_ROLE,
    OWNER_ROLE,
    StreamChannel,
    StreamUser,
)

MESSAGING: Final = "messaging"

# Actions (the resource type is the channel unless named).
CREATE_CHANNEL: Final = "CreateChannel"
READ_CHANNEL: Final = "ReadChannel"
READ_CHANNEL_MEMBERS: Final = "ReadChannelMembers"
UPDATE_CHANNEL: Final = "UpdateChannel"
UPDATE_CHANNEL_MEMBERS: Final = "UpdateChannelMembers"
UPDATE_CHANNEL_FROZEN: Final = "UpdateChannelFrozen"
REMOVE_OWN_CHANNEL_MEMBERSHIP: Final = "RemoveOwnChannelMembership"
DELETE_CHANNEL: Final = "DeleteChannel"
CREATE_MESSAGE: Final = "CreateMessage"
CREATE_REPLY: Final = "CreateReply"
CREATE_ATTACHMENT: Final = "CreateAttachment"
UPLOAD_ATTACHMENT: Final = "UploadAttachment"
ADD_LINKS: Final = "AddLinks"
CREATE_REACTION: Final = "CreateReaction"
DELETE_REACTION: Final = "DeleteReaction"  # owner: the reaction's author
UPDATE_MESSAGE: Final = "UpdateMessage"  # owner: the message's author
DELETE_MESSAGE: Final = "DeleteMessage"  # owner: the message's author
SEND_CUSTOM_EVENT: Final = "SendCustomEvent"
FLAG_MESSAGE: Final = "FlagMessage"
MUTE_CHANNEL: Final = "MuteChannel"
PIN_MESSAGE: Final = "PinMessage"
BAN_CHANNEL_MEMBER: Final = "BanChannelMember"
UPDATE_CHANNEL_COOLDOWN: Final = "UpdateChannelCooldown"
USE_FROZEN_CHANNEL: Final = "UseFrozenChannel"
CREATE_SYSTEM_MESSAGE: Final = "CreateSystemMessage"


def permission_id(action: str) -> str:
    """`CreateMessage` -> `create-message`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", action).lower()


def _ids(*actions: str, owner: bool = False) -> frozenset[str]:
    suffix = "-owner" if owner else ""
    return frozenset(permission_id(a) + suffix for a in actions)


# Stream's defaults for `messaging` (its permissions reference; `create-reply` as current
# apps have it, beside `create-message`).
_MEMBER_DEFAULT = _ids(
    ADD_LINKS,
    "CreateCall",
    CREATE_MESSAGE,
    CREATE_REPLY,
    CREATE_ATTACHMENT,
    "CreateMention",
    CREATE_REACTION,
    FLAG_MESSAGE,
    "JoinCall",
    MUTE_CHANNEL,
    PIN_MESSAGE,
    READ_CHANNEL,
    READ_CHANNEL_MEMBERS,
    REMOVE_OWN_CHANNEL_MEMBERSHIP,
    "RunMessageAction",
    SEND_CUSTOM_EVENT,
    UPLOAD_ATTACHMENT,
)
_MODERATION = _ids(
    BAN_CHANNEL_MEMBER,
    "CreateSystemMessage",
    "DeleteAttachment",
    DELETE_MESSAGE,
    DELETE_REACTION,
    "ReadMessageFlags",
    "SkipChannelCooldown",
    "SkipMessageModeration",
    "UnblockMessage",
    UPDATE_CHANNEL,
    UPDATE_CHANNEL_COOLDOWN,
    UPDATE_CHANNEL_FROZEN,
    UPDATE_CHANNEL_MEMBERS,
    UPDATE_MESSAGE,
)
_USER_OWNER = _ids(
    ADD_LINKS,
    CREATE_MESSAGE,
    CREATE_REPLY,
    CREATE_ATTACHMENT,
    "CreateMention",
    CREATE_REACTION,
    "DeleteAttachment",
    DELETE_CHANNEL,
    DELETE_MESSAGE,
    DELETE_REACTION,
    FLAG_MESSAGE,
    MUTE_CHANNEL,
    PIN_MESSAGE,
    READ_CHANNEL_MEMBERS,
    READ_CHANNEL,
    "RecreateChannel",
    REMOVE_OWN_CHANNEL_MEMBERSHIP,
    "RunMessageAction",
    SEND_CUSTOM_EVENT,
    "TruncateChannel",
    UPDATE_CHANNEL_MEMBERS,
    UPDATE_CHANNEL,
    UPDATE_MESSAGE,
    UPLOAD_ATTACHMENT,
    owner=True,
)
DEFAULT_GRANTS: Final[Mapping[str, frozenset[str]]] = {
    "admin": _MEMBER_DEFAULT
    | _MODERATION
    | _ids("BanUser", CREATE_CHANNEL, DELETE_CHANNEL, "RecreateChannel", "TruncateChannel"),
    "moderator": _MEMBER_DEFAULT
    | _MODERATION
    | _ids("BanUser", CREATE_CHANNEL)
    | _ids(DELETE_CHANNEL, "RecreateChannel", "TruncateChannel", owner=True),
    DEFAULT_USER_ROLE: _ids(CREATE_CHANNEL) | _USER_OWNER,
    MEMBER_ROLE: _MEMBER_DEFAULT,
    MODERATOR_ROLE: _MEMBER_DEFAULT | _MODERATION,
}
# Every permission id a grant may name: Stream refuses an unknown one.
KNOWN_PERMISSIONS: Final = frozenset(
    {p for grants in DEFAULT_GRANTS.values() for p in grants}
    | {p.removesuffix("-owner") for grants in DEFAULT_GRANTS.values() for p in grants}
    | {p + "-owner" for grants in DEFAULT_GRANTS.values() for p in grants if "-owner" not in p}
    | _ids(USE_FROZEN_CHANNEL, "AddOwnChannelMembership", "CreateDistinctChannelForOthers")
)


@attrs.frozen(kw_only=True)
class ChannelTypeGrants:
    """A channel type's grants: the roles whose list was replaced, over Stream's defaults."""

    replaced: Mapping[str, frozenset[str]] = attrs.field(factory=dict)

    def role(self, role: str) -> frozenset[str]:
        """What `role` is granted on the type."""
        if role in self.replaced:
            return self.replaced[role]
        return DEFAULT_GRANTS.get(role, frozenset())

    def as_json(self) -> dict[str, list[str]]:
        """Every role's grants, as GetChannelType lists them."""
        roles = sorted(set(DEFAULT_GRANTS) | set(self.replaced))
        return {role: sorted(self.role(role)) for role in roles}

    def replace(self, grants: Mapping[str, Iterable[str]]) -> ChannelTypeGrants:
        """Each named role's list replaced; an empty list gives the role its defaults back."""
        replaced = dict(self.replaced)
        for role, ids in grants.items():
            wanted = frozenset(ids)
            if wanted:
                replaced[role] = wanted
            else:
                replaced.pop(role, None)
        return ChannelTypeGrants(replaced=replaced)


def unknown_permissions(
    grants: Mapping[str, Iterable[str]], custom: Iterable[str] = ()
) -> list[str]:
    """The permission ids in `grants` the app does not know (built-in or `custom`), sorted."""
    known = KNOWN_PERMISSIONS | frozenset(custom)
    return sorted({p for ids in grants.values() for p in ids} - known)


def subject_roles(channel: StreamChannel, user_id: str, user: StreamUser | None) -> list[str]:
    """The user's global role, then its channel role when it is a member."""
    roles = [user.role if user is not None else DEFAULT_USER_ROLE]
    member = channel.member(user_id)
    if member is not None:
        # The legacy `owner` channel role counts as a member: ownership is `created_by`.
        roles.append(MEMBER_ROLE if member.channel_role == OWNER_ROLE else member.channel_role)
    return roles


def channel_grants(type_grants: ChannelTypeGrants, channel: StreamChannel, role: str) -> set[str]:
    """The role's grants on the type, changed by the channel's grant modifiers."""
    granted = set(type_grants.role(role))
    overrides = channel.config_overrides.get("grants")
    modifiers = overrides.get(role, []) if isinstance(overrides, Mapping) else []
    for modifier in modifiers if isinstance(modifiers, list) else []:
        if isinstance(modifier, str) and modifier.startswith("!"):
            granted.discard(modifier[1:])
        elif isinstance(modifier, str):
            granted.add(modifier)
    return granted


def allowed(
    type_grants: ChannelTypeGrants,
    action: str,
    channel: StreamChannel,
    user_id: str,
    user: StreamUser | None,
    *,
    owns: bool | None = None,
    custom: Mapping[str, CustomPermission] | None = None,
) -> bool:
    """Whether the user may perform `action` on `channel` (or on a resource in it).

    `owns` says whether the user owns the resource; None: the channel, owned by its creator.
    `custom` are the app's custom permissions, by id: granted to a role, each may add its
    action (under its condition).
    """
    owner = channel.created_by_id == user_id if owns is None else owns
    wanted = permission_id(action)
    for role in subject_roles(channel, user_id, user):
        granted = channel_grants(type_grants, channel, role)
        if wanted in granted or (owner and wanted + "-owner" in granted):
            return True
        for pid in granted & (custom or {}).keys():
            if (custom or {})[pid].grants(action, channel, user, owner=owner):
                return True
    return False


def may_create_channel(
    type_grants: ChannelTypeGrants, channel_type: str, user_id: str, user: StreamUser | None
) -> bool:
    """CreateChannel: a check on the user's global role alone (there is no channel yet)."""
    del channel_type, user_id
    role = user.role if user is not None else DEFAULT_USER_ROLE
    return permission_id(CREATE_CHANNEL) in type_grants.role(role)


def refusal(endpoint: str, action: str, channel: StreamChannel, user_id: str, role: str) -> str:
    """Stream's wording when a permission check fails (403, code 17)."""
    del endpoint
    return (
        f"User '{user_id}' with role '{role}' is not allowed to perform action {action} "
        f"in scope '{channel.type}'"
    )


def require(
    type_grants: ChannelTypeGrants,
    endpoint: str,
    action: str,
    channel: StreamChannel,
    user_id: str,
    user: StreamUser | None,
    *,
    owns: bool | None = None,
    custom: Mapping[str, CustomPermission] | None = None,
) -> None:
    """Refuse (403 / code 17, in Stream's words) unless the user may perform `action`."""
    if not allowed(type_grants, action, channel, user_id, user, owns=owns, custom=custom):
        role = user.role if user is not None else DEFAULT_USER_ROLE
        raise not_allowed(endpoint, refusal(endpoint, action, channel, user_id, role))


# `own_capabilities`: (capability, action, the type setting it needs, barred when frozen).
_CAPABILITIES: Final[tuple[tuple[str, str, str | None, bool], ...]] = (
    ("ban-channel-members", BAN_CHANNEL_MEMBER, None, False),
    ("connect-events", READ_CHANNEL, "connect_events", False),
    ("delete-any-message", DELETE_MESSAGE, None, False),
    ("delete-channel", DELETE_CHANNEL, None, False),
    ("flag-message", FLAG_MESSAGE, None, False),
    ("freeze-channel", UPDATE_CHANNEL_FROZEN, None, False),
    ("leave-channel", REMOVE_OWN_CHANNEL_MEMBERSHIP, None, False),
    ("mute-channel", MUTE_CHANNEL, "mutes", False),
    ("pin-message", PIN_MESSAGE, None, False),
    ("quote-message", CREATE_MESSAGE, "quotes", True),
    ("read-events", READ_CHANNEL, "read_events", False),
    ("search-messages", READ_CHANNEL, "search", False),
    ("send-custom-events", SEND_CUSTOM_EVENT, "custom_events", True),
    ("send-links", ADD_LINKS, None, True),
    ("send-message", CREATE_MESSAGE, None, True),
    ("send-reaction", CREATE_REACTION, "reactions", True),
    ("send-reply", CREATE_REPLY, "replies", True),
    ("send-typing-events", READ_CHANNEL, "typing_events", True),
    ("set-channel-cooldown", UPDATE_CHANNEL_COOLDOWN, None, False),
    ("typing-events", READ_CHANNEL, "typing_events", True),
    ("update-any-message", UPDATE_MESSAGE, None, False),
    ("update-channel", UPDATE_CHANNEL, None, False),
    ("update-channel-members", UPDATE_CHANNEL_MEMBERS, None, False),
    ("upload-file", UPLOAD_ATTACHMENT, "uploads", True),
)
_ANY_MESSAGE: Final = frozenset({"delete-any-message", "update-any-message"})
# What a user may do to their own messages: held through the `-owner` grant or the plain one.
_OWN_MESSAGE_CAPABILITIES: Final = (
    ("update-own-message", UPDATE_MESSAGE),
    ("delete-own-message", DELETE_MESSAGE),
)


def capabilities(
    type_grants: ChannelTypeGrants,
    config: Mapping[str, object],
    channel: StreamChannel,
    user_id: str,
    user: StreamUser | None,
    custom: Mapping[str, CustomPermission] | None = None,
) -> list[str]:
    """`own_capabilities`: what the user may do in the channel, from grants, settings, state.

    Nothing for someone who may not read the channel.
    """

    def may(action: str, owns: bool | None = None) -> bool:
        return allowed(type_grants, action, channel, user_id, user, owns=owns, custom=custom)

    if not may(READ_CHANNEL):
        return []
    frozen = channel.frozen and not may(USE_FROZEN_CHANNEL)
    found = set()
    for capability, action, setting, barred_when_frozen in _CAPABILITIES:
        if setting is not None and config.get(setting) is False:
            continue
        if barred_when_frozen and frozen:
            continue
        # "any message" means others' messages too: ownership of the channel is no help.
        owns = False if capability in _ANY_MESSAGE else None
        if may(action, owns):
            found.add(capability)
    for capability, action in _OWN_MESSAGE_CAPABILITIES:
        if not frozen and may(action, True):
            found.add(capability)
    return sorted(found)
