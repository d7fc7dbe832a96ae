"""`/users`: upsert, partial update and query by id.

Stream's UpdateUsers, UpdateUsersPartial and QueryUsers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Request, Response, get, patch, post

from stream_emulator.api.request_response import (
    control_of,
    int_field,
    object_field,
    ok,
    payload_param,
    principal_of,
    read_body,
    server_only,
    string_list,
)
from stream_emulator.state import payloads
from stream_emulator.state.errors import input_error, not_allowed
from stream_emulator.state.users import REVOKE_FIELD

DEFAULT_USER_QUERY_LIMIT: Final = 30


@post("/users")
async def upsert_users(request: Request[Any, Any, Any]) -> Response[Any]:
    """UpdateUsers: create or replace up to 100 users, keyed by id."""
    endpoint = "UpdateUsers"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    users = object_field(body, "users", endpoint)
    if users is None:
        raise input_error(endpoint, "users is a required field")
    batch: list[Mapping[str, object]] = []
    for key, user in users.items():
        if not isinstance(user, Mapping):
            raise input_error(endpoint, f"users.{key} must be an object")
        if user.get("id", key) != key:
            raise input_error(endpoint, f"users.{key}.id does not match its key")
        batch.append({**user, "id": key})
    state = control_of(request).state
    stored = state.upsert_users(batch)
    return ok(
        request,
        {
            "users": {uid: payloads.full_user(user) for uid, user in stored.items()},
            "membership_deletion_task_id": "",
        },
        201,
    )


@patch("/users")
async def update_users_partial(request: Request[Any, Any, Any]) -> Response[Any]:
    """UpdateUsersPartial: set and unset fields of up to 100 users. A user's client may
    update itself alone (the kits' profile edits), never its own role or token revocation,
    as on Stream."""
    endpoint = "UpdateUsersPartial"
    principal = principal_of(request)
    body = await read_body(request, endpoint)
    updates = body.get("users")
    if not isinstance(updates, list) or not updates:
        raise input_error(endpoint, "users must be a non-empty list")
    if len(updates) > 100:
        raise input_error(endpoint, "users must contain at most 100 items")
    state = control_of(request).state
    result: dict[str, object] = {}
    for update in updates:
        if not isinstance(update, Mapping) or not isinstance(update.get("id"), str):
            raise input_error(endpoint, "every update needs an id")
        if not principal.is_server:
            _check_own_update(endpoint, update, str(principal.user_id))
    for update in updates:
        user = state.partial_update_user(
            str(update["id"]),
            set_fields=object_field(update, "set", endpoint),
            unset=string_list(update.get("unset"), "unset", endpoint),
        )
        result[user.id] = payloads.full_user(user)
    return ok(request, {"users": result, "membership_deletion_task_id": ""}, 200)


def _check_own_update(endpoint: str, update: Mapping[str, object], user_id: str) -> None:
    """Refuse (17) a user token's update of someone else, or of its own privileges."""
    if update["id"] != user_id:
        raise not_allowed(endpoint, "a user may update only itself")
    changed = [
        *(object_field(update, "set", endpoint) or {}),
        *(string_list(update.get("unset"), "unset", endpoint)),
    ]
    for key in changed:
        if key in ("role", "teams", REVOKE_FIELD):
            raise not_allowed(endpoint, f"a user may not change its own {key}")


@get("/users")
async def query_users(request: Request[Any, Any, Any]) -> Response[Any]:
    """QueryUsers: filters on any field (`$eq`, `$in`, comparisons, `$autocomplete`, ...)
    and sorts on any field; creation order by default. Users' clients may query too (the
    kits look users up for mentions and new chats)."""
    endpoint = "QueryUsers"
    payload = payload_param(request, endpoint)
    sort = payload.get("sort") or []
    if not isinstance(sort, list) or not all(isinstance(item, Mapping) for item in sort):
        raise input_error(endpoint, "sort must be a list of {field, direction}")
    conditions = object_field(payload, "filter_conditions", endpoint) or {}
    state = control_of(request).state
    users = state.search_users(
        conditions,
        sort,
        limit=int_field(payload, "limit", endpoint, default=DEFAULT_USER_QUERY_LIMIT),
        offset=int_field(payload, "offset", endpoint, default=0, high=1000),
    )
    answers = [{**payloads.full_user(user), **state.user_marks(user.id)} for user in users]
    return ok(request, {"users": answers}, 200)


ROUTES: Final = [upsert_users, update_users_partial, query_users]
