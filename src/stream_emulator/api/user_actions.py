"""More of `/users`: delete and restore, deactivate and reactivate, devices, mutes
(`/moderation/mute`), blocks, custom user events and unread counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath

from stream_emulator.api.request_response import (
    acting_user,
    control_of,
    int_field,
    object_field,
    ok,
    read_body,
    server_only,
    string_list,
)
from stream_emulator.state import StreamState, payloads
from stream_emulator.state.errors import input_error
from stream_emulator.state.records import UserMute

ONLY_AS_SELF: Final = "a user can only act as themselves"


def user_json(state: StreamState, user_id: str) -> dict[str, object]:
    """A user as the user endpoints answer it, with its delete and deactivate marks."""
    record = state.user(user_id)
    body: dict[str, object] = payloads.full_user(record) if record else {"id": user_id}
    body.update(state.user_marks(user_id))
    return body


@delete("/users/{user_id:str}", status_code=200)
async def delete_user(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[Any]:
    """DeleteUser: soft (marked `deleted_at`) unless `hard_delete=true`."""
    server_only(request, "DeleteUser")
    hard = request.query_params.get("hard_delete", "false").lower() == "true"
    state = control_of(request).state
    answer = user_json(state, user_id)
    state.delete_user(user_id, hard=hard)
    return ok(request, {"user": {**answer, **state.user_marks(user_id)}}, 200)


@post("/users/delete")
async def delete_users(request: Request[Any, Any, Any]) -> Response[Any]:
    """DeleteUsers: a batch, run as a task (finished at once)."""
    endpoint = "DeleteUsers"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    user_ids = string_list(body.get("user_ids"), "user_ids", endpoint)
    if not user_ids:
        raise input_error(endpoint, "user_ids must name at least one user")
    mode = body.get("user", "soft")
    if mode not in ("soft", "hard", "pruning"):
        raise input_error(endpoint, "user must be soft, pruning or hard")
    state = control_of(request).state
    for user_id in user_ids:
        state.delete_user(user_id, hard=mode == "hard")
    result = {user_id: {"status": "ok"} for user_id in user_ids}
    return ok(request, {"task_id": state.finished_task("delete-users", result)}, 201)


@post("/users/restore")
async def restore_users(request: Request[Any, Any, Any]) -> Response[Any]:
    """RestoreUsers: undo soft deletes."""
    endpoint = "RestoreUsers"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    control_of(request).state.restore_users(string_list(body.get("user_ids"), "user_ids", endpoint))
    return ok(request, {}, 201)


@post("/users/{user_id:str}/deactivate")
async def deactivate_user(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[Any]:
    """DeactivateUser."""
    return _set_deactivated(request, "DeactivateUser", user_id, deactivated=True)


@post("/users/{user_id:str}/reactivate")
async def reactivate_user(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[Any]:
    """ReactivateUser."""
    return _set_deactivated(request, "ReactivateUser", user_id, deactivated=False)


def _set_deactivated(
    request: Request[Any, Any, Any], endpoint: str, user_id: str, *, deactivated: bool
) -> Response[Any]:
    """Deactivate or reactivate one user (server-side); the user as it now is."""
    server_only(request, endpoint)
    state = control_of(request).state
    state.set_deactivated(user_id, deactivated=deactivated)
    return ok(request, {"user": user_json(state, user_id)}, 201)


@post("/users/deactivate")
async def deactivate_users(request: Request[Any, Any, Any]) -> Response[Any]:
    """DeactivateUsers: a batch, run as a task whose result lists the users."""
    endpoint = "DeactivateUsers"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    user_ids = string_list(body.get("user_ids"), "user_ids", endpoint)
    state = control_of(request).state
    for user_id in user_ids:
        state.set_deactivated(user_id, deactivated=True)
    users = [user_json(state, user_id) for user_id in user_ids]
    return ok(request, {"task_id": state.finished_task("deactivate-users", {"users": users})}, 201)


# -- devices ------------------------------------------------------------------------------


def _device_owner(request: Request[Any, Any, Any], endpoint: str, named: object) -> str:
    return acting_user(request, endpoint, named, refusal=ONLY_AS_SELF)


@get("/devices")
async def list_devices(request: Request[Any, Any, Any]) -> Response[Any]:
    """ListDevices."""
    user_id = _device_owner(request, "ListDevices", request.query_params.get("user_id"))
    found = control_of(request).state.devices(user_id)
    devices = [
        {
            "id": d.id,
            "user_id": d.user_id,
            "push_provider": d.push_provider,
            "created_at": payloads.format_time(d.created_at),
            "disabled": False,
        }
        for d in found
    ]
    return ok(request, {"devices": devices}, 200)


@post("/devices")
async def add_device(request: Request[Any, Any, Any]) -> Response[Any]:
    """CreateDevice: `{id, push_provider, user_id}`."""
    endpoint = "CreateDevice"
    body = await read_body(request, endpoint)
    user_id = _device_owner(request, endpoint, body.get("user_id"))
    device_id, provider = body.get("id"), body.get("push_provider")
    if not isinstance(device_id, str) or not isinstance(provider, str):
        raise input_error(endpoint, "id and push_provider are required strings")
    control_of(request).state.add_device(device_id, provider, user_id)
    return ok(request, {}, 201)


@delete("/devices", status_code=200)
async def delete_device(request: Request[Any, Any, Any]) -> Response[Any]:
    """DeleteDevice: `?id=&user_id=`."""
    endpoint = "DeleteDevice"
    user_id = _device_owner(request, endpoint, request.query_params.get("user_id"))
    control_of(request).state.delete_device(request.query_params.get("id", ""), user_id)
    return ok(request, {}, 200)


# -- mutes and blocks -----------------------------------------------------------------------


def _targets(body: Mapping[str, object], endpoint: str) -> list[str]:
    single = body.get("target_id")
    if single is not None and not isinstance(single, str):
        raise input_error(endpoint, "target_id must be a string")
    many = string_list(body.get("target_ids"), "target_ids", endpoint)
    return [*many, single] if single else many


def _mute_json(state: StreamState, mute: UserMute) -> dict[str, object]:
    body: dict[str, object] = {
        "user": user_json(state, mute.user_id),
        "target": user_json(state, mute.target_id),
        "created_at": payloads.format_time(mute.created_at),
        "updated_at": payloads.format_time(mute.created_at),
    }
    if mute.expires is not None:
        body["expires"] = payloads.format_time(mute.expires)
    return body


@post("/moderation/mute")
async def mute_users(request: Request[Any, Any, Any]) -> Response[Any]:
    """MuteUser: `{target_id | target_ids, user_id?, timeout? (minutes)}`."""
    endpoint = "MuteUser"
    body = await read_body(request, endpoint)
    user_id = acting_user(request, endpoint, body.get("user_id"), refusal=ONLY_AS_SELF)
    timeout = int_field(body, "timeout", endpoint, default=0)
    state = control_of(request).state
    mutes = state.mute_users(user_id, _targets(body, endpoint), minutes=timeout or None)
    answers = [_mute_json(state, mute) for mute in mutes]
    answer: dict[str, object] = {"mute": answers[0], "mutes": answers}
    answer["own_user"] = _announce_mutes(request, user_id)
    return ok(request, answer, 201)


@post("/moderation/unmute")
async def unmute_users(request: Request[Any, Any, Any]) -> Response[Any]:
    """UnmuteUser: `{target_id | target_ids, user_id?}`."""
    endpoint = "UnmuteUser"
    body = await read_body(request, endpoint)
    user_id = acting_user(request, endpoint, body.get("user_id"), refusal=ONLY_AS_SELF)
    control_of(request).state.unmute_users(user_id, _targets(body, endpoint))
    _announce_mutes(request, user_id)
    return ok(request, {}, 201)


def _announce_mutes(request: Request[Any, Any, Any], user_id: str) -> dict[str, object]:
    """`notification.mutes_updated` to the user's own connections (the clients keep their
    `mutedUsers` from it, as on Stream); returns the `me` it carries."""
    realtime = control_of(request).realtime
    me = realtime.me(user_id)
    realtime.send_to_user(user_id, {"type": "notification.mutes_updated", "me": me})
    return me


def _blocked_user(body: Mapping[str, object], endpoint: str) -> str:
    """The `blocked_user_id` a block or unblock names."""
    blocked = body.get("blocked_user_id")
    if not isinstance(blocked, str):
        raise input_error(endpoint, "blocked_user_id is a required string")
    return blocked


@post("/users/block")
async def block_user(request: Request[Any, Any, Any]) -> Response[Any]:
    """BlockUsers: `{blocked_user_id, user_id?}`."""
    endpoint = "BlockUsers"
    body = await read_body(request, endpoint)
    user_id = acting_user(request, endpoint, body.get("user_id"), refusal=ONLY_AS_SELF)
    blocked = _blocked_user(body, endpoint)
    at = control_of(request).state.block_user(user_id, blocked)
    answer: dict[str, object] = {
        "blocked_by_user_id": user_id,
        "blocked_user_id": blocked,
        "created_at": payloads.format_time(at),
    }
    return ok(request, answer, 201)


@post("/users/unblock")
async def unblock_user(request: Request[Any, Any, Any]) -> Response[Any]:
    """UnblockUsers."""
    endpoint = "UnblockUsers"
    body = await read_body(request, endpoint)
    user_id = acting_user(request, endpoint, body.get("user_id"), refusal=ONLY_AS_SELF)
    blocked = _blocked_user(body, endpoint)
    control_of(request).state.unblock_user(user_id, blocked)
    return ok(request, {}, 201)


@get("/users/block")
async def blocked_users(request: Request[Any, Any, Any]) -> Response[Any]:
    """GetBlockedUsers."""
    endpoint = "GetBlockedUsers"
    user_id = acting_user(
        request, endpoint, request.query_params.get("user_id"), refusal=ONLY_AS_SELF
    )
    state = control_of(request).state
    blocks = [
        {
            "user_id": user_id,
            "blocked_user_id": blocked,
            "blocked_user": user_json(state, blocked),
            "user": user_json(state, user_id),
            "created_at": payloads.format_time(at),
        }
        for blocked, at in state.blocks(user_id)
    ]
    return ok(request, {"blocks": blocks}, 200)


# -- events and unread counts -----------------------------------------------------------------


@post("/users/{user_id:str}/event")
async def send_user_event(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[Any]:
    """SendUserCustomEvent: a custom event to the user's own connections (server-side)."""
    endpoint = "SendUserCustomEvent"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    event = object_field(body, "event", endpoint)
    kind = event.get("type") if event is not None else None
    if event is None or not isinstance(kind, str) or not kind:
        raise input_error(endpoint, "event.type is a required field")
    if kind.startswith(("message.", "channel.", "user.", "notification.", "health.")):
        raise input_error(endpoint, f"{kind} is one of Stream's own events, not a custom one")
    control = control_of(request)
    if control.state.user(user_id) is None:
        raise input_error(endpoint, f"user {user_id} does not exist")
    control.realtime.send_to_user(user_id, {**event, "user": {"id": user_id}})
    return ok(request, {}, 201)


