"""A local Stream Chat: the Stream simulation (`fake_stream.sim`) over Stream's REST API."""

from yc_chat.entrypoints.stream_emulator.app import create_emulator_app, emulator_control
from yc_chat.entrypoints.stream_emulator.auth import Principal
from yc_chat.entrypoints.stream_emulator.control import EmulatorControl, Faults
from yc_chat.entrypoints.stream_emulator.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    RunningEmulator,
    new_credentials,
    run_emulator,
    start_in_background,
)
from yc_chat.entrypoints.stream_emulator.webhooks import DeliveryStats, WebhookSettings, sign

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
