"""A local Stream Chat: Stream's REST and WebSocket API over an in-memory Stream app.

Laid out per resource: `state/` holds the state and rules (users, channels, messages,
visibility, uploads, realtime), `api/` the HTTP and WebSocket endpoints over them, `app`
assembles the Litestar app, `server` runs it (`python -m stream_emulator`). It imports
nothing from yc_chat (an import-linter contract keeps it so): it holds its own knowledge of
Stream, so it can catch an adapter that gets Stream wrong.

The names below load on first use: `stream_emulator.state` alone needs no web framework,
so an in-process user of the state (yc_chat's fake ChatProvider) does not pay for one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stream_emulator.app import create_emulator_app, emulator_control
    from stream_emulator.auth import Principal
    from stream_emulator.control import EmulatorControl, Faults
    from stream_emulator.server import (
        DEFAULT_HOST,
        DEFAULT_PORT,
        RunningEmulator,
        new_credentials,
        run_emulator,
        start_in_background,
    )
    from stream_emulator.webhooks import DeliveryStats, WebhookSettings, sign

_HOMES = {
    "create_emulator_app": "app",
    "emulator_control": "app",
    "Principal": "auth",
    "EmulatorControl": "control",
    "Faults": "control",
    "DEFAULT_HOST": "server",
    "DEFAULT_PORT": "server",
    "RunningEmulator": "server",
    "new_credentials": "server",
    "run_emulator": "server",
    "start_in_background": "server",
    "DeliveryStats": "webhooks",
    "WebhookSettings": "webhooks",
    "sign": "webhooks",
}

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DeliveryStats",
    "EmulatorControl",
    "Faults",
    "Principal",
    "RunningEmulator",
    "WebhookSettings",
    "create_emulator_app",
    "emulator_control",
    "new_credentials",
    "run_emulator",
    "sign",
    "start_in_background",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
