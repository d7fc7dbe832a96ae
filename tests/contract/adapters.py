"""Which adapters implement which port: every contract suite runs against each of them.

Later issues add their adapters (Beanie, Stream over the emulator) to these tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yc_chat.adapters.memory import (
    InMemoryAppointments,
    InMemoryDevices,
    InMemoryDirectory,
    InMemoryEventLog,
    InMemoryFingerprints,
)

Factory = Callable[[], Any]

DIRECTORIES: dict[str, Factory] = {"memory": InMemoryDirectory}
APPOINTMENT_STORES: dict[str, Factory] = {"memory": InMemoryAppointments}
DEVICE_REGISTRIES: dict[str, Factory] = {"memory": InMemoryDevices}
EVENT_LOGS: dict[str, Factory] = {"memory": InMemoryEventLog}
FINGERPRINT_STORES: dict[str, Factory] = {"memory": InMemoryFingerprints}
