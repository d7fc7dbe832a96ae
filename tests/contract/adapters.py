"""Which adapters implement which port: every contract suite runs against each of them.

Each entry builds a fresh store inside an async context manager, so adapters that hold
connections (Beanie on MongoDB or its in-process double) are closed after each test.
Later issues add their adapters (Stream over the emulator) to these tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from tests.support.mongo_double.stores import MONGO_BACKENDS, Backend, mongo_stores
from tests.support.postgres import postgres_stores
from yc_chat.adapters.beanie import MongoStores
from yc_chat.adapters.memory import (
    InMemoryAppointments,
    InMemoryChannelLocks,
    InMemoryDevices,
    InMemoryDirectory,
    InMemoryEffectClaims,
    InMemoryEventInbox,
    InMemoryFingerprints,
)
from yc_chat.adapters.postgres import PostgresStores

Factory = Callable[[], AbstractAsyncContextManager[Any]]


def _memory(build: Callable[[], Any]) -> Factory:
    @asynccontextmanager
    async def factory() -> AsyncIterator[Any]:
        yield build()

    return factory


def _beanie(pick: Callable[[MongoStores], Any], backend: Backend) -> Factory:
    """The store `pick` chooses among freshly opened Beanie stores on `backend`: the
    in-process double, or a real server (see tests/support/mongo_double/stores.py)."""

    @asynccontextmanager
    async def factory() -> AsyncIterator[Any]:
        async with mongo_stores(backend=backend) as stores:
            yield pick(stores)

    return factory


def _postgres(pick: Callable[[PostgresStores], Any]) -> Factory:
    """The store `pick` chooses among PostgreSQL stores on the session's emptied database."""

    @asynccontextmanager
    async def factory() -> AsyncIterator[Any]:
        async with postgres_stores() as stores:
            yield pick(stores)

    return factory


def _adapters(
    build: Callable[[], Any],
    pick: Callable[[MongoStores], Any],
    pick_postgres: Callable[[PostgresStores], Any],
) -> dict[str, Factory]:
    return {
        "memory": _memory(build),
        **{f"beanie-{backend}": _beanie(pick, backend) for backend in MONGO_BACKENDS},
        "postgres": _postgres(pick_postgres),
    }


def _same(name: str) -> Callable[[Any], Any]:
    return lambda stores: getattr(stores, name)


DIRECTORIES: dict[str, Factory] = _adapters(
    InMemoryDirectory, _same("directory"), _same("directory")
)
APPOINTMENT_STORES: dict[str, Factory] = _adapters(
    InMemoryAppointments, _same("appointments"), _same("appointments")
)
DEVICE_REGISTRIES: dict[str, Factory] = _adapters(
    InMemoryDevices, _same("devices"), _same("devices")
)
EFFECT_CLAIMS: dict[str, Factory] = _adapters(
    InMemoryEffectClaims, _same("effect_claims"), _same("effect_claims")
)
FINGERPRINT_STORES: dict[str, Factory] = _adapters(
    InMemoryFingerprints, _same("fingerprints"), _same("fingerprints")
)
EVENT_INBOXES: dict[str, Factory] = _adapters(InMemoryEventInbox, _same("inbox"), _same("inbox"))
CHANNEL_LOCKS: dict[str, Factory] = _adapters(InMemoryChannelLocks, _same("locks"), _same("locks"))
