"""`PUT /channels/batch` (ChannelBatchUpdate, server-side): one operation on every channel a
filter selects, run as a task (`GET /tasks/{id}`).

Stream runs the batch in the background; the emulator runs it at once, channel by channel,
through the same operations as the single-channel endpoints (so each channel's events are
theirs), and records the finished task: `operation`, `success_channels_count` and
`failed_channels` (`{reason, cids}` per reason), announced as `channel_batch_update.started`
and `channel_batch_update.completed`. The filter takes `cids` and `types`, each with `$eq`
or `$in` (the OpenAPI's filter fields); a channel failing (say a member who does not exist)
fails alone. Bad input (unknown operation or filter field, members missing) is refused
before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from litestar import Request, Response, put

from stream_emulator.api.inputs import channel_input, member_entries
from stream_emulator.api.request_response import (
    control_of,
    object_field,
    ok,
    read_body,
    server_only,
)
from stream_emulator.state import StreamAPIError, StreamChannel, StreamState
from stream_emulator.state.errors import input_error

ENDPOINT: Final = "ChannelBatchUpdate"
MEMBER_OPERATIONS: Final = frozenset(
    {
        "addMembers",
        "removeMembers",
        "inviteMembers",
        "invites",
        "assignRoles",
        "addModerators",
        "demoteModerators",
        "hide",
        "show",
        "archive",
        "unarchive",
    }
)
OPERATIONS: Final = MEMBER_OPERATIONS | {"updateData"}
FILTER_FIELDS: Final = ("cids", "types")
MAX_MEMBERS: Final = 100
# The ChannelDataUpdate fields a batch may set (the rest of Stream's are not modelled).
DATA_FIELDS: Final = frozenset(
    {
        "custom",
        "frozen",
        "config_overrides",
        "disabled",
        "team",
        "auto_translation_enabled",
        "auto_translation_language",
    }
)

Apply = Callable[[StreamState, StreamChannel], None]


@put("/channels/batch", status_code=201)
async def update_channels_batch(request: Request[Any, Any, Any]) -> Response[Any]:
    """ChannelBatchUpdate: `{operation, filter, members?, data?}`; answers the task id."""
    server_only(request, ENDPOINT)
    body = await read_body(request, ENDPOINT)
    operation = body.get("operation")
    if not isinstance(operation, str) or operation not in OPERATIONS:
        raise input_error(ENDPOINT, f"operation must be one of {', '.join(sorted(OPERATIONS))}")
    wanted = _filter(object_field(body, "filter", ENDPOINT))
    apply = _operation(operation, body)
    state = control_of(request).state
    channels = [c for c in state.all_channels() if _matches(c, wanted)]
    succeeded = 0
    failed: dict[str, list[str]] = {}
    for channel in channels:
        try:
            apply(state, channel)
        except StreamAPIError as error:
            failed.setdefault(error.message, []).append(channel.cid)
        else:
            succeeded += 1
    task_id = state.record_batch_task(operation, succeeded, failed)
    return ok(request, {"task_id": task_id}, 201)


def _filter(value: Mapping[str, object] | None) -> dict[str, set[str]]:
    """`{cids|types: "x" | {"$eq": "x"} | {"$in": [...]}}` as allowed values per field."""
    if value is None:
        raise input_error(ENDPOINT, "filter is required")
    unknown = sorted(set(value) - set(FILTER_FIELDS))
    if unknown or not value:
        raise input_error(ENDPOINT, f"filter takes {' and '.join(FILTER_FIELDS)} only")
    wanted: dict[str, set[str]] = {}
    for field, condition in value.items():
        if isinstance(condition, str):
            wanted[field] = {condition}
            continue
        if not isinstance(condition, Mapping) or len(condition) != 1:
            raise input_error(ENDPOINT, f"filter.{field} takes one of $eq and $in")
        ((operator, operand),) = condition.items()
        if operator == "$eq" and isinstance(operand, str):
            wanted[field] = {operand}
        elif (
            operator == "$in"
            and isinstance(operand, list)
            and all(isinstance(item, str) for item in operand)
        ):
            wanted[field] = set(operand)
        else:
            raise input_error(ENDPOINT, f"filter.{field} takes $eq (a string) or $in (strings)")
    return wanted


def _matches(channel: StreamChannel, wanted: Mapping[str, set[str]]) -> bool:
    if "cids" in wanted and channel.cid not in wanted["cids"]:
        return False
    return "types" not in wanted or channel.type in wanted["types"]


def _operation(operation: str, body: Mapping[str, object]) -> Apply:
    """What the operation does to one channel (its input checked once, up front)."""
    if operation == "updateData":
        return _update_data(object_field(body, "data", ENDPOINT))
    ids, roles = member_entries(body.get("members"), "members", ENDPOINT)
    if not ids or len(ids) > MAX_MEMBERS:
        raise input_error(ENDPOINT, f"members must name 1 to {MAX_MEMBERS} users")
    if operation == "assignRoles" and set(roles) != set(ids):
        raise input_error(ENDPOINT, "assignRoles members need a channel_role each")
    simple: dict[str, Apply] = {
        "addMembers": lambda s, c: _done(s.update_members(c.type, c.id, add=ids, add_roles=roles)),
        "removeMembers": lambda s, c: _done(s.update_members(c.type, c.id, remove=ids)),
        "inviteMembers": lambda s, c: _done(s.invite_members(c.type, c.id, ids)),
        "invites": lambda s, c: _done(s.invite_members(c.type, c.id, ids)),
        "assignRoles": lambda s, c: _done(s.assign_channel_roles(c.type, c.id, roles)),
        "addModerators": lambda s, c: _done(s.change_moderators(c.type, c.id, add=ids)),
        "demoteModerators": lambda s, c: _done(s.change_moderators(c.type, c.id, demote=ids)),
    }
    if operation in simple:
        return simple[operation]
    return _per_member(operation, ids)


def _per_member(operation: str, ids: Sequence[str]) -> Apply:
    """hide, show, archive, unarchive: each named member's own view of the channel."""

    def apply(state: StreamState, channel: StreamChannel) -> None:
        for user_id in ids:
            if operation == "hide":
                state.hide_channel(channel.type, channel.id, user_id=user_id)
            elif operation == "show":
                state.show_channel(channel.type, channel.id, user_id=user_id)
            else:
                state.update_member_partial(
                    channel.type,
                    channel.id,
                    user_id,
                    set_fields={"archived": operation == "archive"},
                )

    return apply


def _update_data(data: Mapping[str, object] | None) -> Apply:
    if not data:
        raise input_error(ENDPOINT, "updateData needs data")
    unknown = sorted(set(data) - DATA_FIELDS)
    if unknown:
        raise input_error(ENDPOINT, f"data cannot set {', '.join(unknown)}")
    custom = object_field(data, "custom", ENDPOINT) or {}
    flat = {**custom, **{k: v for k, v in data.items() if k != "custom"}}
    parsed = channel_input(flat, ENDPOINT, creating=False)

    def apply(state: StreamState, channel: StreamChannel) -> None:
        state.update_channel_partial(channel.type, channel.id, set_fields=parsed.data)

    return apply


def _done(_: object) -> None:
    """The operations answer the changed channel; a batch only counts them."""


ROUTES: Final = [update_channels_batch]
