"""Injected failures: a queue of one-shot errors and a sticky "unreachable" switch."""

from __future__ import annotations

from stream_emulator.state.errors import StreamAPIError


class Faults:
    """What the simulated Stream does wrong on purpose; every API operation passes `gate`."""

    def __init__(self) -> None:
        self._queued: list[StreamAPIError] = []
        self._unavailable = False

    def fail_next(self, count: int = 1, *, status_code: int = 503, message: str = "") -> None:
        """Make the next `count` API operations fail with `status_code`, as Stream would."""
        text = message or f"injected failure with status {status_code}"
        self._queued.extend(StreamAPIError.for_status(status_code, text) for _ in range(count))

    def set_unavailable(self, unavailable: bool = True) -> None:
        """While set, every API operation fails with 503 (Stream unreachable)."""
        self._unavailable = unavailable

    def gate(self) -> None:
        """Raise the failure due now, if any (one queued failure is used up per call)."""
        if self._unavailable:
            raise StreamAPIError.for_status(503, "service unavailable")
        if self._queued:
            raise self._queued.pop(0)
