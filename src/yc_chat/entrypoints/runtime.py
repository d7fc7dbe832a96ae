"""What a process serves: the built service and the few things serving it needs.

The composition root (`bootstrap`) builds a `Runtime`; the HTTP app (`create_app`) and the
background jobs receive it and choose nothing themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import attrs

from yc_chat.domain.deadlines import NO_DEADLINES
from yc_chat.domain.metrics import Gauge
from yc_chat.domain.service import ChatService, Ports
from yc_chat.entrypoints.fixture import Fixture, seed
from yc_chat.entrypoints.readiness import (
    Fallback,
    Probe,
    Readiness,
    ReadinessReport,
    check_degradable,
    check_readiness,
)
from yc_chat.entrypoints.settings import Settings
from yc_chat.ports import Deadlines, RateLimitStore

if TYPE_CHECKING:
    from stream_emulator.server import RunningEmulator

__all__ = ["Fallback", "MetricsExport", "Probe", "Runtime"]

# The part name of the shared rate-limit store in readiness (`degraded: ["redis"]`).
RATE_LIMIT_STORE = "redis"
WEBHOOK_PATH = "/api/webhooks/stream"


class MetricsExport(Protocol):
    """The Metrics port's figures as the `/metrics` body."""

    @property
    def content_type(self) -> str:
        """The media type of `render()`'s text."""

    def render(self, gauges: Sequence[Gauge] = ()) -> str:
        """Every series, with `gauges` read at scrape time."""


@attrs.frozen(kw_only=True)
class Runtime:
    """A built service over one set of ports, and what serving it needs.

    `exporter` renders `ports.metrics` (the same object) for `/metrics`; `rate_limits`
    counts the token budget (shared through Redis, or this process's), `local_rate_limits`
    when that store is unreachable; `on_shutdown` closes what the app's lifespan must close;
    `probes` must answer for the process to be ready, `degradable` parts only degrade it.
    """

    settings: Settings
    ports: Ports
    service: ChatService
    exporter: MetricsExport
    rate_limits: RateLimitStore
    local_rate_limits: RateLimitStore
    probes: Mapping[str, Probe]
    persistent: bool
    emulator: RunningEmulator | None = None
    # Every HTTP request's budget for its dependencies (REQUEST_DEADLINE).
    request_deadlines: Deadlines = NO_DEADLINES
    # Recording a webhook never waits on anything (the in-memory inbox: no I/O, no await),
    # so the webhook route opens no dependency budget: nothing in it could overrun one.
    inbox_never_waits: bool = False
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = ()
    # Parts with a working fallback: down, they make readiness `degraded`, not `unready`.
    degradable: Mapping[str, Fallback] = attrs.field(factory=dict)
    readiness: Readiness = attrs.field(factory=Readiness)

    async def check_readiness(self) -> ReadinessReport:
        """Ask every part: ready, degraded (a fallback is in use) or unready."""
        limit = self.settings.http.readiness_timeout_seconds
        return await check_readiness(self.probes, self.degradable, self.readiness, limit)

    async def check_degradable(self) -> None:
        """Ask the parts that have a fallback (for the `degraded` gauge)."""
        limit = self.settings.http.readiness_timeout_seconds
        await check_degradable(self.degradable, self.readiness, limit)

    def rate_limit_store_down(self, down: bool) -> None:
        """What the rate limiter saw of the shared store (Redis), for readiness and the log."""
        fallback = self.degradable.get(RATE_LIMIT_STORE)
        if fallback is not None:
            self.readiness.note(RATE_LIMIT_STORE, degraded=down, fallback=fallback)

    async def load(self, fixture: Fixture) -> None:
        """Write a directory/appointments fixture into the stores (upserts)."""
        writer = self.ports.directory_writer
        if writer is None:
            raise RuntimeError("this runtime's directory is the host's: load fixtures there")
        await seed(fixture, directory=writer, appointments=self.ports.appointments)
        # A directory with in-process search indexes builds them now, not on the first
        # search (issue 22: that search waited for the whole build).
        warm = getattr(writer, "warm_search", None)
        if warm is not None:
            await warm()

    def deliver_webhooks_to(self, service_base_url: str) -> None:
        """Point the built-in emulator's webhooks at this service (no-op with real Stream)."""
        if self.emulator is not None:
            self.emulator.control.webhook_url = service_base_url.rstrip("/") + WEBHOOK_PATH
