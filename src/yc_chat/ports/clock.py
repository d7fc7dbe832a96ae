"""Time, as the use cases read it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Time, injected so the lifecycle can be tested."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
