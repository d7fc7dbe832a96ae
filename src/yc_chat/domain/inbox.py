"""The webhook inbox: received events kept durably until handled, retried, or parked.

Stream delivers each event at least once and gives up after a few seconds, so the service
records an event before acknowledging it and handles it afterwards from the record. A
worker leases due events (one worker per event at a time), handles them, and completes,
reschedules (capped exponential backoff with jitter) or parks them after the retry limit.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import attrs

REASON_LIMIT = 300


class InboxState(enum.StrEnum):
    PENDING = "pending"  # due at `due_at`
    PROCESSING = "processing"  # leased to a worker until `due_at`; due again after that
    DONE = "done"
    PARKED = "parked"  # gave up; waits for `yc-chat events retry`


@attrs.frozen(kw_only=True)
class InboxEvent:
    """One recorded webhook event, as the inbox holds it now."""

    id: str
    type: str
    payload: bytes = attrs.field(repr=False)
    state: InboxState
    received_at: datetime
    # Pending: the next attempt's time. Processing: when the lease runs out.
    due_at: datetime
    attempts: int = 0
    lease_id: str | None = None
    last_error: str | None = None
    finished_at: datetime | None = None


def _positive(_: object, attribute: attrs.Attribute[timedelta], value: timedelta) -> None:
    if value <= timedelta(0):
        raise ValueError(f"{attribute.name} must be positive")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How often and how soon a failed event is tried again."""

    max_attempts: int = attrs.field(default=8, validator=attrs.validators.ge(1))
    base_delay: timedelta = attrs.field(default=timedelta(seconds=2), validator=_positive)
    max_delay: timedelta = attrs.field(default=timedelta(minutes=5), validator=_positive)

    def delay(self, attempt: int, jitter: float) -> timedelta:
        """The wait after failed attempt number `attempt` (1-based), `jitter` in [0, 1).

        Exponential from `base_delay`, capped at `max_delay`, then scaled into its upper
        half by the jitter: workers that failed together do not retry in lockstep, and no
        wait is shorter than half the nominal one.
        """
        exponent = min(max(attempt - 1, 0), 30)
        nominal: timedelta = min(self.base_delay * (2**exponent), self.max_delay)
        scale = 0.5 + 0.5 * min(max(jitter, 0.0), 1.0)
        return nominal * scale

    def gives_up_after(self, attempts: int) -> bool:
        """Whether an event that has failed `attempts` times is parked rather than retried."""
        return attempts >= self.max_attempts


def failure_reason(exc: BaseException) -> str:
    """A short, log-safe description of why handling failed (type and message, cut)."""
    text = str(exc).replace("\n", " ").strip()
    reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return reason[:REASON_LIMIT]
