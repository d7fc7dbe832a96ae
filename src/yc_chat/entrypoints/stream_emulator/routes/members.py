"""`/members`: a channel's members in joining order (QueryMembers)."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, get

from yc_chat.adapters.fake_stream.sim import payloads
from yc_chat.adapters.fake_stream.sim.errors import input_error
from yc_chat.entrypoints.stream_emulator.plumbing import (
    control_of,
    int_field,
    object_field,
    ok,
    payload_param,
    server_only,
)


@get("/members")
async def query_members(request: Request[Any, Any, Any]) -> Response[Any]:
    """QueryMembers: a channel's members in joining order (no member filters modelled)."""
    endpoint = "QueryMembers"
    server_only(request, endpoint)
    payload = payload_param(request, endpoint)
    channel_type, channel_id = payload.get("type"), payload.get("id")
    if not isinstance(channel_type, str) or not isinstance(channel_id, str):
        raise input_error(endpoint, "type and id are required")
    if object_field(payload, "filter_conditions", endpoint):
        raise input_error(endpoint, "the emulator supports only an empty member filter")
    sort = payload.get("sort")
    if sort not in (None, [], [{"field": "created_at", "direction": 1}]):
        raise input_error(endpoint, "the emulator sorts members by created_at only")
    state = control_of(request).state
    members = state.query_members(
        channel_type,
        channel_id,
        limit=int_field(payload, "limit", endpoint, default=100, low=1),
        offset=int_field(payload, "offset", endpoint, default=0, high=10_000),
    )
    return ok(
        request, {"members": [payloads.member(member, state.user) for member in members]}, 200
    )


ROUTES: Final = [query_members]
