"""The channel-type grants yc-chat's rules rely on, applied by `yc-chat stream setup`.

Stream checks permissions on client-side calls only (a user token): the service's own
calls, made with the API secret, may do anything. Every user holds a token, so these
grants are what keeps people from undoing the service's rules by calling Stream directly.

On the `messaging` type (permission ids from Stream's permissions reference):
- nobody but the service creates channels, changes members or custom data, or unfreezes:
  the global `user` role loses `create-channel` and every `-owner` grant on channels
  (Stream gives a channel's creator owner rights through them, so a person who created a
  channel before this setup loses them too);
- members (`channel_member`) read, send, reply, react, upload, mark read and send typing
  events (mark read and typing need read access only), and edit or delete what they wrote;
- `channel_moderator` (the members who may post in a read-only room) gets the same, not
  the default moderator rights to edit the channel, its members or freeze state.

A role's list replaces that role's grants on the type. The `user` list is never empty:
an empty list may mean "the defaults" to Stream, which would give the rights back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from yc_chat.adapters.stream.mapping import CHANNEL_TYPE

USER_ROLE: Final = "user"
MEMBER_ROLE: Final = "channel_member"
CHANNEL_MODERATOR_ROLE: Final = "channel_moderator"

MEMBER_GRANTS: Final = (
    "read-channel",
    "read-channel-members",
    "create-message",
    "create-reply",
    "create-mention",
    "add-links",
    "create-attachment",
    "upload-attachment",
    "create-reaction",
    # A member's own messages and reactions (ownership here is authorship): edit, delete.
    "update-message-owner",
    "delete-message-owner",
    "delete-reaction-owner",
    "flag-message",
    "mute-channel",
)
# Flagging a message in a channel one owns: reports to moderation, changes nothing. It only
# keeps the list non-empty (see the module docstring).
USER_GRANTS: Final = ("flag-message-owner",)

GRANTS: Final[Mapping[str, tuple[str, ...]]] = {
    USER_ROLE: USER_GRANTS,
    MEMBER_ROLE: MEMBER_GRANTS,
    CHANNEL_MODERATOR_ROLE: MEMBER_GRANTS,
}


# Stream's OpenAPI marks these required on UpdateChannelType: they are sent back unchanged.
_REQUIRED_SETTINGS: Final = ("automod", "automod_behavior", "max_message_length")


def grants_request() -> dict[str, list[str]]:
    """The `grants` of the UpdateChannelType request that applies the setup."""
    return {role: list(grants) for role, grants in GRANTS.items()}


def update_request(channel_type: Mapping[str, object]) -> dict[str, object]:
    """The UpdateChannelType body: the setup's grants, the type's other settings as they are."""
    body: dict[str, object] = {
        key: channel_type[key] for key in _REQUIRED_SETTINGS if key in channel_type
    }
    body["grants"] = grants_request()
    return body


def missing_grants(channel_type: Mapping[str, object]) -> list[str]:
    """The roles whose grants differ from the setup's, in a GetChannelType answer."""
    grants = channel_type.get("grants")
    if not isinstance(grants, Mapping):
        return sorted(GRANTS)
    differing = []
    for role, wanted in GRANTS.items():
        held = grants.get(role)
        if not isinstance(held, list) or set(held) != set(wanted):
            differing.append(role)
    return differing


__all__ = [
    "CHANNEL_MODERATOR_ROLE",
    "CHANNEL_TYPE",
    "GRANTS",
    "MEMBER_GRANTS",
    "MEMBER_ROLE",
    "USER_GRANTS",
    "USER_ROLE",
    "grants_request",
    "missing_grants",
    "update_request",
]
