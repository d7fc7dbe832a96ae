"""`/members`: a channel's members in joining order (QueryMembers)."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, get

from stream_emulator.api.request_response import (
    control_of,
    int_field,
    object_field,
    ok,
    payload_param,
    principal_of,
)
from stream_emulator.state import payloads, permissions
from stream_emulator.state.errors import input_error


@get("/members")
async def query_members(request: Request[Any, Any, Any]) -> Response[Any]:
    """QueryMembers: a channel's members matching the filter, in joining order; a user
    only in a channel they are a member of."""
    endpoint = "QueryMembers"
    payload = payload_param(request, endpoint)
    channel_type, channel_id = payload.get("type"), payload.get("id")
    if not isinstance(channel_type, str) or not isinstance(channel_id, str):
        raise input_error(endpoint, "type and id are required")
    principal = principal_of(request)
    if not principal.is_server:
        channel = control_of(request).state.channel(channel_type, channel_id)
        if channel is not None:
            control_of(request).state.require_permission(
                endpoint, permissions.READ_CHANNEL_MEMBERS, channel, str(principal.user_id)
            )
    conditions = object_field(payload, "filter_conditions", endpoint) or {}
    sort = payload.get("sort")
    if sort not in (None, [], [{"field": "created_at", "direction": 1}]):
        raise input_error(endpoint, "the emulator sorts members by created_at only")
    state = control_of(request).state
    members = state.query_members(
        channel_type,
        channel_id,
        limit=int_field(payload, "limit", endpoint, default=100, low=1),
        offset=int_field(payload, "offset", endpoint, default=0, high=10_000),
        filter_conditions=conditions,
    )
    return ok(
        request, {"members": [payloads.member(member, state.user) for member in members]}, 200
    )


ROUTES: Final = [query_members]
