"""`/channels/{type}/{id}/hide` and `/show`: a member hides a channel from their own list."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, post
from litestar.params import FromPath

from stream_emulator.api.request_response import (
    acting_user,
    control_of,
    ok,
    read_body,
)
from stream_emulator.state import StreamChannel, payloads
from stream_emulator.state.errors import input_error

# What a user naming someone else is told (Stream refuses with code 17).
ONLY_AS_SELF = "a user can only hide or show channels for themselves"


@post("/channels/{channel_type:str}/{channel_id:str}/hide")
async def hide_channel(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """HideChannel: `{user_id?, clear_history?}`."""
    endpoint = "HideChannel"
    body = await read_body(request, endpoint)
    user_id = acting_user(
        request,
        endpoint,
        body.get("user_id"),
        refusal=ONLY_AS_SELF,
    )
    clear_history = body.get("clear_history", False)
    if not isinstance(clear_history, bool):
        raise input_error(endpoint, "clear_history must be a boolean")
    channel = control_of(request).state.hide_channel(
        channel_type, channel_id, user_id=user_id, clear_history=clear_history
    )
    _announce(request, "channel.hidden", channel, user_id, clear_history=clear_history)
    return ok(request, {}, 201)


@post("/channels/{channel_type:str}/{channel_id:str}/show")
async def show_channel(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """ShowChannel: `{user_id?}`."""
    endpoint = "ShowChannel"
    body = await read_body(request, endpoint)
    user_id = acting_user(
        request,
        endpoint,
        body.get("user_id"),
        refusal=ONLY_AS_SELF,
    )
    channel = control_of(request).state.show_channel(channel_type, channel_id, user_id=user_id)
    _announce(request, "channel.visible", channel, user_id)
    return ok(request, {}, 201)


def _announce(
    request: Request[Any, Any, Any],
    kind: str,
    channel: StreamChannel,
    user_id: str,
    **extra: object,
) -> None:
    """Stream tells only the user's own clients (their other devices) of the change."""
    state = control_of(request).state
    control_of(request).realtime.send_to_user(
        user_id,
        {
            "type": kind,
            "cid": channel.cid,
            "channel_id": channel.id,
            "channel_type": channel.type,
            "channel": payloads.channel(channel, state.user),
            "user": payloads.user_or_id(user_id, state.user),
            **extra,
        },
    )


ROUTES: Final = [hide_channel, show_channel]
