"""RegisterDevice and UnregisterDevice: the caller's push tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from yc_chat.domain import errors
from yc_chat.domain.limits import (
    DEVICE_PLATFORMS,
    MAX_DEVICE_TOKEN_BYTES,
    MAX_DEVICES_PER_USER,
)
from yc_chat.domain.model import Device, UserId
from yc_chat.domain.validation import Problems

if TYPE_CHECKING:
    from yc_chat.ports import DeviceRegistry, Directory


def _check_token(problems: Problems, token: str) -> None:
    if not token.strip():
        problems.add("token", "must not be blank")
    elif not token.isprintable():
        problems.add("token", "must be printable text")
    elif len(token.encode("utf-8")) > MAX_DEVICE_TOKEN_BYTES:
        problems.add("token", f"must be at most {MAX_DEVICE_TOKEN_BYTES} bytes")


@attrs.frozen(kw_only=True)
class RegisterDevice:
    directory: Directory
    devices: DeviceRegistry

    async def __call__(self, *, caller: UserId, token: str, platform: str) -> Device:
        problems = Problems()
        _check_token(problems, token)
        if platform not in DEVICE_PLATFORMS:
            problems.add("platform", "must be one of " + ", ".join(DEVICE_PLATFORMS))
        problems.check()
        if await self.directory.get_user(caller) is None:
            raise errors.NotFound("User not found", code=errors.CODE_USER_NOT_FOUND)
        device = Device(user_id=caller, token=token, platform=platform)
        await self.devices.register(device, keep=MAX_DEVICES_PER_USER)
        return device


@attrs.frozen(kw_only=True)
class UnregisterDevice:
    devices: DeviceRegistry

    async def __call__(self, *, caller: UserId, token: str) -> None:
        problems = Problems()
        _check_token(problems, token)
        problems.check()
        # Someone else's token looks exactly like an unknown one: no probing of ownership.
        if not await self.devices.unregister(caller, token):
            raise errors.NotFound("Device not found", code=errors.CODE_DEVICE_NOT_FOUND)
