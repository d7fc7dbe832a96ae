"""The Litestar application factory. Serves a built Runtime; does no work at import time."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.types import Message, Scope

from yc_chat.entrypoints.background import background_loops
from yc_chat.entrypoints.http.auth import build_authenticator
from yc_chat.entrypoints.http.controllers.channels import ChannelController
from yc_chat.entrypoints.http.controllers.devices import DeviceController
from yc_chat.entrypoints.http.controllers.health import HealthController
from yc_chat.entrypoints.http.controllers.metrics import MetricsController
from yc_chat.entrypoints.http.controllers.orgs import OrgController
from yc_chat.entrypoints.http.controllers.tokens import TokenController
from yc_chat.entrypoints.http.controllers.webhooks import WebhookController
from yc_chat.entrypoints.http.deps import provide_caller, provide_service
from yc_chat.entrypoints.http.errors import exception_handlers
from yc_chat.entrypoints.http.keys import (
    STATE_CLIENT,
    STATE_REQUEST_ID,
    STATE_RUNTIME,
    STATE_STARTED,
    STATE_WAKE_WORKER,
    state_of,
)
from yc_chat.entrypoints.http.openapi import (
    BEARER_SCHEME,
    OPENAPI_PATH,
    docs_assets_router,
    openapi_config,
)
from yc_chat.entrypoints.http.pipeline import middleware_chain, new_request_id
from yc_chat.entrypoints.logs import log_info
from yc_chat.entrypoints.runtime import Runtime

logger = logging.getLogger("yc_chat.http")
access_logger = logging.getLogger("yc_chat.access")


async def _before_send(message: Message, scope: Scope) -> None:
    """Echo X-Request-ID on every response (404s included) and write the access log line.

    Async on purpose: Litestar runs a sync hook in a worker thread, a thread hop on every
    response.
    """
    if message["type"] != "http.response.start":
        return
    state = state_of(scope)
    request_id = state.get(STATE_REQUEST_ID)
    if request_id is None:
        request_id = state[STATE_REQUEST_ID] = new_request_id(None)
    # The raw header list, not Litestar's MutableScopeHeaders: the same replacement without
    # building a headers object per response.
    message["headers"] = [
        *(pair for pair in message.get("headers", ()) if pair[0].lower() != b"x-request-id"),
        (b"x-request-id", request_id.encode("latin-1")),
    ]
    if not access_logger.isEnabledFor(logging.INFO):
        return
    started = state.get(STATE_STARTED)
    # Path only: query strings carry search terms and cursors, never worth logging.
    log_info(
        access_logger,
        "request",
        {
            "request_id": request_id,
            "method": scope.get("method"),
            "path": scope.get("path"),
            "status": message["status"],
            "duration_ms": (
                round((time.perf_counter() - started) * 1000, 2) if started is not None else None
            ),
            "client": state.get(STATE_CLIENT),
            "user_id": scope.get("user"),
        },
    )


def _nothing() -> None:
    return None


def create_app(runtime: Runtime) -> Litestar:
    """Build the HTTP app serving a built Runtime (see `entrypoints.bootstrap`).

    Everything comes from `runtime`: the service, the settings (`settings.http`), the
    readiness probes, the token budget's stores, the metrics exporter and what to close on
    shutdown. Webhook events are recorded by the service into its inbox and, unless
    `settings.worker.enabled` is false, handled by a worker the app runs while it is up;
    the lifecycle scheduler runs when `settings.http.activation_interval_seconds` is
    positive.
    """
    settings = runtime.settings.http
    auth = build_authenticator(settings.auth)
    loops = background_loops(runtime)
    worker = runtime.settings.worker

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        for loop in loops:
            loop.start()
        try:
            yield
        finally:
            for loop in loops:
                await loop.stop(worker.stop_grace_seconds)
            for close in (auth.close, *runtime.on_shutdown):
                try:
                    await close()
                except Exception:
                    logger.exception("closing a resource failed")

    api = Router(
        path="/",
        route_handlers=[TokenController, ChannelController, OrgController, DeviceController],
        security=[{BEARER_SCHEME: []}],
    )
    cors = (
        CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["Retry-After", "X-Request-ID"],
            max_age=600,
        )
        if settings.cors_origins
        else None
    )
    return Litestar(
        route_handlers=[
            api,
            WebhookController,
            HealthController,
            MetricsController,
            docs_assets_router(),
        ],
        dependencies={
            "service": Provide(provide_service, sync_to_thread=False),
            "caller": Provide(provide_caller, sync_to_thread=False),
        },
        middleware=middleware_chain(runtime, auth, public_prefixes=[OPENAPI_PATH]),
        exception_handlers=exception_handlers(),
        before_send=[_before_send],
        lifespan=[lifespan],
        state=State(
            {
                STATE_RUNTIME: runtime,
                STATE_WAKE_WORKER: loops[0].wake if worker.enabled else _nothing,
            }
        ),
        cors_config=cors,
        openapi_config=openapi_config(),
        request_max_body_size=max(settings.max_body_bytes, settings.webhook_max_body_bytes),
        logging_config=None,
        debug=False,
    )


__all__ = ["create_app"]
