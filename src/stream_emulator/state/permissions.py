"""Stream's permission check for the one action we rely on: CreateMessage.

Permissions are checked only for client-side sends (a request made with a user token):
server-side calls may do anything, as on Stream. The check uses the messaging type's
default grants and the channel's `config_overrides.grants` modifiers (`"!create-message"`
revokes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from stream_emulator.state.errors import not_allowed
from stream_emulator.state.records import (
    DEFAULT_USER_ROLE,
    MEMBER_ROLE,
    MODERATOR_ROLE,
    OWNER_ROLE,
    StreamChannel,
    StreamUser,
)

# The messaging type's default grants for CreateMessage (Stream's permissions reference):
# channel members and moderators may post, the global `user` role only in channels it owns.
# The creator role `owner` counts as a channel member (on Stream the creator is a
# `channel_member` whose ownership comes from `created_by`).
CREATE_MESSAGE: Final = "create-message"
CREATE_MESSAGE_OWNER: Final = "create-message-owner"
_DEFAULT_MESSAGE_GRANTS: Final[dict[str, frozenset[str]]] = {
    "admin": frozenset({CREATE_MESSAGE}),
    "moderator": frozenset({CREATE_MESSAGE}),
    DEFAULT_USER_ROLE: frozenset({CREATE_MESSAGE_OWNER}),
    MEMBER_ROLE: frozenset({CREATE_MESSAGE}),
    MODERATOR_ROLE: frozenset({CREATE_MESSAGE}),
}


def check_may_post(
    endpoint: str, channel: StreamChannel, user_id: str, user: StreamUser | None
) -> None:
    """Refuse (403 / code 17) unless `user_id` may post in `channel` from a client."""
    member = channel.member(user_id)
    roles = [user.role if user is not None else DEFAULT_USER_ROLE]
    if member is not None:
        roles.append(MEMBER_ROLE if member.channel_role == OWNER_ROLE else member.channel_role)
    grants: set[str] = set()
    for role in roles:
        grants |= effective_grants(channel, role)
    owns = channel.created_by_id == user_id
    if CREATE_MESSAGE in grants or (owns and CREATE_MESSAGE_OWNER in grants):
        return
    raise not_allowed(
        endpoint,
        f"User '{user_id}' with role '{roles[0]}' is not allowed to perform action "
        f"CreateMessage in scope '{channel.type}'",
    )


def effective_grants(channel: StreamChannel, role: str) -> set[str]:
    """The role's default messaging grants changed by the channel's grant modifiers."""
    granted = set(_DEFAULT_MESSAGE_GRANTS.get(role, frozenset()))
    grants = channel.config_overrides.get("grants")
    modifiers = grants.get(role, []) if isinstance(grants, Mapping) else []
    for modifier in modifiers if isinstance(modifiers, list) else []:
        if isinstance(modifier, str) and modifier.startswith("!"):
            granted.discard(modifier[1:])
        elif isinstance(modifier, str):
            granted.add(modifier)
    return granted
