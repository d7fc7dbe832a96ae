"""The Stream REST API emulator: the subset of Stream's API our adapter uses, over `StreamState`.

Endpoints (paths as Stream's; mounted at `/`, because the async SDK drops path prefixes):

- `GET /app`, `PATCH /app` (only `webhook_url` can be changed)
- `POST /users` (upsert), `PATCH /users` (partial update), `GET /users?payload=` (query by id)
- `POST /channels/{type}/{id}/query` (get or create), `POST /channels` (query channels)
- `POST /channels/{type}/{id}` (full update with `data`, or `add_members`/`remove_members`;
  either may carry a `message`), `PATCH /channels/{type}/{id}` (partial update),
  `DELETE /channels/{type}/{id}`
- `POST /channels/{type}/{id}/message` (send a message), `GET /members?payload=`
- `POST|DELETE /_emulator/faults`, `POST /_emulator/reset`: the emulator's own switches,
  for server-side (secret-holding) callers only.

Every request needs the `api_key` parameter, `Stream-Auth-Type: jwt` and a JWT (see
`auth`). Server tokens may call everything; user tokens may send messages (checked against
the channel's permissions and frozen state), query channels (only their own) and read a
channel they belong to. Success statuses follow Stream's OpenAPI (201 for POST), errors
Stream's JSON shape and codes. Fields Stream knows but the emulator does not model are an
input error rather than silently ignored, so a caller relying on them finds out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import attrs
from litestar import Litestar, Request, Response, delete, get, patch, post
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from yc_chat.adapters.fake_stream import StreamAPIError, StreamChannel, StreamState, payloads
from yc_chat.adapters.fake_stream.errors import input_error, not_allowed
from yc_chat.adapters.fake_stream.model import system_clock
from yc_chat.entrypoints.stream_emulator.auth import Principal
from yc_chat.entrypoints.stream_emulator.control import EmulatorControl
from yc_chat.entrypoints.stream_emulator.webhooks import WebhookSettings

LOG = logging.getLogger(__name__)
ADMIN_PREFIX: Final = "/_emulator/"
RATE_LIMIT: Final = 10_000
# Stream's defaults and caps for channel state (ChannelResponse lists at most 100 members).
DEFAULT_MESSAGE_LIMIT: Final = 25
MAX_MESSAGE_LIMIT: Final = 300
MAX_MEMBER_LIMIT: Final = 100
DEFAULT_USER_QUERY_LIMIT: Final = 30
# Stream fields the emulator does not model: refused when given a non-empty value.
UNSUPPORTED_CHANNEL_FIELDS: Final = frozenset(
    {
        "invites",
        "team",
        "disabled",
        "auto_translation_enabled",
        "auto_translation_language",
        "filter_tags",
        "truncated_by_id",
        "cooldown",
    }
)
UNSUPPORTED_UPDATE_FIELDS: Final = frozenset(
    {
        "assign_roles",
        "add_moderators",
        "demote_moderators",
        "invites",
        "accept_invite",
        "reject_invite",
        "cooldown",
        "add_filter_tags",
        "remove_filter_tags",
    }
)
UNSUPPORTED_MESSAGE_FIELDS: Final = frozenset(
    {"parent_id", "quoted_message_id", "poll_id", "pinned", "mml", "shared_location"}
)


# -- request plumbing ---------------------------------------------------------------------


def _control(request: Request[Any, Any, Any]) -> EmulatorControl:
    control = request.app.state.emulator
    assert isinstance(control, EmulatorControl)
    return control


def _principal(request: Request[Any, Any, Any]) -> Principal:
    principal = request.state.principal
    assert isinstance(principal, Principal)
    return principal


def _server_only(request: Request[Any, Any, Any], endpoint: str) -> None:
    if not _principal(request).is_server:
        raise not_allowed(endpoint, "this endpoint needs server-side auth in the emulator")


def _duration(request: Request[Any, Any, Any]) -> str:
    started = getattr(request.state, "started", None)
    if not isinstance(started, float):
        return "0.00ms"
    return f"{(time.perf_counter() - started) * 1000:.2f}ms"


def _rate_headers(*, exhausted: bool = False) -> dict[str, str]:
    # Stream spells these with a lower-case "l" ("X-Ratelimit-..."): header names are
    # case-insensitive, and clients that look them up case-sensitively get it wrong.
    reset = math.floor(time.time()) + (1 if exhausted else 60)
    return {
        "X-Ratelimit-Limit": str(RATE_LIMIT),
        "X-Ratelimit-Remaining": "0" if exhausted else str(RATE_LIMIT - 1),
        "X-Ratelimit-Reset": str(reset),
    }


def _ok(request: Request[Any, Any, Any], body: dict[str, object], status: int) -> Response[Any]:
    return Response(
        content={**body, "duration": _duration(request)},
        status_code=status,
        headers=_rate_headers(),
    )


async def _body(request: Request[Any, Any, Any], endpoint: str) -> dict[str, object]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise input_error(endpoint, "the request body is not valid JSON") from exc
    if not isinstance(parsed, dict):
        raise input_error(endpoint, "the request body must be a JSON object")
    return parsed


def _payload_param(request: Request[Any, Any, Any], endpoint: str) -> dict[str, object]:
    raw = request.query_params.get("payload")
    if raw is None:
        raise input_error(endpoint, "payload is a required query parameter")
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise input_error(endpoint, "payload is not valid JSON") from exc
    if not isinstance(parsed, dict):
        raise input_error(endpoint, "payload must be a JSON object")
    return parsed


def _object(body: Mapping[str, object], key: str, endpoint: str) -> Mapping[str, object] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise input_error(endpoint, f"{key} must be an object")
    return value


def _int(
    body: Mapping[str, object],
    key: str,
    endpoint: str,
    *,
    default: int,
    low: int = 0,
    high: int | None = None,
) -> int:
    value = body.get(key)
    if value is None:
        return default
    # bool is an int in Python, never a number in JSON.
    if isinstance(value, bool) or not isinstance(value, int):
        raise input_error(endpoint, f"{key} must be an integer")
    if value < low or (high is not None and value > high):
        upper = f" and {high}" if high is not None else ""
        raise input_error(endpoint, f"{key} must be at least {low}{upper}")
    return value


def _strings(value: object, what: str, endpoint: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise input_error(endpoint, f"{what} must be a list of strings")
    return list(value)


def _refuse_unsupported(
    body: Mapping[str, object], fields: frozenset[str], endpoint: str, prefix: str = ""
) -> None:
    for key in sorted(fields & set(body)):
        if body[key] not in (None, False, "", [], {}, 0):
            raise input_error(endpoint, f"{prefix}{key} is not supported by the emulator")


def _member_entries(value: object, what: str, endpoint: str) -> tuple[list[str], dict[str, str]]:
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
        user = item.get("user")
        user_id = item.get("user_id") or (user.get("id") if isinstance(user, Mapping) else None)
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
class _ChannelInput:
    data: dict[str, object]
    created_by: str | None = None
    members: list[str] = attrs.field(factory=list)
    roles: dict[str, str] = attrs.field(factory=dict)


def _channel_input(data: Mapping[str, object], endpoint: str, *, creating: bool) -> _ChannelInput:
    """Stream's `ChannelInput`: custom data flattened or under `custom`, plus reserved keys."""
    _refuse_unsupported(data, UNSUPPORTED_CHANNEL_FIELDS, endpoint, "data.")
    rest: dict[str, object] = {}
    nested = _object(data, "custom", endpoint)
    if nested is not None:
        # Newer clients nest custom data (the OpenAPI's `custom`); the SDK flattens it.
        rest.update(nested)
    created_by: str | None = None
    members: list[str] = []
    roles: dict[str, str] = {}
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
            members, roles = _member_entries(value, "data.members", endpoint)
        else:
            rest[key] = value
    return _ChannelInput(data=rest, created_by=created_by, members=members, roles=roles)