def _unread(request: Request[Any, Any, Any], user_id: str) -> dict[str, object]:
    control = control_of(request)
    return control.realtime.unread_report(user_id)


@get("/unread")
async def unread_counts(request: Request[Any, Any, Any]) -> Response[Any]:
    """UnreadCounts: per channel, per channel type and in threads."""
    endpoint = "UnreadCounts"
    user_id = acting_user(
        request, endpoint, request.query_params.get("user_id"), refusal=ONLY_AS_SELF
    )
    return ok(request, _unread(request, user_id), 200)


@post("/unread_batch")
async def unread_counts_batch(request: Request[Any, Any, Any]) -> Response[Any]:
    """UnreadCountsBatch: the same for up to 100 users (server-side)."""
    endpoint = "UnreadCountsBatch"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    user_ids = string_list(body.get("user_ids"), "user_ids", endpoint)
    if not 1 <= len(user_ids) <= 100:
        raise input_error(endpoint, "user_ids must name 1 to 100 users")
    counts = {user_id: _unread(request, user_id) for user_id in user_ids}
    return ok(request, {"counts_by_user": counts}, 201)


ROUTES: Final = [
    delete_user,
    delete_users,
    restore_users,
    deactivate_user,
    reactivate_user,
    deactivate_users,
    list_devices,
    add_device,
    delete_device,
    mute_users,
    unmute_users,
    block_user,
    unblock_user,
    blocked_users,
    send_user_event,
    unread_counts,
    unread_counts_batch,
]
