"""`/channels/{type}/{id}/message`: send a message (SendMessage), server-side or as a user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Request, Response, post
from litestar.params import FromPath

from yc_chat.adapters.fake_stream.sim import payloads
from yc_chat.adapters.fake_stream.sim.errors import input_error, not_allowed
from yc_chat.entrypoints.stream_emulator.inputs import UNSUPPORTED_MESSAGE_FIELDS
from yc_chat.entrypoints.stream_emulator.plumbing import (
    control_of,
    object_field,
    ok,
    principal_of,
    read_body,
    refuse_unsupported,
)


@post("/channels/{channel_type:str}/{channel_id:str}/message")
async def send_message(
    request: Request[Any, Any, Any], channel_type: FromPath[str], channel_id: FromPath[str]
) -> Response[Any]:
    """SendMessage: as the message's user (server-side) or as the token's user."""
    endpoint = "SendMessage"
    body = await read_body(request, endpoint)
    message = object_field(body, "message", endpoint)
    if message is None:
        raise input_error(endpoint, "message is a required field")
    refuse_unsupported(message, UNSUPPORTED_MESSAGE_FIELDS, endpoint, "message.")
    user = message.get("user")
    named = message.get("user_id") or (user.get("id") if isinstance(user, Mapping) else None)
    if named is not None and not isinstance(named, str):
        raise input_error(endpoint, "message.user_id must be a string")
    principal = principal_of(request)
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
    state = control_of(request).state
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
    return ok(request, {"message": payloads.message(posted, state.user)}, 201)


ROUTES: Final = [send_message]
