"""Which adapters implement which port: every contract suite runs against each of them.

Each entry builds a fresh store inside an async context manager, so adapters that hold
connections (Beanie on MongoDB or its in-process double) are closed after each test.
Later issues add their adapters (Stream over the emulator) to these tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from tests.mongo_double.stores import mongo_stores
from yc_chat.adapters.beanie import MongoStores
from yc_chat.adapters.memory import (
    InMemoryAppointments,
    InMemoryChannelLocks,
    InMemoryDevices,
    InMemoryDirectory,
    InMemoryEventInbox,
    InMemoryEventLog,
    InMemoryFingerprints,
)

Factory = Callable[[], AbstractAsyncContextManager[Any]]


def _memory(build: Callable[[], Any]) -> Factory:
    @asynccontextmanager
    async def factory() -> AsyncIterator[Any]:
        yield build()

    return factory


def _beanie(pick: Callable[[MongoStores], Any]) -> Factory:
    """The store `pick` chooses among freshly opened Beanie stores (see tests/mongo_double)."""

    @asynccontextmanager
    async def factory() -> AsyncIterator[Any]:
        async with mongo_stores() as stores:
            yield pick(stores)

    return factory


DIRECTORIES: dict[str, Factory] = {
    "memory": _memory(InMemoryDirectory),
    "beanie": _beanie(lambda stores: stores.directory),
}
APPOINTMENT_STORES: dict[str, Factory] = {
    "memory": _memory(InMemoryAppointments),
    "beanie": _beanie(lambda stores: stores.appointments),
}
DEVICE_REGISTRIES: dict[str, Factory] = {
    "memory": _memory(InMemoryDevices),
    "beanie": _beanie(lambda stores: stores.devices),
}
EVENT_LOGS: dict[str, Factory] = {
    "memory": _memory(InMemoryEventLog),
    "beanie": _beanie(lambda stores: stores.event_log),
}
FINGERPRINT_STORES: dict[str, Factory] = {
    "memory": _memory(InMemoryFingerprints),
    "beanie": _beanie(lambda stores: stores.fingerprints),
}
EVENT_INBOXES: dict[str, Factory] = {
    "memory": _memory(InMemoryEventInbox),
    "beanie": _beanie(lambda stores: stores.inbox),
}
CHANNEL_LOCKS: dict[str, Factory] = {
    "memory": _memory(InMemoryChannelLocks),
    "beanie": _beanie(lambda stores: stores.locks),
}
