"""Every store port in memory, plus the JSON fixture loader."""

from yc_chat.adapters.memory.appointments import InMemoryAppointments
from yc_chat.adapters.memory.directory import InMemoryDirectory
from yc_chat.adapters.memory.fixture import Fixture, FixtureError, load_fixture, parse_fixture, seed
from yc_chat.adapters.memory.misc import (
    InMemoryChannelLocks,
    InMemoryDevices,
    InMemoryEventInbox,
    InMemoryEventLog,
    InMemoryFingerprints,
    RecordingNotifier,
)

__all__ = [
    "Fixture",
    "FixtureError",
    "InMemoryAppointments",
    "InMemoryChannelLocks",
    "InMemoryDevices",
    "InMemoryDirectory",
    "InMemoryEventInbox",
    "InMemoryEventLog",
    "InMemoryFingerprints",
    "RecordingNotifier",
    "load_fixture",
    "parse_fixture",
    "seed",
]
