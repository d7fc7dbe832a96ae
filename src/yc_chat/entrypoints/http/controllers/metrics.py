"""GET /metrics: counters, durations and inbox figures in Prometheus text format."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from yc_chat.adapters.metrics import CONTENT_TYPE
from yc_chat.entrypoints.http.deps import runtime_of
from yc_chat.entrypoints.http.middleware import OPT_PUBLIC


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
        text = runtime.metrics.render(await runtime.gauges())
        return Response(text, media_type=CONTENT_TYPE)
