"""Realtime: the websocket (`/connect`), a connected client's channel events, read state
and stop-watching, and the emulator's switch to drop every websocket (as a restart or a
network cut would)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from litestar import Request, Response, post
from litestar.params import FromPath

from stream_emulator.api.connect import connect
from stream_emulator.api.request_response import (
    control_of,
    object_field,
    ok,
    principal_of,
    read_body,
    server_only,
)
from stream_emulator.state import StreamChannel
from stream_emulator.state.errors import does_not_exist, input_error, not_allowed

# Event types a client may send; `typing.*` need the typing-events capability.
TYPING_EVENTS: Final = frozenset({"typing.start", "typing.stop"})
CLIENT_EVENTS: Final = frozenset({*TYPING_EVENTS, "custom"})


def _member_channel(
    request: Request[Any, Any, Any], endpoint: str, channel_type: str, channel_id: str
) -> tuple[StreamChannel, str]:
    """The channel and the calling user, who must be a member (403 code 17 otherwise)."""
    principal = principal_of(request)
    if principal.is_server or principal.user_id is None:
        raise input_error(endpoint, "this endpoint is for a user's client (a user token)")
    channel = control_of(request).state.channel(channel_type, channel_id)
    if channel is None:
        raise does_not_exist(endpoint, f"Can't find channel with id {channel_type}:{channel_id}")
    if channel.member(principal.user_id) is None:
        raise not_allowed(
            endpoint,
            f"User '{principal.user_id}' is not allowed to perform action ReadChannel "
            f"in scope '{channel_type}'",
        )
    return channel, principal.user_id


def watch_from_client(
    request: Request[Any, Any, Any],
    body: Mapping[str, object],
    endpoint: str,
    channels: Sequence[StreamChannel],
) -> None:
    """`watch: true` from a user's client: its connection gets these channels' events."""
    if body.get("watch") is not True:
        return
    principal = principal_of(request)
    realtime = control_of(request).realtime
    connection = realtime.connection(
        request.query_params.get("connection_id"), str(principal.user_id)
    )
    if connection is None:
        raise input_error(endpoint, "watch needs the connection_id of one of your connections")
    for channel in channels:
        realtime.watch(connection, channel.cid)


@post("/channels/{channel_type:str}/{channel_id:str}/event")
async def send_event(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """SendEvent: typing indicators and custom events, to the channel's watchers."""
    endpoint = "SendEvent"
    body = await read_body(request, endpoint)
    event = object_field(body, "event", endpoint)
    if event is None or not isinstance(event.get("type"), str):
        raise input_error(endpoint, "event.type is a required field")
    channel, user_id = _member_channel(request, endpoint, channel_type, channel_id)
    kind = str(event["type"])
    if kind not in CLIENT_EVENTS and "." in kind:
        raise not_allowed(endpoint, f"clients cannot send {kind} events")
    realtime = control_of(request).realtime
    needed = "send-typing-events" if kind in TYPING_EVENTS else "send-custom-events"
    if needed not in realtime.capabilities(channel, user_id):
        raise not_allowed(
            endpoint,
            f"User '{user_id}' is not allowed to perform action {needed} in this channel",
        )
    sent = realtime.send_channel_event(channel, user_id, dict(event))
    return ok(request, {"event": sent}, 201)


@post("/channels/{channel_type:str}/{channel_id:str}/read")
async def mark_read(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """MarkRead: the caller has read the channel (up to `message_id`, else all of it)."""
    endpoint = "MarkRead"
    body = await read_body(request, endpoint)
    message_id = body.get("message_id")
    if message_id is not None and not isinstance(message_id, str):
        raise input_error(endpoint, "message_id must be a string")
    channel, user_id = _member_channel(request, endpoint, channel_type, channel_id)
    state = control_of(request).state
    if message_id is not None and all(
        message.id != message_id for message in state.messages(channel_type, channel_id)
    ):
        raise does_not_exist(endpoint, f"message {message_id} does not exist in this channel")
    event = control_of(request).realtime.mark_read(user_id, channel, message_id)
    return ok(request, {"event": event}, 201)


@post("/channels/{channel_type:str}/{channel_id:str}/stop-watching")
async def stop_watching(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """StopWatchingChannel: this connection no longer gets the channel's events."""
    endpoint = "StopWatchingChannel"
    principal = principal_of(request)
    if principal.is_server or principal.user_id is None:
        raise input_error(endpoint, "stop-watching needs a user's connection_id")
    realtime = control_of(request).realtime
    connection = realtime.connection(request.query_params.get("connection_id"), principal.user_id)
    if connection is None:
        raise input_error(endpoint, "connection_id does not name one of your connections")
    realtime.stop_watching(connection, f"{channel_type}:{channel_id}")
    return ok(request, {}, 201)


@post("/_emulator/disconnect", status_code=200)
async def drop_connections(request: Request[Any, Any, Any]) -> Response[Any]:
    """Close every websocket from the server side (code 1012); clients must reconnect."""
    server_only(request, "EmulatorDisconnect")
    dropped = control_of(request).realtime.drop_all()
    return ok(request, {"dropped": dropped}, 200)


ROUTES: Final = [connect, send_event, mark_read, stop_watching, drop_connections]
