"""`/moderation/mute/channel` and `/moderation/unmute/channel`: a user mutes channels."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, post

from stream_emulator.api.request_response import (
    acting_user,
    control_of,
    int_field,
    ok,
    principal_of,
    read_body,
    string_list,
)
from stream_emulator.state import payloads
from stream_emulator.state.errors import input_error

# What a user naming someone else is told (Stream refuses with code 17).
ONLY_AS_SELF = "a user can only mute or unmute channels for themselves"


def _cids(body: dict[str, object], endpoint: str) -> list[str]:
    """`channel_cids`, or the single `channel_cid` the Python SDK sends."""
    single = body.get("channel_cid")
    if single is not None and not isinstance(single, str):
        raise input_error(endpoint, "channel_cid must be a string")
    cids = string_list(body.get("channel_cids"), "channel_cids", endpoint)
    return [*cids, single] if single else cids


@post("/moderation/mute/channel")
async def mute_channel(request: Request[Any, Any, Any]) -> Response[Any]:
    """MuteChannel: `{channel_cid | channel_cids, user_id?, expiration? (ms)}`."""
    endpoint = "MuteChannel"
    body = await read_body(request, endpoint)
    user_id = acting_user(
        request,
        endpoint,
        body.get("user_id"),
        refusal=ONLY_AS_SELF,
    )
    expiration = int_field(body, "expiration", endpoint, default=0)
    control = control_of(request)
    state = control.state
    mutes = state.mute_channels(
        _cids(body, endpoint),
        user_id=user_id,
        expiration_ms=expiration or None,
        member_only=not principal_of(request).is_server,
    )
    answers = []
    for mute in mutes:
        channel = state.channel(*mute.cid.split(":", 1))
        if channel is not None:
            answers.append(payloads.channel_mute(mute, channel, state.user))
    answer: dict[str, object] = {
        "channel_mute": answers[0],
        "own_user": control.realtime.me(user_id),
    }
    if len(answers) > 1:
        answer["channel_mutes"] = answers
    _announce(request, user_id)
    return ok(request, answer, 201)


def _announce(request: Request[Any, Any, Any], user_id: str) -> None:
    realtime = control_of(request).realtime
    realtime.send_to_user(
        user_id, {"type": "notification.channel_mutes_updated", "me": realtime.me(user_id)}
    )


@post("/moderation/unmute/channel")
async def unmute_channel(request: Request[Any, Any, Any]) -> Response[Any]:
    """UnmuteChannel: `{channel_cid | channel_cids, user_id?}`."""
    endpoint = "UnmuteChannel"
    body = await read_body(request, endpoint)
    user_id = acting_user(
        request,
        endpoint,
        body.get("user_id"),
        refusal=ONLY_AS_SELF,
    )
    control_of(request).state.unmute_channels(
        _cids(body, endpoint), user_id=user_id, member_only=not principal_of(request).is_server
    )
    _announce(request, user_id)
    return ok(request, {}, 201)


ROUTES: Final = [mute_channel, unmute_channel]
