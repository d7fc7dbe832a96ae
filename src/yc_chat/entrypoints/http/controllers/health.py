"""Liveness and readiness."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import Controller, Request, Response, get

from yc_chat.entrypoints.http.deps import error_docs, runtime_of
from yc_chat.entrypoints.http.errors import error_response
from yc_chat.entrypoints.http.keys import OPT_PUBLIC
from yc_chat.entrypoints.http.schemas import HealthResponse, ReadyResponse
from yc_chat.entrypoints.runtime import Probe

logger = logging.getLogger("yc_chat.health")


async def _check(name: str, probe: Probe, limit: float) -> str | None:
    """None when the probe answered in time, else the name of what failed."""
    try:
        await asyncio.wait_for(probe(), timeout=limit)
    except Exception as exc:
        # The exception text may carry a connection URL with credentials: log its type only.
        logger.warning(
            "readiness probe failed", extra={"probe": name, "error_type": type(exc).__name__}
        )
        return name
    return None


class HealthController(Controller):
    """Process and dependency health, for orchestrators (no authentication)."""

    path = "/"
    tags = ("health",)
    opt = {OPT_PUBLIC: True}  # noqa: RUF012 - Litestar reads this class attribute as-is

    @get(
        "/healthz",
        operation_id="healthz",
        summary="The process is up",
        response_description="The process is serving requests",
    )
    async def healthz(self) -> HealthResponse:
        """Always ok while the process serves requests."""
        return HealthResponse()

    @get(
        "/readyz",
        operation_id="readyz",
        response_description="Every store and the chat provider answered",
        summary="Stores and chat provider are reachable",
        responses=error_docs(503),
    )
    async def readyz(self, request: Request[Any, Any, Any]) -> Response[ReadyResponse]:
        # The 503 body (ErrorBody) is documented by error_docs; a 200 is always ReadyResponse.
        """Ping every store and the chat provider, concurrently, each with a timeout."""
        runtime = runtime_of(request)
        names = list(runtime.probes)
        limit = runtime.settings.http.readiness_timeout_seconds
        failed = [
            name
            for name in await asyncio.gather(*(_check(n, runtime.probes[n], limit) for n in names))
            if name is not None
        ]
        if failed:
            return error_response(
                503,
                code="not_ready",
                message="Some dependencies are unreachable",
                details=failed,
                headers={"Retry-After": "5"},
            )  # type: ignore[return-value]
        return Response(ReadyResponse(status="ready", checks=dict.fromkeys(names, "ok")))
