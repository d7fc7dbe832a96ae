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
    acting_user,
    control_of,
    named_user,
    object_field,
    ok,
    principal_of,
    read_body,
    server_only,
)
from stream_emulator.state import StreamChannel, permissions
from stream_emulator.state.errors import does_not_exist, input_error, not_allowed

# Event types a client may send; `typing.*` need the typing-events capability.
TYPING_EVENTS: Final = frozenset({"typing.start", "typing.stop"})
CLIENT_EVENTS: Final = frozenset({*TYPING_EVENTS, "custom"})
ONLY_AS_SELF: Final = "a user can only act as themselves"


def _member_channel(
    request: Request[Any, Any, Any],
    endpoint: str,
    channel_type: str,
    channel_id: str,
    named: object = None,
    *,
    members_only: bool = True,
) -> tuple[StreamChannel, str]:
    """The channel and the acting user (the token's, or server-side the one `named`), who
    must be a member (403 code 17 otherwise)."""
    user_id = acting_user(request, endpoint, named, refusal=ONLY_AS_SELF)
    channel = control_of(request).state.channel(channel_type, channel_id)
    if channel is None:
        raise does_not_exist(endpoint, f"Can't find channel with id {channel_type}:{channel_id}")
    if not principal_of(request).is_server:
        # Typing, custom events and read marks come with reading (the type's grants).
        control_of(request).state.require_permission(
            endpoint, permissions.READ_CHANNEL, channel, user_id
        )
    if channel.member(user_id) is None and members_only:
        raise not_allowed(
            endpoint,
            f"User '{user_id}' is not allowed to perform action ReadChannel "
            f"in scope '{channel_type}'",
        )
    return channel, user_id


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
    # The server may send an event as any user (Stream does not ask for membership).
    channel, user_id = _member_channel(
        request,
        endpoint,
        channel_type,
        channel_id,
        named_user(event),
        members_only=not principal_of(request).is_server,
    )
    kind = str(event["type"])
    if kind not in CLIENT_EVENTS and "." in kind:
        raise not_allowed(endpoint, f"clients cannot send {kind} events")
    realtime = control_of(request).realtime
    needed = "send-typing-events" if kind in TYPING_EVENTS else "send-custom-events"
    # Server-side calls act for the user without their client's capability checks.
    if not principal_of(request).is_server and needed not in realtime.capabilities(
        channel, user_id
    ):
        raise not_allowed(
            endpoint,
            f"User '{user_id}' is not allowed to perform action {needed} in this channel",
        )
    # The acting user is set by the emulator, whoever the body names.
    fields = {key: value for key, value in event.items() if key not in ("user", "user_id")}
    sent = realtime.send_channel_event(channel, user_id, fields)
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
    channel, user_id = _member_channel(
        request, endpoint, channel_type, channel_id, named_user(body)
    )
    _check_message_in(request, endpoint, channel, message_id)
    event = control_of(request).realtime.mark_read(user_id, channel, message_id)
    return ok(request, {"event": event}, 201)


@post("/channels/read")
async def mark_channels_read(request: Request[Any, Any, Any]) -> Response[Any]:
    """MarkChannelsRead (the SDKs' markAllRead): every channel of the acting user is read;
    `read_by_channel` ({cid: message_id}) marks those channels up to those messages."""
    endpoint = "MarkChannelsRead"
    body = await read_body(request, endpoint)
    user_id = acting_user(request, endpoint, named_user(body), refusal=ONLY_AS_SELF)
    by_channel = object_field(body, "read_by_channel", endpoint)
    control = control_of(request)
    if by_channel:
        for cid, message_id in by_channel.items():
            if message_id is not None and not isinstance(message_id, str):
                raise input_error(endpoint, "read_by_channel values must be message ids")
            channel_type, _, channel_id = cid.partition(":")
            channel, _ = _member_channel(request, endpoint, channel_type, channel_id, user_id)
            _check_message_in(request, endpoint, channel, message_id)
            control.realtime.mark_read(user_id, channel, message_id)
        return ok(request, {}, 201)
    event = control.realtime.mark_all_read(user_id)
    return ok(request, {"event": event}, 201)


@post("/channels/delivered")
async def mark_delivered(request: Request[Any, Any, Any]) -> Response[Any]:
    """MarkDelivered: `latest_delivered_messages` [{cid, id}] for the acting user. The
    emulator's channel type has delivery events off (`delivery_events: false`), so, as on
    such a Stream app, the report is checked and nothing is announced."""
    endpoint = "MarkDelivered"
    body = await read_body(request, endpoint)
    named = named_user(body) or request.query_params.get("user_id")
    acting_user(request, endpoint, named, refusal=ONLY_AS_SELF)
    delivered = body.get("latest_delivered_messages")
    if not isinstance(delivered, list) or not delivered:
        raise input_error(endpoint, "latest_delivered_messages must be a non-empty list")
    for item in delivered:
        if not isinstance(item, Mapping) or not all(
            isinstance(item.get(key), str) for key in ("cid", "id")
        ):
            raise input_error(endpoint, "each delivered message needs a cid and an id")
    return ok(request, {}, 201)


def _check_message_in(
    request: Request[Any, Any, Any], endpoint: str, channel: StreamChannel, message_id: object
) -> None:
    state = control_of(request).state
    if message_id is not None and all(
        message.id != message_id for message in state.messages(channel.type, channel.id)
    ):
        raise does_not_exist(endpoint, f"message {message_id} does not exist in this channel")


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


ROUTES: Final = [
    connect,
    send_event,
    mark_read,
    mark_channels_read,
    mark_delivered,
    stop_watching,
    drop_connections,
]
