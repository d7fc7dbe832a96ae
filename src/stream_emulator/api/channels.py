"""`/channels`: get-or-create, update, partial update, delete and query channels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Request, Response, delete, patch, post
from litestar.params import FromPath

from stream_emulator.api.inputs import (
    UNSUPPORTED_UPDATE_FIELDS,
    channel_input,
    member_entries,
    pagination,
)
from stream_emulator.api.live import watch_from_client
from stream_emulator.api.member_roles import STANDING_FIELDS, change_standing
from stream_emulator.api.request_response import (
    control_of,
    int_field,
    object_field,
    ok,
    principal_of,
    read_body,
    refuse_unsupported,
    string_list,
)
from stream_emulator.auth import Principal
from stream_emulator.state import StreamChannel, payloads, permissions
from stream_emulator.state.errors import input_error, not_allowed

# Stream's defaults and caps for channel state (ChannelResponse lists at most 100 members).
DEFAULT_MESSAGE_LIMIT: Final = 25
MAX_MESSAGE_LIMIT: Final = 300
MAX_MEMBER_LIMIT: Final = 100


@post("/channels/{channel_type:str}/{channel_id:str}/query")
async def get_or_create_channel(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """GetOrCreateChannel: the channel's state, creating it (server-side) if needed."""
    endpoint = "GetOrCreateChannel"
    body = await read_body(request, endpoint)
    principal = principal_of(request)
    _refuse_server_watch(body, endpoint, principal)
    data = channel_input(object_field(body, "data", endpoint) or {}, endpoint, creating=True)
    state = control_of(request).state
    existing = state.channel(channel_type, channel_id)
    if principal.is_server:
        creator = _server_side_creator(
            endpoint, data.created_by or (existing.created_by_id if existing is not None else None)
        )
    elif existing is None:
        # A person creating a channel: Stream checks CreateChannel (granted to the `user`
        # role by default); the creator is the token's user, and inviting is theirs.
        creator = str(principal.user_id)
        if data.created_by not in (None, creator):
            raise not_allowed(endpoint, "a user can only create channels as themselves")
        state.require_create_channel(endpoint, channel_type, creator)
    else:
        user_id = str(principal.user_id)
        state.require_permission(endpoint, permissions.READ_CHANNEL, existing, user_id)
        return _channel_answer(request, body, endpoint, existing)
    _check_invitees(request, endpoint, data.invites)
    channel, created = state.get_or_create_channel(
        channel_type,
        channel_id,
        created_by_id=creator,
        data=data.data,
        members=data.members,
        member_roles=data.roles,
        filter_tags=data.filter_tags or (),
    )
    if created and data.invites:
        channel = state.invite_members(channel_type, channel_id, data.invites)
    return _channel_answer(request, body, endpoint, channel)


def _refuse_server_watch(body: dict[str, object], endpoint: str, principal: Principal) -> None:
    """Watching and presence belong to a user's websocket: a server-side call is refused."""
    if principal.is_server and (body.get("watch") is True or body.get("presence") is True):
        raise input_error(endpoint, "watch and presence need a websocket connection_id")


def _server_side_creator(endpoint: str, creator: str | None) -> str:
    """The creator a server-side create names, which Stream requires."""
    if creator is None:
        raise input_error(
            endpoint,
            "either data.created_by or data.created_by_id must be provided when using "
            "server side auth.",
        )
    return creator


def _check_invitees(request: Request[Any, Any, Any], endpoint: str, invites: list[str]) -> None:
    """Invitees must exist before the channel is made (nothing is created otherwise)."""
    state = control_of(request).state
    missing = [uid for uid in invites if state.user(uid) is None]
    if missing:
        raise input_error(endpoint, f"invited users do not exist: {', '.join(missing)}")


