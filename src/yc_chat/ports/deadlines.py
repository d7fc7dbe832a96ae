"""Deadlines: a bounded time for one unit of work (a worker event, a lifecycle transition)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol


class Deadlines(Protocol):
    """Gives a block of work one budget that every dependency call inside it draws from."""

    def bounded(self) -> AbstractAsyncContextManager[None]:
        """Run the block within the budget; raises DeadlineExceeded when it runs out."""
