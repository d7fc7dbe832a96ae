"""The part of Stream's published OpenAPI description the emulator answers, written down here.

Source: GetStream/protocol, `openapi/chat-openapi.yaml` (API version v236.0.4): for each
operation the emulator serves, its method, path, success status and response schema; for
each schema, its required fields and their JSON types, and the nested schemas we check.
Only what the emulator produces is listed; `custom` is left out everywhere, because the
chat API (and the Python SDK reading it) puts custom data flat on the object instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs


@attrs.frozen
class One:
    """A field holding one object of the named schema."""

    schema: str


@attrs.frozen
class Many:
    """A field holding a list of objects of the named schema."""

    schema: str


@attrs.frozen
class MapOf:
    """A field holding an object whose values are objects of the named schema."""

    schema: str


Field = type | One | Many | MapOf

_USER: Final[dict[str, Field]] = {
    "id": str,
    "language": str,
    "role": str,
    "teams": list,
    "created_at": str,
    "updated_at": str,
    "banned": bool,
    "online": bool,
    "blocked_user_ids": list,
    "shadow_banned": bool,
    "invisible": bool,
}
_CHANNEL_STATE: Final[dict[str, Field]] = {
    "messages": Many("MessageResponse"),
    "pinned_messages": Many("MessageResponse"),
    "members": Many("ChannelMemberResponse"),
    "threads": list,
}

# Required fields per schema.
REQUIRED: Final[dict[str, dict[str, Field]]] = {
    "APIError": {
        "code": int,
        "message": str,
        "StatusCode": int,
        "duration": str,
        "more_info": str,
        "details": list,
    },
    "Response": {"duration": str},
    "UserResponse": _USER,
    "FullUserResponse": {
        **_USER,
        "devices": list,
        "mutes": list,
        "channel_mutes": list,
        "unread_count": int,
        "total_unread_count": int,
        "unread_channels": int,
        "unread_threads": int,
    },
    "ChannelMemberResponse": {
        "created_at": str,
        "updated_at": str,
        "banned": bool,
        "shadow_banned": bool,
        "channel_role": str,
        "notifications_muted": bool,
    },
    "MessageResponse": {
        "id": str,
        "text": str,
        "html": str,
        "type": str,
        "user": One("UserResponse"),
        "attachments": list,
        "latest_reactions": list,
        "own_reactions": list,
        "reaction_counts": dict,
        "reaction_scores": dict,
        "reply_count": int,
        "deleted_reply_count": int,
        "cid": str,
        "created_at": str,
        "updated_at": str,
        "shadowed": bool,
        "mentioned_users": list,
        "mentioned_channel": bool,
        "mentioned_here": bool,
        "silent": bool,
        "pinned": bool,
        "restricted_visibility": list,
    },
    "ChannelResponse": {
        "id": str,
        "type": str,
        "cid": str,
        "created_at": str,
        "updated_at": str,
        "frozen": bool,
        "disabled": bool,
    },
    "ChannelStateResponseFields": _CHANNEL_STATE,
    "ChannelStateResponse": {**_CHANNEL_STATE, "duration": str},
    "QueryChannelsResponse": {"channels": Many("ChannelStateResponseFields"), "duration": str},
    "UpdateChannelResponse": {"members": Many("ChannelMemberResponse"), "duration": str},
    "UpdateChannelPartialResponse": {"members": Many("ChannelMemberResponse"), "duration": str},
    "DeleteChannelResponse": {"duration": str},
    "UpdateUsersResponse": {
        "users": MapOf("FullUserResponse"),
        "membership_deletion_task_id": str,
        "duration": str,
    },
    "QueryUsersResponse": {"users": Many("FullUserResponse"), "duration": str},
    "SendMessageResponse": {"message": One("MessageResponse"), "duration": str},
    "MembersResponse": {"members": Many("ChannelMemberResponse"), "duration": str},
    "GetApplicationResponse": {"app": dict, "duration": str},
}

# Optional fields checked when present.
OPTIONAL: Final[dict[str, dict[str, Field]]] = {
    "ChannelMemberResponse": {"user": One("UserResponse"), "user_id": str},
    "ChannelResponse": {
        "created_by": One("UserResponse"),
        "member_count": int,
        "last_message_at": str,
        "deleted_at": str,
        "config": dict,
    },
    "ChannelStateResponseFields": {"channel": One("ChannelResponse"), "watcher_count": int},
    "ChannelStateResponse": {"channel": One("ChannelResponse"), "watcher_count": int},
    "UpdateChannelResponse": {"channel": One("ChannelResponse"), "message": One("MessageResponse")},
    "UpdateChannelPartialResponse": {"channel": One("ChannelResponse")},
    "DeleteChannelResponse": {"channel": One("ChannelResponse")},
    "UserResponse": {"name": str, "image": str},
    "FullUserResponse": {"name": str, "image": str},
}


@attrs.frozen(kw_only=True)
class Operation:
    """One endpoint: how it is called and what a success looks like."""

    method: str
    path: str
    status: int
    response: str


# Stream's POST operations answer 201, the others 200.
OPERATIONS: Final[dict[str, Operation]] = {
    "GetApp": Operation(method="GET", path="/app", status=200, response="GetApplicationResponse"),
    "UpdateApp": Operation(method="PATCH", path="/app", status=200, response="Response"),
    "UpdateUsers": Operation(
        method="POST", path="/users", status=201, response="UpdateUsersResponse"
    ),
    "UpdateUsersPartial": Operation(
        method="PATCH", path="/users", status=200, response="UpdateUsersResponse"
    ),
    "QueryUsers": Operation(method="GET", path="/users", status=200, response="QueryUsersResponse"),
    "GetOrCreateChannel": Operation(
        method="POST",
        path="/channels/{type}/{id}/query",
        status=201,
        response="ChannelStateResponse",
    ),
    "UpdateChannel": Operation(
        method="POST", path="/channels/{type}/{id}", status=201, response="UpdateChannelResponse"
    ),
    "UpdateChannelPartial": Operation(
        method="PATCH",
        path="/channels/{type}/{id}",
        status=200,
        response="UpdateChannelPartialResponse",
    ),
    "DeleteChannel": Operation(
        method="DELETE", path="/channels/{type}/{id}", status=200, response="DeleteChannelResponse"
    ),
    "SendMessage": Operation(
        method="POST",
        path="/channels/{type}/{id}/message",
        status=201,
        response="SendMessageResponse",
    ),
    "QueryChannels": Operation(
        method="POST", path="/channels", status=201, response="QueryChannelsResponse"
    ),
    "QueryMembers": Operation(
        method="GET", path="/members", status=200, response="MembersResponse"
    ),
}


def _type_name(value: object) -> str:
    return type(value).__name__


def _check_field(where: str, field: Field, value: object) -> list[str]:
    if isinstance(field, One):
        return problems(field.schema, value, where)
    if isinstance(field, Many):
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {_type_name(value)}"]
        found: list[str] = []
        for index, item in enumerate(value):
            found += problems(field.schema, item, f"{where}[{index}]")
        return found
    if isinstance(field, MapOf):
        if not isinstance(value, Mapping):
            return [f"{where}: expected an object, got {_type_name(value)}"]
        found = []
        for key, item in value.items():
            found += problems(field.schema, item, f"{where}.{key}")
        return found
    # JSON has no int/bool confusion: true is not a number.
    if field is int and isinstance(value, bool):
        return [f"{where}: expected int, got bool"]
    if not isinstance(value, field):
        return [f"{where}: expected {field.__name__}, got {_type_name(value)}"]
    return []


def problems(schema: str, value: object, where: str = "$") -> list[str]:
    """How `value` departs from `schema` (required fields, types, nested schemas)."""
    if not isinstance(value, Mapping):
        return [f"{where}: expected a {schema} object, got {_type_name(value)}"]
    found: list[str] = []
    for name, field in REQUIRED[schema].items():
        if name not in value:
            found.append(f"{where}.{name}: required by {schema}, missing")
        else:
            found += _check_field(f"{where}.{name}", field, value[name])
    for name, field in OPTIONAL.get(schema, {}).items():
        if value.get(name) is not None:
            found += _check_field(f"{where}.{name}", field, value[name])
    return found