def _channel_answer(
    request: Request[Any, Any, Any], body: dict[str, object], endpoint: str, channel: StreamChannel
) -> Response[Any]:
    """The channel's state as GetOrCreateChannel answers it (and watching, for a user)."""
    message_limit, _ = pagination(
        body, "messages", endpoint, default=DEFAULT_MESSAGE_LIMIT, high=MAX_MESSAGE_LIMIT
    )
    member_limit, member_offset = pagination(
        body, "members", endpoint, default=MAX_MEMBER_LIMIT, high=MAX_MEMBER_LIMIT
    )
    principal = principal_of(request)
    body_out = control_of(request).state.channel_state(
        channel,
        message_limit=message_limit,
        member_limit=member_limit,
        member_offset=member_offset,
        reader=None if principal.is_server else principal.user_id,
    )
    if not principal.is_server:
        watch_from_client(request, body, endpoint, [channel])
        control_of(request).realtime.for_user(body_out, channel, principal.user_id)
    return ok(request, body_out, 201)


@post("/channels/{channel_type:str}/query")
async def get_or_create_distinct_channel(
    request: Request[Any, Any, Any], channel_type: FromPath[str]
) -> Response[Any]:
    """GetOrCreateChannel without an id: the one channel of exactly `data.members`."""
    endpoint = "GetOrCreateChannel"
    body = await read_body(request, endpoint)
    principal = principal_of(request)
    _refuse_server_watch(body, endpoint, principal)
    data = channel_input(object_field(body, "data", endpoint) or {}, endpoint, creating=True)
    if principal.is_server:
        creator = _server_side_creator(endpoint, data.created_by)
    else:
        creator = str(principal.user_id)
        if data.created_by not in (None, creator) or creator not in data.members:
            raise not_allowed(
                endpoint, "a user can only create a distinct channel they are a member of"
            )
        control_of(request).state.require_create_channel(endpoint, channel_type, creator)
    _check_invitees(request, endpoint, data.invites)
    state = control_of(request).state
    channel, created = state.get_or_create_distinct_channel(
        channel_type,
        created_by_id=creator,
        members=data.members,
        data=data.data,
        member_roles=data.roles,
        filter_tags=data.filter_tags or (),
    )
    if created and data.invites:
        channel = state.invite_members(channel_type, channel.id, data.invites)
    return _channel_answer(request, body, endpoint, channel)


