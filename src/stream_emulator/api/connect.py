"""`GET /connect`: Stream's websocket, on the same host and port as the REST API.

The SDKs open it with `json` (`user_id`, `user_details`, `client_request_id`), `api_key`,
`authorization` and `stream-auth-type` in the query. As on Stream, a refused connection is
accepted, answered with one `{"error": {...}}` frame and closed normally (1000): the SDKs
read the code from the frame (40, an expired token, makes a client with a token provider
fetch a new token and reconnect). An accepted one gets `health.check` with its
`connection_id` and `me` first, then every event routed to it; each heartbeat the client
sends is answered with a `health.check`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from stream_emulator.auth import Principal, check_not_revoked
from stream_emulator.control import EmulatorControl
from stream_emulator.state import StreamAPIError
from stream_emulator.state.errors import AUTHENTICATION_ERROR, RATE_LIMIT_ERROR
from stream_emulator.state.parsing import clean_json
from stream_emulator.state.realtime import Connection, health_check

LOG = logging.getLogger(__name__)
# A normal close: the SDKs then report the error frame's code instead of reconnecting.
CLOSE_REFUSED = 1000
# Open sockets per user: enough for a few tabs and devices; more is one client flooding.
MAX_CONNECTIONS_PER_USER = 10


def _refusal(message: str) -> StreamAPIError:
    return StreamAPIError(401, AUTHENTICATION_ERROR, f"WS failed with error: {message}")


def _connect_payload(raw: str | None) -> tuple[str, Mapping[str, object]]:
    """The user id and `user_details` from the `json` query parameter."""
    if not raw:
        raise _refusal("the json query parameter is missing")
    try:
        payload = clean_json(json.loads(raw))
    except (ValueError, RecursionError) as exc:
        raise _refusal("the json query parameter is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise _refusal("the json query parameter must be an object")
    details = payload.get("user_details") or {}
    if not isinstance(details, Mapping):
        raise _refusal("user_details must be an object")
    user_id = payload.get("user_id") or details.get("id")
    if not isinstance(user_id, str) or not user_id:
        raise _refusal("user_id is required")
    return user_id, details


def _accept_user(control: EmulatorControl, query: Mapping[str, str]) -> Principal:
    """The connecting user, or a StreamAPIError with Stream's status and code."""
    principal = control.authenticator.authenticate(
        api_key=query.get("api_key"),
        auth_type=query.get("stream-auth-type"),
        authorization=query.get("authorization"),
    )
    user_id, details = _connect_payload(query.get("json"))
    if principal.is_server:
        raise _refusal("a websocket connection needs a user token, not a server token")
    if principal.user_id != user_id:
        raise _refusal(f"the token is for {principal.user_id}, not for {user_id}")
    if control.realtime.connection_count(user_id) >= MAX_CONNECTIONS_PER_USER:
        raise StreamAPIError(
            429,
            RATE_LIMIT_ERROR,
            f"WS failed with error: user {user_id} has {MAX_CONNECTIONS_PER_USER} open "
            "connections, the most allowed",
        )
    state = control.state
    check_not_revoked(principal, state.tokens_revoked_before(user_id))
    if state.user(user_id) is None:
        # As Stream: connecting creates the user. Only the profile fields; never a role,
        # which a client must not choose for itself.
        profile = {key: details[key] for key in ("name", "image") if details.get(key) is not None}
        state.upsert_users([{**profile, "id": user_id}])
    return principal


@websocket("/connect")
async def connect(socket: WebSocket[Any, Any, Any]) -> None:
    """Stream's websocket endpoint."""
    control = socket.app.state.emulator
    assert isinstance(control, EmulatorControl)
    await socket.accept()
    try:
        principal = _accept_user(control, socket.query_params)
    except StreamAPIError as exc:
        body = exc.to_json()
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await socket.send_json({"error": body})
            await socket.close(code=CLOSE_REFUSED, reason=exc.message[:120])
        return
    realtime = control.realtime
    user_id = str(principal.user_id)
    connection = realtime.open(user_id, issued_at=principal.issued_at)
    connection.send(health_check(connection, me=realtime.me(user_id), now=control.state.now()))
    sender = asyncio.create_task(_send_frames(socket, connection))
    receiver = asyncio.create_task(_receive_frames(socket, connection, control))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        realtime.close(connection)
        for task in (sender, receiver):
            task.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await socket.close()


async def _send_frames(socket: WebSocket[Any, Any, Any], connection: Connection) -> None:
    """Write the connection's queued frames in order; a close request ends it."""
    while True:
        frame = await connection.outbox.get()
        if isinstance(frame, tuple):
            code, reason = frame
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await socket.close(code=code, reason=reason)
            return
        try:
            await socket.send_json(clean_json(frame))
        except (WebSocketDisconnect, RuntimeError):
            return


async def _receive_frames(
    socket: WebSocket[Any, Any, Any], connection: Connection, control: EmulatorControl
) -> None:
    """Answer heartbeats until the client goes away; other client frames are ignored."""
    while True:
        try:
            text = await socket.receive_text()
        except (WebSocketDisconnect, RuntimeError):
            return
        try:
            frames = json.loads(text)
        except (ValueError, RecursionError):
            continue
        items = frames if isinstance(frames, list) else [frames]
        if any(isinstance(item, dict) and item.get("type") == "health.check" for item in items):
            connection.send(health_check(connection, me=None, now=control.state.now()))