# -- payloads -------------------------------------------------------------------------------


def _members_json(state: StreamState, channel: StreamChannel) -> list[dict[str, object]]:
    return [payloads.member(member, state.user) for member in channel.members]


def _channel_state(
    state: StreamState,
    channel: StreamChannel,
    *,
    message_limit: int,
    member_limit: int,
    member_offset: int = 0,
) -> dict[str, object]:
    """`ChannelStateResponseFields`: the channel, a page of members, the newest messages."""
    messages = state.messages(channel.type, channel.id)
    newest = messages[-message_limit:] if message_limit > 0 else ()
    members = channel.members[member_offset : member_offset + member_limit]
    return {
        "channel": payloads.channel(channel, state.user),
        "members": [payloads.member(member, state.user) for member in members],
        "messages": [payloads.message(message, state.user) for message in newest],
        "pinned_messages": [],
        "threads": [],
        "read": [],
        "watcher_count": 0,
        "watchers": [],
    }


def _pagination(
    body: Mapping[str, object], key: str, endpoint: str, *, default: int, high: int
) -> tuple[int, int]:
    params = _object(body, key, endpoint) or {}
    limit = _int(params, "limit", endpoint, default=default, high=high)
    offset = _int(params, "offset", endpoint, default=0)
    return limit, offset


