"""Push token registration for the caller."""

from __future__ import annotations

from litestar import Controller, delete, post
from litestar.params import FromPath, JSONBody

from yc_chat.entrypoints.http.body import StrictBody
from yc_chat.entrypoints.http.deps import AUTHED, WRITES, Caller, Service, error_docs
from yc_chat.entrypoints.http.schemas import DeviceRequest, SuccessResponse


class DeviceController(Controller):
    """The caller's push tokens."""

    path = "/api/devices"
    tags = ("devices",)

    @post(
        "",
        operation_id="registerDevice",
        response_description="The push token is registered for the caller",
        summary="Register a push token for the caller",
        status_code=200,
        dto=StrictBody[DeviceRequest],
        return_dto=None,
        responses=error_docs(*WRITES, 404),
    )
    async def register(
        self, data: JSONBody[DeviceRequest], caller: Caller, service: Service
    ) -> SuccessResponse:
        """Register the token."""
        await service.register_device(caller=caller, token=data.token, platform=data.platform)
        return SuccessResponse(success=True)

    @delete(
        "/{token:str}",
        operation_id="unregisterDevice",
        response_description="The push token is forgotten",
        summary="Forget one of the caller's push tokens",
        status_code=200,
        responses=error_docs(*AUTHED, 404),
    )
    async def unregister(
        self, token: FromPath[str], caller: Caller, service: Service
    ) -> SuccessResponse:
        """Unregister the token."""
        await service.unregister_device(caller=caller, token=token)
        return SuccessResponse(success=True)
