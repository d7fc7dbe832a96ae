"""GET /metrics: counters, durations and inbox figures in Prometheus text format."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import Controller, Request, Response, get

from yc_chat.domain.metrics import Gauge
from yc_chat.entrypoints.http.deps import runtime_of
from yc_chat.entrypoints.http.middleware import OPT_PUBLIC
from yc_chat.ports import EventInbox

logger = logging.getLogger("yc_chat.http")


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
    """For Prometheus scrapes (no authentication: counts only, no ids or content).

    Left out of the OpenAPI document: it is an operator's endpoint in Prometheus' format,
    not part of the clients' JSON API.
    """

    path = "/metrics"
    opt = {OPT_PUBLIC: True}  # noqa: RUF012 - Litestar reads this class attribute as-is
    include_in_schema = False

    @get("/", operation_id="metrics", summary="Prometheus metrics")
    async def metrics(self, request: Request[Any, Any, Any]) -> Response[str]:
        """The text exposition of every series."""
        runtime = runtime_of(request)
        gauges = await inbox_gauges(
            runtime.ports.inbox, runtime.settings.http.readiness_timeout_seconds
        )
        text = runtime.exporter.render(gauges)
        return Response(text, media_type=runtime.exporter.content_type)
