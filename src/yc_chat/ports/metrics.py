"""Operator metrics."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from yc_chat.domain.metrics import Counted, Timed


class Metrics(Protocol):
    """Counters and durations for operators (exported as Prometheus text by an adapter)."""

    def count(self, name: Counted, amount: float = 1, **labels: str) -> None:
        """Add `amount` to a counter."""

    def observe(self, name: Timed, seconds: float, **labels: str) -> None:
        """Record one duration."""

    def time(self, name: Timed, **labels: str) -> AbstractContextManager[None]:
        """Record the duration of the `with` block (also when it raises)."""