# -- app and users ----------------------------------------------------------------------------


@get("/app")
async def get_app(request: Request[Any, Any, Any]) -> Response[Any]:
    """GetApp: the app's settings (a subset)."""
    _server_only(request, "GetApp")
    control = _control(request)
    settings = control.state.app_settings()
    raw = settings.get("app")
    app_json: dict[str, object] = dict(raw) if isinstance(raw, Mapping) else {}
    app_json.update(
        {
            "webhook_url": control.webhook_url or "",
            "disable_auth_checks": False,
            "disable_permissions_checks": False,
            "permission_version": "v2",
        }
    )
    return _ok(request, {"app": app_json}, 200)


@patch("/app")
async def update_app(request: Request[Any, Any, Any]) -> Response[Any]:
    """UpdateApp: only `webhook_url` is modelled."""
    endpoint = "UpdateApp"
    _server_only(request, endpoint)
    body = await _body(request, endpoint)
    unknown = sorted(set(body) - {"webhook_url"})
    if unknown:
        raise input_error(endpoint, f"the emulator can only change webhook_url, not {unknown}")
    url = body.get("webhook_url")
    if url is not None and not isinstance(url, str):
        raise input_error(endpoint, "webhook_url must be a string")
    if url and not url.startswith(("http://", "https://")):
        raise input_error(endpoint, "webhook_url must be an http(s) URL")
    _control(request).webhook_url = url or None
    return _ok(request, {}, 200)


@post("/users")
async def upsert_users(request: Request[Any, Any, Any]) -> Response[Any]:
    """UpdateUsers: create or replace up to 100 users, keyed by id."""
    endpoint = "UpdateUsers"
    _server_only(request, endpoint)
    body = await _body(request, endpoint)
    users = _object(body, "users", endpoint)
    if users is None:
        raise input_error(endpoint, "users is a required field")
    batch: list[Mapping[str, object]] = []
    for key, user in users.items():
        if not isinstance(user, Mapping):
            raise input_error(endpoint, f"users.{key} must be an object")
        if user.get("id", key) != key:
            raise input_error(endpoint, f"users.{key}.id does not match its key")
        batch.append({**user, "id": key})
    state = _control(request).state
    stored = state.upsert_users(batch)
    return _ok(
        request,
        {
            "users": {uid: payloads.full_user(user) for uid, user in stored.items()},
            "membership_deletion_task_id": "",
        },
        201,
    )


@patch("/users")
async def update_users_partial(request: Request[Any, Any, Any]) -> Response[Any]:
    """UpdateUsersPartial: set and unset fields of up to 100 users."""
    endpoint = "UpdateUsersPartial"
    _server_only(request, endpoint)
    body = await _body(request, endpoint)
    updates = body.get("users")
    if not isinstance(updates, list) or not updates:
        raise input_error(endpoint, "users must be a non-empty list")
    if len(updates) > 100:
        raise input_error(endpoint, "users must contain at most 100 items")
    state = _control(request).state
    result: dict[str, object] = {}
    for update in updates:
        if not isinstance(update, Mapping) or not isinstance(update.get("id"), str):
            raise input_error(endpoint, "every update needs an id")
        user = state.partial_update_user(
            str(update["id"]),
            set_fields=_object(update, "set", endpoint),
            unset=_strings(update.get("unset"), "unset", endpoint),
        )
        result[user.id] = payloads.full_user(user)
    return _ok(request, {"users": result, "membership_deletion_task_id": ""}, 200)