@post("/channels/{channel_type:str}/{channel_id:str}")
async def update_channel(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """UpdateChannel: replace data, or add/remove members; either may post a message."""
    endpoint = "UpdateChannel"
    if channel_id == "query":
        # POST /channels/{type}/query is Stream's create-without-id (distinct channels).
        raise input_error("GetOrCreateChannel", "the emulator needs a channel id")
    body = await read_body(request, endpoint)
    refuse_unsupported(body, UNSUPPORTED_UPDATE_FIELDS, endpoint)
    message = object_field(body, "message", endpoint)
    state = control_of(request).state
    membership = "add_members" in body or "remove_members" in body
    data = object_field(body, "data", endpoint)
    principal = principal_of(request)
    if any(body.get(key) not in (None, False) for key in STANDING_FIELDS):
        channel = change_standing(
            request,
            body,
            endpoint,
            channel_type,
            channel_id,
            message,
            lambda action: _check_client_update(
                request, endpoint, channel_type, channel_id, action, message
            ),
        )
    elif "add_filter_tags" in body or "remove_filter_tags" in body:
        if membership or data is not None:
            raise input_error(endpoint, "the emulator changes filter tags on their own")
        if not principal.is_server:
            _check_client_update(
                request, endpoint, channel_type, channel_id, permissions.UPDATE_CHANNEL, message
            )
        channel = state.change_filter_tags(
            channel_type,
            channel_id,
            add=string_list(body.get("add_filter_tags"), "add_filter_tags", endpoint),
            remove=string_list(body.get("remove_filter_tags"), "remove_filter_tags", endpoint),
            message=message,
        )
    elif membership:
        if data is not None:
            raise input_error(
                endpoint, "the emulator does not change data and members in one request"
            )
        add, roles = member_entries(body.get("add_members"), "add_members", endpoint)
        remove = string_list(body.get("remove_members"), "remove_members", endpoint)
        if not principal.is_server:
            user_id = str(principal.user_id)
            leaving = not add and remove == [user_id]
            action = (
                permissions.REMOVE_OWN_CHANNEL_MEMBERSHIP
                if leaving
                else permissions.UPDATE_CHANNEL_MEMBERS
            )
            _check_client_update(request, endpoint, channel_type, channel_id, action, message)
        channel = state.update_members(
            channel_type, channel_id, add=add, remove=remove, message=message, add_roles=roles
        )
    elif data is not None:
        parsed = channel_input(data, endpoint, creating=False)
        if not principal.is_server:
            _check_client_update(
                request, endpoint, channel_type, channel_id, permissions.UPDATE_CHANNEL, message
            )
            _check_freezing(request, endpoint, channel_type, channel_id, parsed.data)
        channel = state.update_channel(channel_type, channel_id, parsed.data, message=message)
    else:
        raise input_error(endpoint, "give data, add_members or remove_members")
    result = payloads.channel_with_members(channel, state.user)
    if message is not None:
        posted = state.messages(channel_type, channel_id)
        if posted:
            result["message"] = payloads.message(posted[-1], state.user)
    return ok(request, result, 201)


def _check_client_update(
    request: Request[Any, Any, Any],
    endpoint: str,
    channel_type: str,
    channel_id: str,
    action: str,
    message: Mapping[str, object] | None,
) -> None:
    """A user's channel change: the action's grant, and CreateSystemMessage for a message
    riding on it (an update's message is a system message)."""
    state = control_of(request).state
    channel = state.channel(channel_type, channel_id)
    if channel is None:
        return  # the operation answers 404 in Stream's words
    user_id = str(principal_of(request).user_id)
    state.require_permission(endpoint, action, channel, user_id)
    if message is not None:
        if message.get("user_id", user_id) != user_id:
            raise not_allowed(endpoint, "a user can only send messages as themselves")
        state.require_permission(endpoint, permissions.CREATE_SYSTEM_MESSAGE, channel, user_id)


def _check_freezing(
    request: Request[Any, Any, Any],
    endpoint: str,
    channel_type: str,
    channel_id: str,
    data: Mapping[str, object],
) -> None:
    """Freezing or unfreezing from a client needs UpdateChannelFrozen besides UpdateChannel."""
    state = control_of(request).state
    channel = state.channel(channel_type, channel_id)
    if channel is None or "frozen" not in data or data["frozen"] == channel.frozen:
        return
    user_id = str(principal_of(request).user_id)
    state.require_permission(endpoint, permissions.UPDATE_CHANNEL_FROZEN, channel, user_id)


@patch("/channels/{channel_type:str}/{channel_id:str}")
async def update_channel_partial(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """UpdateChannelPartial: set and unset custom fields, `frozen` and `config_overrides`."""
    endpoint = "UpdateChannelPartial"
    body = await read_body(request, endpoint)
    to_set = object_field(body, "set", endpoint) or {}
    parsed = channel_input(to_set, endpoint, creating=False)
    state = control_of(request).state
    if not principal_of(request).is_server:
        _check_client_update(
            request, endpoint, channel_type, channel_id, permissions.UPDATE_CHANNEL, None
        )
        _check_freezing(request, endpoint, channel_type, channel_id, parsed.data)
    channel = state.update_channel_partial(
        channel_type,
        channel_id,
        set_fields=parsed.data,
        unset=string_list(body.get("unset"), "unset", endpoint),
    )
    return ok(request, payloads.channel_with_members(channel, state.user), 200)


@delete("/channels/{channel_type:str}/{channel_id:str}", status_code=200)
async def delete_channel(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """DeleteChannel: always a hard delete in the emulator (announced as channel.deleted)."""
    endpoint = "DeleteChannel"
    state = control_of(request).state
    principal = principal_of(request)
    if not principal.is_server:
        channel = state.channel(channel_type, channel_id)
        if channel is not None:
            state.require_permission(
                endpoint, permissions.DELETE_CHANNEL, channel, str(principal.user_id)
            )
    channel = state.delete_channel(channel_type, channel_id)
    channel_json = payloads.channel(channel, state.user)
    channel_json["deleted_at"] = payloads.format_time(state.now())
    return ok(request, {"channel": channel_json}, 200)


@post("/channels")
async def query_channels(request: Request[Any, Any, Any]) -> Response[Any]:
    """QueryChannels: filter, sort and page; a user sees only channels they belong to."""
    endpoint = "QueryChannels"
    body = await read_body(request, endpoint)
    principal = principal_of(request)
    _refuse_server_watch(body, endpoint, principal)
    conditions: Mapping[str, object] = object_field(body, "filter_conditions", endpoint) or {}
    # `hidden` is the reader's own view of a channel, not a channel field.
    # So are `pinned`, `archived` and `muted` (the member's settings and mutes).
    hidden = conditions.get("hidden", False)
    own_view = {
        key: conditions[key] for key in ("pinned", "archived", "muted") if key in conditions
    }
    conditions = {
        key: value
        for key, value in conditions.items()
        if key not in ("hidden", "pinned", "archived", "muted")
    }
    if not isinstance(hidden, bool) or not all(isinstance(v, bool) for v in own_view.values()):
        raise input_error(endpoint, "hidden, pinned, archived and muted filter with true or false")
    as_user = principal.user_id if not principal.is_server else body.get("user_id")
    if as_user is None and (hidden or own_view):
        raise input_error(endpoint, "the member's own filters need a user (user_id server-side)")
    if as_user is not None and not isinstance(as_user, str):
        raise input_error(endpoint, "user_id must be a string")
    if not principal.is_server:
        # A user reads only channels they belong to (ReadChannel, granted to members).
        # Server-side, `user_id` only says whose view (reads, mutes, hidden) to answer
        # with: the filter alone selects, as on Stream.
        own = {"members": {"$in": [as_user]}}
        conditions = {"$and": [dict(conditions), own]} if conditions else own
    sort = body.get("sort")
    if sort is not None and not isinstance(sort, list):
        raise input_error(endpoint, "sort must be a list of {field, direction}")
    state = control_of(request).state
    channels = state.query_channels(
        conditions,
        # The SDK sends [] for "no sort"; Stream then applies its default order.
        sort or None,
        limit=int_field(body, "limit", endpoint, default=10),
        offset=int_field(body, "offset", endpoint, default=0),
        reader=as_user,
        hidden=hidden,
        own_view={key: bool(value) for key, value in own_view.items()},
    )
    message_limit = int_field(
        body, "message_limit", endpoint, default=DEFAULT_MESSAGE_LIMIT, high=MAX_MESSAGE_LIMIT
    )
    member_limit = int_field(
        body, "member_limit", endpoint, default=MAX_MEMBER_LIMIT, high=MAX_MEMBER_LIMIT
    )
    answers = [
        state.channel_state(
            channel, message_limit=message_limit, member_limit=member_limit, reader=as_user
        )
        for channel in channels
    ]
    if not principal.is_server:
        watch_from_client(request, body, endpoint, channels)
        realtime = control_of(request).realtime
        for answer, channel in zip(answers, channels, strict=True):
            realtime.for_user(answer, channel, principal.user_id)
    return ok(request, {"channels": answers}, 201)


ROUTES: Final = [
    get_or_create_channel,
    get_or_create_distinct_channel,
    update_channel,
    update_channel_partial,
    delete_channel,
    query_channels,
]
