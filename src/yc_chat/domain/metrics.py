"""What the service counts and times, named in the domain's words; exporters give them units.

Use cases report through the `Metrics` port; `NO_METRICS` is the do-nothing default for
callers that do not export any (a library embedding, most tests).
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator, Mapping

import attrs


class Counted(enum.StrEnum):
    """Things that happen, counted."""

    WEBHOOKS_RECEIVED = "webhooks_received"
    WEBHOOKS_DUPLICATE = "webhooks_duplicate"
    EVENTS_PROCESSED = "events_processed"
    EVENTS_FAILED = "events_failed"
    EVENTS_PARKED = "events_parked"
    EVENTS_IGNORED = "events_ignored"
    PUSHES_SENT = "pushes_sent"
    PUSHES_FAILED = "pushes_failed"
    LIFECYCLE_TRANSITIONS = "lifecycle_transitions"


class Timed(enum.StrEnum):
    """Things that take time, measured in seconds."""

    WEBHOOK_RECORD = "webhook_record"
    EVENT_HANDLING = "event_handling"
    EVENT_LAG = "event_lag"
    PUSH_SEND = "push_send"


DESCRIPTIONS: Mapping[Counted | Timed, str] = {
    Counted.WEBHOOKS_RECEIVED: "Signed webhook events recorded in the inbox.",
    Counted.WEBHOOKS_DUPLICATE: "Webhook deliveries whose event id was already recorded.",
    Counted.EVENTS_PROCESSED: "Inbox events handled successfully, by kind.",
    Counted.EVENTS_FAILED: "Inbox event handling attempts that failed and will be retried.",
    Counted.EVENTS_PARKED: "Inbox events given up on after the retry limit (see `yc-chat events`).",
    Counted.EVENTS_IGNORED: (
        "Inbox events handled without effect because they could not be acted on, by reason "
        "(channel_unknown: Stream does not have the channel; not_ours: a channel yc-chat did "
        "not create; malformed: the payload lacks what acting needs)."
    ),
    Counted.PUSHES_SENT: "Push notifications delivered to at least one device of the recipient.",
    Counted.PUSHES_FAILED: "Push notifications that reached no device, by reason.",
    Counted.LIFECYCLE_TRANSITIONS: "Appointment chats moved by the lifecycle scheduler, by status.",
    Timed.WEBHOOK_RECORD: "Time to record a received webhook event durably.",
    Timed.EVENT_HANDLING: "Time to handle one inbox event, by kind.",
    Timed.EVENT_LAG: "Time from receiving a webhook event to finishing its handling.",
    Timed.PUSH_SEND: "Time for one push provider call.",
}


class NoMetrics:
    """A Metrics port that records nothing."""

    def count(self, name: Counted, amount: float = 1, **labels: str) -> None:
        """Do nothing."""

    def observe(self, name: Timed, seconds: float, **labels: str) -> None:
        """Do nothing."""

    @contextlib.contextmanager
    def time(self, name: Timed, **labels: str) -> Iterator[None]:
        """Do nothing around the block."""
        yield


NO_METRICS = NoMetrics()

# A series' labels, sorted by name: (("state", "parked"),).
Labels = tuple[tuple[str, str], ...]


@attrs.frozen(kw_only=True)
class Gauge:
    """A value read at scrape time (e.g. inbox size by state), with its samples."""

    name: str
    help: str
    samples: Mapping[Labels, float]