@get("/users")
async def query_users(request: Request[Any, Any, Any]) -> Response[Any]:
    """QueryUsers: users by id (`id` with `$eq`/`$in`), in creation order."""
    endpoint = "QueryUsers"
    _server_only(request, endpoint)
    payload = _payload_param(request, endpoint)
    sort = payload.get("sort")
    if sort not in (None, [], [{"field": "created_at", "direction": 1}]):
        raise input_error(endpoint, "the emulator sorts users by created_at only")
    conditions = _object(payload, "filter_conditions", endpoint) or {}
    state = _control(request).state
    users = state.query_users(
        conditions,
        limit=_int(payload, "limit", endpoint, default=DEFAULT_USER_QUERY_LIMIT),
        offset=_int(payload, "offset", endpoint, default=0, high=1000),
    )
    return _ok(request, {"users": [payloads.full_user(user) for user in users]}, 200)


# -- channels -------------------------------------------------------------------------------


@post("/channels/{channel_type:str}/{channel_id:str}/query")
async def get_or_create_channel(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """GetOrCreateChannel: the channel's state, creating it (server-side) if needed."""
    endpoint = "GetOrCreateChannel"
    body = await _body(request, endpoint)
    principal = _principal(request)
    if principal.is_server and (body.get("watch") is True or body.get("presence") is True):
        raise input_error(endpoint, "watch and presence need a websocket connection_id")
    data = _channel_input(_object(body, "data", endpoint) or {}, endpoint, creating=True)
    message_limit, _ = _pagination(
        body, "messages", endpoint, default=DEFAULT_MESSAGE_LIMIT, high=MAX_MESSAGE_LIMIT
    )
    member_limit, member_offset = _pagination(
        body, "members", endpoint, default=MAX_MEMBER_LIMIT, high=MAX_MEMBER_LIMIT
    )
    state = _control(request).state
    existing = state.channel(channel_type, channel_id)
    if principal.is_server:
        creator = data.created_by or (existing.created_by_id if existing is not None else None)
        if creator is None:
            raise input_error(
                endpoint,
                "either data.created_by or data.created_by_id must be provided when using "
                "server side auth.",
            )
        channel, _ = state.get_or_create_channel(
            channel_type,
            channel_id,
            created_by_id=creator,
            data=data.data,
            members=data.members,
            member_roles=data.roles,
        )
    else:
        if existing is None:
            raise not_allowed(endpoint, "the emulator creates channels server-side only")
        channel, _ = state.get_or_create_channel(
            channel_type, channel_id, created_by_id=existing.created_by_id
        )
        if channel.member(str(principal.user_id)) is None:
            raise not_allowed(
                endpoint,
                f"User '{principal.user_id}' is not allowed to perform action ReadChannel "
                f"in scope '{channel_type}'",
            )
    body_out = _channel_state(
        state,
        channel,
        message_limit=message_limit,
        member_limit=member_limit,
        member_offset=member_offset,
    )
    return _ok(request, body_out, 201)


@post("/channels/{channel_type:str}/{channel_id:str}")
async def update_channel(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """UpdateChannel: replace data, or add/remove members; either may post a message."""
    endpoint = "UpdateChannel"
    if channel_id == "query":
        # POST /channels/{type}/query is Stream's create-without-id (distinct channels).
        raise input_error("GetOrCreateChannel", "the emulator needs a channel id")
    _server_only(request, endpoint)
    body = await _body(request, endpoint)
    _refuse_unsupported(body, UNSUPPORTED_UPDATE_FIELDS, endpoint)
    message = _object(body, "message", endpoint)
    state = _control(request).state
    membership = "add_members" in body or "remove_members" in body
    data = _object(body, "data", endpoint)
    if membership:
        if data is not None:
            raise input_error(
                endpoint, "the emulator does not change data and members in one request"
            )
        add, roles = _member_entries(body.get("add_members"), "add_members", endpoint)
        remove = _strings(body.get("remove_members"), "remove_members", endpoint)
        channel = state.update_members(
            channel_type, channel_id, add=add, remove=remove, message=message, add_roles=roles
        )
    elif data is not None:
        parsed = _channel_input(data, endpoint, creating=False)
        channel = state.update_channel(channel_type, channel_id, parsed.data, message=message)
    else:
        raise input_error(endpoint, "give data, add_members or remove_members")
    result: dict[str, object] = {
        "channel": payloads.channel(channel, state.user),
        "members": _members_json(state, channel),
    }
    if message is not None:
        posted = state.messages(channel_type, channel_id)
        if posted:
            result["message"] = payloads.message(posted[-1], state.user)
    return _ok(request, result, 201)


@patch("/channels/{channel_type:str}/{channel_id:str}")
async def update_channel_partial(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """UpdateChannelPartial: set and unset custom fields, `frozen` and `config_overrides`."""
    endpoint = "UpdateChannelPartial"
    _server_only(request, endpoint)
    body = await _body(request, endpoint)
    to_set = _object(body, "set", endpoint) or {}
    parsed = _channel_input(to_set, endpoint, creating=False)
    state = _control(request).state
    channel = state.update_channel_partial(
        channel_type,
        channel_id,
        set_fields=parsed.data,
        unset=_strings(body.get("unset"), "unset", endpoint),
    )
    return _ok(
        request,
        {
            "channel": payloads.channel(channel, state.user),
            "members": _members_json(state, channel),
        },
        200,
    )


@delete("/channels/{channel_type:str}/{channel_id:str}", status_code=200)
async def delete_channel(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """DeleteChannel: always a hard delete in the emulator (announced as channel.deleted)."""
    endpoint = "DeleteChannel"
    _server_only(request, endpoint)
    state = _control(request).state
    channel = state.delete_channel(channel_type, channel_id)
    channel_json = payloads.channel(channel, state.user)
    channel_json["deleted_at"] = payloads.format_time(state.now())
    return _ok(request, {"channel": channel_json}, 200)


@post("/channels/{channel_type:str}/{channel_id:str}/message")
async def send_message(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """SendMessage: as the message's user (server-side) or as the token's user."""
    endpoint = "SendMessage"
    body = await _body(request, endpoint)
    message = _object(body, "message", endpoint)
    if message is None:
        raise input_error(endpoint, "message is a required field")
    _refuse_unsupported(message, UNSUPPORTED_MESSAGE_FIELDS, endpoint, "message.")
    user = message.get("user")
    named = message.get("user_id") or (user.get("id") if isinstance(user, Mapping) else None)
    if named is not None and not isinstance(named, str):
        raise input_error(endpoint, "message.user_id must be a string")
    principal = _principal(request)
    if principal.is_server:
        if named is None:
            raise input_error(
                endpoint, "message.user or message.user_id is required with server side auth"
            )
        sender = named
    else:
        sender = str(principal.user_id)
        if named is not None and named != sender:
            raise not_allowed(endpoint, "a user can only send messages as themselves")
    text = message.get("text", "")
    message_type = message.get("type", "regular")
    message_id = message.get("id")
    attachments = message.get("attachments") or []
    if not isinstance(text, str) or not isinstance(message_type, str):
        raise input_error(endpoint, "message.text and message.type must be strings")
    if message_id is not None and not isinstance(message_id, str):
        raise input_error(endpoint, "message.id must be a string")
    if not isinstance(attachments, list) or not all(isinstance(a, Mapping) for a in attachments):
        raise input_error(endpoint, "message.attachments must be a list of objects")
    if not principal.is_server and message_type != "regular":
        raise not_allowed(endpoint, f"users cannot send {message_type} messages")
    state = _control(request).state
    posted = state.send_message(
        channel_type,
        channel_id,
        text=text,
        user_id=sender,
        attachments=attachments,
        message_type=message_type,
        message_id=message_id,
        client_side=not principal.is_server,
    )
    return _ok(request, {"message": payloads.message(posted, state.user)}, 201)


@post("/channels")
async def query_channels(request: Request[Any, Any, Any]) -> Response[Any]:
    """QueryChannels: filter, sort and page; a user sees only channels they belong to."""
    endpoint = "QueryChannels"
    body = await _body(request, endpoint)
    principal = _principal(request)
    if principal.is_server and (body.get("watch") is True or body.get("presence") is True):
        raise input_error(endpoint, "watch and presence need a websocket connection_id")
    conditions: Mapping[str, object] = _object(body, "filter_conditions", endpoint) or {}
    as_user = principal.user_id if not principal.is_server else body.get("user_id")
    if as_user is not None:
        if not isinstance(as_user, str):
            raise input_error(endpoint, "user_id must be a string")
        own = {"members": {"$in": [as_user]}}
        conditions = {"$and": [dict(conditions), own]} if conditions else own
    sort = body.get("sort")
    if sort is not None and not isinstance(sort, list):
        raise input_error(endpoint, "sort must be a list of {field, direction}")
    state = _control(request).state
    channels = state.query_channels(
        conditions,
        # The SDK sends [] for "no sort"; Stream then applies its default order.
        sort or None,
        limit=_int(body, "limit", endpoint, default=10),
        offset=_int(body, "offset", endpoint, default=0),
    )
    message_limit = _int(
        body, "message_limit", endpoint, default=DEFAULT_MESSAGE_LIMIT, high=MAX_MESSAGE_LIMIT
    )
    member_limit = _int(
        body, "member_limit", endpoint, default=MAX_MEMBER_LIMIT, high=MAX_MEMBER_LIMIT
    )
    return _ok(
        request,
        {
            "channels": [
                _channel_state(
                    state, channel, message_limit=message_limit, member_limit=member_limit
                )
                for channel in channels
            ]
        },
        201,
    )


@get("/members")
async def query_members(request: Request[Any, Any, Any]) -> Response[Any]:
    """QueryMembers: a channel's members in joining order (no member filters modelled)."""
    endpoint = "QueryMembers"
    _server_only(request, endpoint)
    payload = _payload_param(request, endpoint)
    channel_type, channel_id = payload.get("type"), payload.get("id")
    if not isinstance(channel_type, str) or not isinstance(channel_id, str):
        raise input_error(endpoint, "type and id are required")
    if _object(payload, "filter_conditions", endpoint):
        raise input_error(endpoint, "the emulator supports only an empty member filter")
    sort = payload.get("sort")
    if sort not in (None, [], [{"field": "created_at", "direction": 1}]):
        raise input_error(endpoint, "the emulator sorts members by created_at only")
    state = _control(request).state
    members = state.query_members(
        channel_type,
        channel_id,
        limit=_int(payload, "limit", endpoint, default=100, low=1),
        offset=_int(payload, "offset", endpoint, default=0, high=10_000),
    )
    return _ok(
        request, {"members": [payloads.member(member, state.user) for member in members]}, 200
    )


# -- the emulator's own switches --------------------------------------------------------------


def _faults_json(control: EmulatorControl) -> dict[str, object]:
    faults = control.faults
    return {
        "fail_status": faults.fail_status,
        "fail_remaining": faults.fail_remaining,
        "fail_only": faults.fail_only,
        "delay": faults.delay,
    }


@post("/_emulator/faults", status_code=200)
async def set_faults(request: Request[Any, Any, Any]) -> Response[Any]:
    """Switch faults on: `{"fail_status": 503, "fail_count": 2, "delay": 0.5}`."""
    endpoint = "EmulatorFaults"
    _server_only(request, endpoint)
    body = await _body(request, endpoint)
    control = _control(request)
    status = body.get("fail_status")
    count = body.get("fail_count")
    only = body.get("fail_only")
    delay = body.get("delay", 0)
    try:
        if status is not None:
            if isinstance(status, bool) or not isinstance(status, int):
                raise input_error(endpoint, "fail_status must be an integer")
            if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
                raise input_error(endpoint, "fail_count must be an integer")
            if only is not None and not isinstance(only, str):
                raise input_error(endpoint, "fail_only must be a string like 'POST /channels'")
            control.fail(status, count=count, only=only)
        if isinstance(delay, bool) or not isinstance(delay, int | float):
            raise input_error(endpoint, "delay must be a number of seconds")
        control.slow(float(delay))
    except ValueError as exc:
        raise input_error(endpoint, str(exc)) from exc
    return _ok(request, {"faults": _faults_json(control)}, 200)


@delete("/_emulator/faults", status_code=200)
async def clear_faults(request: Request[Any, Any, Any]) -> Response[Any]:
    """Switch every fault off."""
    _server_only(request, "EmulatorFaults")
    control = _control(request)
    control.heal()
    return _ok(request, {"faults": _faults_json(control)}, 200)


@post("/_emulator/reset", status_code=200)
async def reset_state(request: Request[Any, Any, Any]) -> Response[Any]:
    """Forget every user, channel and message."""
    _server_only(request, "EmulatorReset")
    _control(request).reset()
    return _ok(request, {}, 200)


# -- hooks and errors -----------------------------------------------------------------------


async def _before_request(request: Request[Any, Any, Any]) -> None:
    request.state.started = time.perf_counter()
    control = _control(request)
    path = request.url.path
    if not path.startswith(ADMIN_PREFIX):
        request_line = f"{request.method} {path}"
        control.count_request(request_line)
        # Faults first: an overloaded or unreachable Stream fails whoever asks.
        delay = control.faults.delay
        if delay > 0:
            await asyncio.sleep(delay)
        failure = control.take_failure(request_line)
        if failure is not None:
            raise failure
    request.state.principal = control.authenticator.authenticate(
        api_key=request.query_params.get("api_key"),
        auth_type=request.headers.get("stream-auth-type"),
        authorization=request.headers.get("authorization"),
    )


def _error_response(request: Request[Any, Any, Any], error: StreamAPIError) -> Response[Any]:
    return Response(
        content=error.to_json(duration=_duration(request)),
        status_code=error.status_code,
        headers=_rate_headers(exhausted=error.status_code == 429),
    )


def _on_stream_error(request: Request[Any, Any, Any], exc: StreamAPIError) -> Response[Any]:
    return _error_response(request, exc)


def _on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    # Litestar's own refusals (unknown path, wrong method, body too large) in Stream's shape.
    return _error_response(request, StreamAPIError.for_status(exc.status_code, exc.detail))


def _on_crash(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    LOG.exception("stream emulator crashed on %s %s", request.method, request.url.path)
    return _error_response(request, StreamAPIError(500, -1, "internal error"))


# A local tool: any web app (served from anywhere) may call it, as browsers call Stream.
# Preflights are answered by the CORS middleware before authentication, so never 401.
CORS: Final = CORSConfig(
    allow_origins=["*"],
    allow_methods=["*"],
    allow_headers=["*"],
    expose_headers=["X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"],
    max_age=86400,
)

ROUTES: Final = [
    get_app,
    update_app,
    upsert_users,
    update_users_partial,
    query_users,
    get_or_create_channel,
    update_channel,
    update_channel_partial,
    delete_channel,
    send_message,
    query_channels,
    query_members,
    set_faults,
    clear_faults,
    reset_state,
]


def create_emulator_app(
    state: StreamState,
    *,
    api_key: str,
    api_secret: str,
    webhook_url: str | None = None,
    webhook: WebhookSettings | None = None,
    clock: Callable[[], datetime] = system_clock,
) -> Litestar:
    """A Litestar app serving `state` as Stream's REST API, to be mounted at `/`.

    `clock` is the time tokens are checked against; `emulator_control(app)` is the handle
    for faults, state resets and the webhook target.
    """
    handle = EmulatorControl(
        state,
        api_key=api_key,
        api_secret=api_secret,
        webhook_url=webhook_url,
        webhook=webhook,
        clock=clock,
    )
    return Litestar(
        route_handlers=ROUTES,
        cors_config=CORS,
        before_request=_before_request,
        exception_handlers={
            StreamAPIError: _on_stream_error,
            HTTPException: _on_http_error,
            Exception: _on_crash,
        },
        on_startup=[handle.start],
        on_shutdown=[handle.stop],
        state=State({"emulator": handle}),
        openapi_config=None,
        debug=False,
        logging_config=None,
    )


def emulator_control(app: Litestar) -> EmulatorControl:
    """The control handle of an app made by `create_emulator_app`."""
    control = app.state.emulator
    assert isinstance(control, EmulatorControl)
    return control
