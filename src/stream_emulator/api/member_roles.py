"""UpdateChannel's changes to members' standing: `invites`, `accept_invite`,
`reject_invite`, `add_moderators`, `demote_moderators` and `assign_roles` (one kind per
request). A user may invite and change roles with UpdateChannelMembers (the channel's
owner by default); an invitation is answered by the invitee alone (or server-side for a
`user_id`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from litestar import Request

from stream_emulator.api.inputs import member_entries
from stream_emulator.api.request_response import (
    acting_user,
    control_of,
    named_user,
    principal_of,
    string_list,
)
from stream_emulator.state import StreamChannel, permissions
from stream_emulator.state.errors import input_error, not_allowed

STANDING_FIELDS: Final = (
    "invites",
    "accept_invite",
    "reject_invite",
    "add_moderators",
    "demote_moderators",
    "assign_roles",
)
# What else an UpdateChannel body may carry beside one of these changes.
_COMPANIONS: Final = frozenset({"message", "user_id", "user", "skip_push"})
ONLY_AS_SELF: Final = "a user can only answer their own invitation"


def change_standing(
    request: Request[Any, Any, Any],
    body: Mapping[str, object],
    endpoint: str,
    channel_type: str,
    channel_id: str,
    message: Mapping[str, object] | None,
    check_client: Callable[[str], None],
) -> StreamChannel:
    """Apply the one standing change `body` asks for; `check_client(action)` checks a
    user-token caller's grant for the channel (and the message riding on the change)."""
    given = [key for key in STANDING_FIELDS if body.get(key) not in (None, False)]
    extra = sorted(set(body) - set(STANDING_FIELDS) - _COMPANIONS)
    if len(given) != 1 or extra:
        raise input_error(
            endpoint,
            "the emulator changes one of "
            + ", ".join(STANDING_FIELDS)
            + " per request, with nothing else but a message",
        )
    key = given[0]
    state = control_of(request).state
    if key in ("accept_invite", "reject_invite"):
        if body[key] is not True:
            raise input_error(endpoint, f"{key} must be true or left out")
        named = named_user(body)
        user_id = acting_user(request, endpoint, named, refusal=ONLY_AS_SELF)
        if message is not None and message.get("user_id", user_id) != user_id:
            raise not_allowed(endpoint, "the answer's message must be the invitee's")
        return state.answer_invite(
            channel_type, channel_id, user_id, accept=key == "accept_invite", message=message
        )
    if not principal_of(request).is_server:
        check_client(permissions.UPDATE_CHANNEL_MEMBERS)
    if key == "invites":
        invited, _ = member_entries(body[key], key, endpoint)
        return state.invite_members(channel_type, channel_id, invited, message=message)
    if key == "assign_roles":
        ids, roles = member_entries(body[key], key, endpoint)
        if set(ids) != set(roles):
            raise input_error(endpoint, "assign_roles items need a user_id and a channel_role")
        return state.assign_channel_roles(channel_type, channel_id, roles, message=message)
    users = string_list(body[key], key, endpoint)
    if key == "add_moderators":
        return state.change_moderators(channel_type, channel_id, add=users, message=message)
    return state.change_moderators(channel_type, channel_id, demote=users, message=message)
