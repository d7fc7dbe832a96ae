"""`/channeltypes`: ListChannelTypes, GetChannelType, UpdateChannelType (server-side only).

What `yc-chat stream setup` calls through the official SDK (`get_channel_type`,
`update_channel_type`): a type's settings and its grants, which every client-side call
is then checked against (`stream_emulator.state.permissions`).
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, get, post, put
from litestar.params import FromPath

from stream_emulator.api.request_response import control_of, ok, read_body, server_only
from stream_emulator.state.errors import input_error


@get("/channeltypes")
async def list_channel_types(request: Request[Any, Any, Any]) -> Response[Any]:
    """ListChannelTypes: every type by name."""
    server_only(request, "ListChannelTypes")
    types = control_of(request).state.list_channel_types()
    return ok(request, {"channel_types": types}, 200)


@get("/channeltypes/{name:str}")
async def get_channel_type(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
    """GetChannelType: the type's settings, grants and dates."""
    server_only(request, "GetChannelType")
    return ok(request, control_of(request).state.get_channel_type(name), 200)


@put("/channeltypes/{name:str}")
async def update_channel_type(
    request: Request[Any, Any, Any], name: FromPath[str]
) -> Response[Any]:
    """UpdateChannelType: change settings and replace the grants of the roles named."""
    endpoint = "UpdateChannelType"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    return ok(request, control_of(request).state.update_channel_type(name, body), 201)


@post("/channeltypes")
async def create_channel_type(request: Request[Any, Any, Any]) -> Response[Any]:
    """CreateChannelType: not modelled (the emulator has `messaging` only)."""
    server_only(request, "CreateChannelType")
    raise input_error("CreateChannelType", "the emulator has the messaging channel type only")


ROUTES: Final = [list_channel_types, get_channel_type, update_channel_type, create_channel_type]
