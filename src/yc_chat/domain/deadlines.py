"""The do-nothing Deadlines (ports/deadlines.py): work without a time bound (tests, tools)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext


class NoDeadlines:
    """A Deadlines port that bounds nothing."""

    def bounded(self) -> AbstractAsyncContextManager[None]:
        """The block runs as long as it takes."""
        return nullcontext()


NO_DEADLINES = NoDeadlines()
