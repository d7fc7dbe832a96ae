"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get

from yc_chat.entrypoints.http.deps import error_docs, runtime_of
from yc_chat.entrypoints.http.errors import error_response
from yc_chat.entrypoints.http.keys import OPT_FIXED_ANSWER, OPT_PUBLIC
from yc_chat.entrypoints.http.schemas import HealthResponse, ReadyResponse


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
        # Answered by the pipeline's first step (the handler below documents it and answers
        # only requests that step passes on): liveness needs no auth, limits or deadline.
        opt={OPT_FIXED_ANSWER: msgspec.json.encode(HealthResponse())},
    )
    async def healthz(self) -> HealthResponse:
        """Always ok while the process serves requests."""
        return HealthResponse()

    @get(
        "/readyz",
        operation_id="readyz",
        response_description="Every store and the chat provider answered; `degraded` when a "
        "part with a working fallback (Redis) did not: keep sending traffic",
        summary="Stores and chat provider are reachable",
        responses=error_docs(503),
    )
    async def readyz(self, request: Request[Any, Any, Any]) -> Response[ReadyResponse]:
        # The 503 body (ErrorBody) is documented by error_docs; a 200 is always ReadyResponse.
        """Ping every store, the chat provider and Redis, concurrently, each with a timeout."""
        report = await runtime_of(request).check_readiness()
        if report.status == "unready":
            return error_response(
                503,
                code="not_ready",
                message="Some dependencies are unreachable",
                details=report.failed,
                headers={"Retry-After": "5"},
            )  # type: ignore[return-value]
        return Response(
            ReadyResponse(
                status="degraded" if report.status == "degraded" else "ready",
                checks=dict(report.checks),
                degraded=report.degraded,
            )
        )
