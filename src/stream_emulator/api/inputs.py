"""Stream's REST input shapes the emulator parses before calling the simulation.

`ChannelInput` (custom data flattened or under `custom`, creator and members apart), member
entries (ids or member objects with a channel role) and paging objects. Fields Stream knows
but the emulator does not model are an input error rather than silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from stream_emulator.api.request_response import (
    int_field,
    named_user,
    object_field,
    refuse_unsupported,
    string_list,
)
from stream_emulator.state.errors import input_error

# Stream fields the emulator does not model: refused when given a non-empty value.
UNSUPPORTED_CHANNEL_FIELDS: Final = frozenset(
    {
        "team",
        "disabled",
        "auto_translation_enabled",
        "auto_translation_language",
        "truncated_by_id",
        "cooldown",
    }
)
UNSUPPORTED_UPDATE_FIELDS: Final = frozenset(
    {
        "cooldown",
    }
)
UNSUPPORTED_MESSAGE_FIELDS: Final = frozenset({"poll_id", "mml", "shared_location"})


def member_entries(value: object, what: str, endpoint: str) -> tuple[list[str], dict[str, str]]:
    """Ids and explicit channel roles from `["id", {"user_id": ..., "channel_role": ...}]`."""
    if value is None:
        return [], {}
    if not isinstance(value, list):
        raise input_error(endpoint, f"{what} must be a list")
    ids: list[str] = []
    roles: dict[str, str] = {}
    for item in value:
        if isinstance(item, str):
            ids.append(item)
            continue
        if not isinstance(item, Mapping):
            raise input_error(endpoint, f"{what} items must be user ids or member objects")
        user_id = named_user(item)
        if not isinstance(user_id, str):
            raise input_error(endpoint, f"{what} items need a user_id")
        ids.append(user_id)
        role = item.get("channel_role")
        if role is not None:
            if not isinstance(role, str):
                raise input_error(endpoint, f"{what}.channel_role must be a string")
            roles[user_id] = role
    return ids, roles


@attrs.frozen(kw_only=True)
class ChannelInput:
    """What a `ChannelInput` says: custom data, creator, members and their roles."""

    data: dict[str, object]
    created_by: str | None = None
    members: list[str] = attrs.field(factory=list)
    roles: dict[str, str] = attrs.field(factory=dict)
    invites: list[str] = attrs.field(factory=list)
    filter_tags: list[str] | None = None


def channel_input(data: Mapping[str, object], endpoint: str, *, creating: bool) -> ChannelInput:
    """Stream's `ChannelInput`: custom data flattened or under `custom`, plus reserved keys."""
    refuse_unsupported(data, UNSUPPORTED_CHANNEL_FIELDS, endpoint, "data.")
    rest: dict[str, object] = {}
    nested = object_field(data, "custom", endpoint)
    if nested is not None:
        # Newer clients nest custom data (the OpenAPI's `custom`); the SDK flattens it.
        rest.update(nested)
    created_by: str | None = None
    members: list[str] = []
    roles: dict[str, str] = {}
    invites: list[str] = []
    tags: list[str] | None = None
    for key, value in data.items():
        if key in UNSUPPORTED_CHANNEL_FIELDS or key == "custom":
            continue
        if key in ("created_by", "created_by_id"):
            if not creating:
                raise input_error(endpoint, f"data.{key} cannot be changed")
            creator = value.get("id") if isinstance(value, Mapping) else value
            if not isinstance(creator, str) or not creator:
                raise input_error(endpoint, f"data.{key} must name a user")
            created_by = creator
        elif key == "members":
            if not creating:
                raise input_error(endpoint, "use add_members or remove_members to change members")
            members, roles = member_entries(value, "data.members", endpoint)
        elif key == "invites":
            if not creating:
                raise input_error(endpoint, "use invites (not data.invites) to invite members")
            invites, _ = member_entries(value, "data.invites", endpoint)
        elif key == "filter_tags":
            if not creating:
                raise input_error(endpoint, "use add_filter_tags or remove_filter_tags")
            tags = string_list(value, "data.filter_tags", endpoint)
        else:
            rest[key] = value
    return ChannelInput(
        data=rest,
        created_by=created_by,
        members=members,
        roles=roles,
        invites=invites,
        filter_tags=tags,
    )


def pagination(
    body: Mapping[str, object], key: str, endpoint: str, *, default: int, high: int
) -> tuple[int, int]:
    """Limit and offset of a paging object such as `messages` or `members`."""
    params = object_field(body, key, endpoint) or {}
    limit = int_field(params, "limit", endpoint, default=default, high=high)
    offset = int_field(params, "offset", endpoint, default=0)
    return limit, offset
