"""More of `/channels`: truncate, messages by id, mark unread, a member's own settings
(`/member`, `/member/{user_id}`), batch deletes (`/channels/delete`) and their tasks."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, get, patch, post
from litestar.params import FromPath

from stream_emulator.api.request_response import (
    acting_user,
    control_of,
    named_user,
    object_field,
    ok,
    principal_of,
    read_body,
    server_only,
    string_list,
)
from stream_emulator.state import StreamChannel, payloads
from stream_emulator.state.errors import does_not_exist, input_error, not_allowed

ONLY_AS_SELF: Final = "a user can only change their own membership"


def _readable_channel(
    request: Request[Any, Any, Any], endpoint: str, channel_type: str, channel_id: str
) -> StreamChannel:
    """The channel; a user must be a member of it (403 code 17 otherwise)."""
    channel = control_of(request).state.channel(channel_type, channel_id)
    if channel is None:
        raise does_not_exist(endpoint, f"Can't find channel with id {channel_type}:{channel_id}")
    principal = principal_of(request)
    if not principal.is_server and channel.member(str(principal.user_id)) is None:
        raise not_allowed(
            endpoint, f"User '{principal.user_id}' is not allowed to perform action ReadChannel"
        )
    return channel


@post("/channels/{channel_type:str}/{channel_id:str}/truncate")
async def truncate_channel(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """TruncateChannel: remove every message (server-side), optionally posting one after."""
    endpoint = "TruncateChannel"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    message = object_field(body, "message", endpoint)
    state = control_of(request).state
    channel = state.truncate_channel(channel_type, channel_id, message=message)
    answer: dict[str, object] = {"channel": payloads.channel(channel, state.user)}
    if message is not None:
        posted = state.messages(channel_type, channel_id)
        if posted:
            answer["message"] = payloads.message(posted[-1], state.user)
    return ok(request, answer, 201)


@get("/channels/{channel_type:str}/{channel_id:str}/messages")
async def get_many_messages(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """GetManyMessages: `?ids=a,b,c`."""
    endpoint = "GetManyMessages"
    channel = _readable_channel(request, endpoint, channel_type, channel_id)
    ids = [i for i in request.query_params.get("ids", "").split(",") if i]
    state = control_of(request).state
    reader = principal_of(request).user_id
    found = state.messages_by_id(channel.type, channel.id, ids)
    messages = [
        payloads.message(m, state.user, reader) for m in found if payloads.visible_to(m, reader)
    ]
    return ok(request, {"messages": messages}, 200)


@post("/channels/{channel_type:str}/{channel_id:str}/unread")
async def mark_unread(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """MarkUnread: the acting user has read the channel only up to before `message_id`."""
    endpoint = "MarkUnread"
    body = await read_body(request, endpoint)
    named = named_user(body)
    user_id = acting_user(request, endpoint, named, refusal=ONLY_AS_SELF)
    channel = _readable_channel(request, endpoint, channel_type, channel_id)
    message_id = body.get("message_id")
    if not isinstance(message_id, str):
        raise input_error(endpoint, "message_id is required (thread_id is not modelled)")
    control_of(request).realtime.mark_unread(user_id, channel, message_id)
    return ok(request, {}, 201)


async def _update_member(
    request: Request[Any, Any, Any], channel_type: str, channel_id: str, named: object
) -> Response[Any]:
    endpoint = "UpdateMemberPartial"
    body = await read_body(request, endpoint)
    user_id = acting_user(request, endpoint, named, refusal=ONLY_AS_SELF)
    state = control_of(request).state
    member = state.update_member_partial(
        channel_type,
        channel_id,
        user_id,
        set_fields=object_field(body, "set", endpoint) or {},
        unset=string_list(body.get("unset"), "unset", endpoint),
    )
    return ok(request, {"channel_member": payloads.member(member, state.user)}, 200)


@patch("/channels/{channel_type:str}/{channel_id:str}/member")
async def update_own_member(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """UpdateMemberPartial (client side): the caller's own member settings (`?user_id`
    server-side)."""
    return await _update_member(
        request, channel_type, channel_id, request.query_params.get("user_id")
    )


@patch("/channels/{channel_type:str}/{channel_id:str}/member/{user_id:str}")
async def update_member(
    request: Request[Any, Any, Any],
    channel_type: FromPath[str],
    channel_id: FromPath[str],
    user_id: FromPath[str],
) -> Response[Any]:
    """UpdateMemberPartial (server side, as the Python SDK calls it)."""
    return await _update_member(request, channel_type, channel_id, user_id)


@post("/channels/delete")
async def delete_channels(request: Request[Any, Any, Any]) -> Response[Any]:
    """DeleteChannels: a batch delete, run as a task (finished at once here)."""
    endpoint = "DeleteChannels"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    cids = string_list(body.get("cids"), "cids", endpoint)
    task_id = control_of(request).state.delete_channels(cids)
    return ok(request, {"task_id": task_id}, 201)


@get("/tasks/{task_id:str}")
async def get_task(request: Request[Any, Any, Any], task_id: FromPath[str]) -> Response[Any]:
    """GetTask: a finished task and its result."""
    server_only(request, "GetTask")
    return ok(request, control_of(request).state.task(task_id), 200)


ROUTES: Final = [
    truncate_channel,
    get_many_messages,
    mark_unread,
    update_own_member,
    update_member,
    delete_channels,
    get_task,
]
