"""GET /metrics: counters, durations and inbox figures in Prometheus text format."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import Controller, Request, Response, get

from yc_chat.domain.metrics import Gauge
from yc_chat.entrypoints.http.deps import runtime_of
from yc_chat.entrypoints.http.keys import OPT_PUBLIC
from yc_chat.ports import EventInbox

logger = logging.getLogger("yc_chat.http")

# Prometheus' text exposition format, as documented; the exporter names the one it writes.
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


async def inbox_gauges(inbox: EventInbox, limit_seconds: float) -> list[Gauge]:
    """The inbox size by state, or nothing when the store does not answer in time."""
    try:
        counts = await asyncio.wait_for(inbox.counts(), timeout=limit_seconds)
    except Exception as exc:
        # A scrape must not fail with the store: the counters are still worth having.
        logger.warning("inbox counts unavailable", extra={"error_type": type(exc).__name__})
        return []
    return [
        Gauge(
            name="inbox_events",
            help="Webhook events in the inbox, by state (done ones expire after 7 days).",
            samples={(("state", state.value),): float(n) for state, n in counts.items()},
        )
    ]


class MetricsController(Controller):
    """For Prometheus scrapes (no authentication: counts only, no ids or content)."""

    path = "/metrics"
    tags = ("operations",)
    opt = {OPT_PUBLIC: True}  # noqa: RUF012 - Litestar reads this class attribute as-is

    @get(
        "/",
        operation_id="metrics",
        summary="Prometheus metrics",
        description="Webhooks received, duplicates, processed, failed and parked; pushes "
        "sent and failed; lifecycle transitions; handling durations. No authentication: "
        "expose it only to the monitoring network.",
        media_type=PROMETHEUS_TEXT,
        response_description="Prometheus text exposition of every series",
    )
    async def metrics(self, request: Request[Any, Any, Any]) -> Response[str]:
        """The text exposition of every series."""
        runtime = runtime_of(request)
        gauges = await inbox_gauges(
            runtime.ports.inbox, runtime.settings.http.readiness_timeout_seconds
        )
        text = runtime.exporter.render(gauges)
        return Response(text, media_type=runtime.exporter.content_type)
