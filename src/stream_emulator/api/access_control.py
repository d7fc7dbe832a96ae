"""`/roles` and `/permissions` (server-side): list, create and delete roles; list, get,
create, update and delete permissions (see `state.access_control`)."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath

from stream_emulator.api.request_response import control_of, ok, read_body, server_only


@get("/roles")
async def list_roles(request: Request[Any, Any, Any]) -> Response[Any]:
    """ListRoles."""
    server_only(request, "ListRoles")
    return ok(request, {"roles": control_of(request).state.list_roles()}, 200)


@post("/roles")
async def create_role(request: Request[Any, Any, Any]) -> Response[Any]:
    """CreateRole: `{name}`."""
    endpoint = "CreateRole"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    return ok(request, {"role": control_of(request).state.create_role(body.get("name"))}, 201)


@delete("/roles/{name:str}", status_code=200)
async def delete_role(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
    """DeleteRole."""
    server_only(request, "DeleteRole")
    control_of(request).state.delete_role(name)
    return ok(request, {}, 200)


@get("/permissions")
async def list_permissions(request: Request[Any, Any, Any]) -> Response[Any]:
    """ListPermissions."""
    server_only(request, "ListPermissions")
    return ok(request, {"permissions": control_of(request).state.list_permissions()}, 200)


@post("/permissions")
async def create_permission(request: Request[Any, Any, Any]) -> Response[Any]:
    """CreatePermission: `{id, name, action, condition, owner?, same_team?, description?}`."""
    endpoint = "CreatePermission"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    control_of(request).state.create_permission(body)
    return ok(request, {}, 201)


@get("/permissions/{permission_id:str}")
async def get_permission(
    request: Request[Any, Any, Any], permission_id: FromPath[str]
) -> Response[Any]:
    """GetPermission."""
    server_only(request, "GetPermission")
    found = control_of(request).state.get_permission(permission_id)
    return ok(request, {"permission": found}, 200)


@put("/permissions/{permission_id:str}")
async def update_permission(
    request: Request[Any, Any, Any], permission_id: FromPath[str]
) -> Response[Any]:
    """UpdatePermission: the permission's fields, replaced."""
    endpoint = "UpdatePermission"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    control_of(request).state.update_permission(permission_id, body)
    return ok(request, {}, 201)


@delete("/permissions/{permission_id:str}", status_code=200)
async def delete_permission(
    request: Request[Any, Any, Any], permission_id: FromPath[str]
) -> Response[Any]:
    """DeletePermission."""
    server_only(request, "DeletePermission")
    control_of(request).state.delete_permission(permission_id)
    return ok(request, {}, 200)


ROUTES: Final = [
    list_roles,
    create_role,
    delete_role,
    list_permissions,
    create_permission,
    get_permission,
    update_permission,
    delete_permission,
]
