"""What `/metrics` shows, for the HTTP app and for `yc-chat worker --metrics-port`.

The counters come from the runtime's exporter; the inbox size by state and the degraded
parts are read at scrape time. The worker serves them on a port of its own through a
minimal ASGI app (GET /metrics and /healthz), since it serves no HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from yc_chat.domain.metrics import Gauge
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.ports import EventInbox

logger = logging.getLogger("yc_chat.metrics")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


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


async def scrape(runtime: Runtime) -> str:
    """The whole `/metrics` body."""
    gauges = await inbox_gauges(
        runtime.ports.inbox, runtime.settings.http.readiness_timeout_seconds
    )
    # Parts with a fallback are asked on every scrape too: the metric must not wait for a
    # load balancer's /readyz to notice Redis went away.
    await runtime.check_degradable()
    return runtime.exporter.render(
        [
            *gauges,
            *runtime.readiness.gauges(runtime.degradable),
            *_store_gauges(runtime),
        ]
    )


def _store_gauges(runtime: Runtime) -> list[Gauge]:
    # The shared rate-limit store's own (Redis behind its circuit breaker: open or closed).
    gauge = getattr(runtime.rate_limits, "gauge", None)
    return [gauge()] if callable(gauge) else []


def metrics_app(runtime: Runtime) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app answering GET /metrics and GET /healthz, and 404 to anything else."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # served with lifespan="off": http only
            return
        path, method = scope["path"].rstrip("/") or "/", scope["method"]
        if method not in ("GET", "HEAD"):
            await _answer(send, 405, b'{"error":"Method not allowed","code":"method_not_allowed"}')
        elif path == "/metrics":
            text = await scrape(runtime)
            await _answer(send, 200, text.encode("utf-8"), runtime.exporter.content_type)
        elif path == "/healthz":
            await _answer(send, 200, json.dumps({"status": "ok"}).encode())
        else:
            await _answer(send, 404, b'{"error":"Not found","code":"not_found"}')

    return app


async def _answer(
    send: Send, status: int, body: bytes, content_type: str = "application/json"
) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class MetricsServer:
    """Uvicorn serving `app` on a bound socket, inside the running loop, until `stop()`.

    Signals stay with the caller: the worker's own handlers decide when to stop.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], sock: Any) -> None:
        import uvicorn

        class _Quiet(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        config = uvicorn.Config(
            app, loop="none", lifespan="off", log_config=None, access_log=False, server_header=False
        )
        self._server = _Quiet(config)
        self._sock = sock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve in the background; returns once listening."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        while not self._server.started:
            if self._task.done():
                await self._task  # raises what stopped it
                raise RuntimeError("the metrics server stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop serving and wait for it."""
        self._server.should_exit = True
        if self._task is not None:
            await self._task
