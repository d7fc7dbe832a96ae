"""GET /metrics: counters, durations and inbox figures in Prometheus text format."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from yc_chat.entrypoints.http.deps import runtime_of
from yc_chat.entrypoints.http.keys import OPT_PUBLIC
from yc_chat.entrypoints.observability import scrape

# Prometheus' text exposition format, as documented; the exporter names the one it writes.
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


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
        return Response(await scrape(runtime), media_type=runtime.exporter.content_type)
