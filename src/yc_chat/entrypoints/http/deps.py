"""What handlers receive: the caller, the service, the token rate-limit guard, error docs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import attrs
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import Dependency
from litestar.handlers import BaseRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import SkipValidationMarker

from yc_chat.adapters.metrics import Gauge, PrometheusMetrics
from yc_chat.domain.errors import Unauthenticated
from yc_chat.domain.model import UserId
from yc_chat.domain.service import ChatService
from yc_chat.domain.usecases import RecordChatEvent
from yc_chat.entrypoints.http.middleware import STATE_CLIENT, state_of
from yc_chat.entrypoints.http.ratelimit import TokenRateLimiter
from yc_chat.entrypoints.http.schemas import ErrorBody

Probe = Callable[[], Awaitable[None]]
# Injected as-is: without the SkipValidation marker Litestar would try to convert (and so
# introspect) the attrs class on every request.
Service = Annotated[ChatService, Dependency(kind="named"), SkipValidationMarker()]
Caller = Annotated[UserId, Dependency(kind="named")]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@attrs.frozen(kw_only=True)
class HttpRuntime:
    """Everything handlers and guards need besides the service, kept in `app.state`."""

    service: ChatService
    token_limiter: TokenRateLimiter | None
    webhook_secret: bytes | None = attrs.field(repr=False)
    probes: Mapping[str, Probe]
    readiness_timeout: float
    record_event: RecordChatEvent
    # Starts the in-process worker's next pass now (a no-op when no worker runs here).
    wake_worker: Callable[[], None]
    metrics: PrometheusMetrics
    # Scrape-time figures beyond the counters (inbox size by state).
    gauges: Callable[[], Awaitable[list[Gauge]]]


STATE_KEY = "yc_runtime"


def runtime_of(connection: ASGIConnection[Any, Any, Any, Any]) -> HttpRuntime:
    """The app's HttpRuntime."""
    runtime: HttpRuntime = connection.app.state[STATE_KEY]
    return runtime


def provide_service(request: Request[Any, Any, Any]) -> ChatService:
    """The ChatService of this app."""
    return runtime_of(request).service


def provide_caller(request: Request[Any, Any, Any]) -> UserId:
    """The authenticated caller's user id (set by AuthMiddleware)."""
    caller = request.scope.get("user")
    if not isinstance(caller, str):
        # Only reachable if a public route asks for a caller: a wiring bug, fail closed.
        raise Unauthenticated()
    return UserId(caller)


async def token_rate_limit(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: count an authenticated token request against the user's and address's budgets."""
    limiter = runtime_of(connection).token_limiter
    if limiter is None:
        return
    caller = connection.scope.get("user")
    if not isinstance(caller, str):
        return
    await limiter.check(user_id=caller, address=state_of(connection.scope).get(STATE_CLIENT))


def epoch_ms(moment: datetime) -> int:
    """Unix epoch milliseconds of an aware datetime."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


_DESCRIPTIONS: Mapping[int, str] = {
    400: "Malformed JSON, wrong types, out-of-range values, or ids that are not members of "
    "the org (`not_org_member`, listed in `details`).",
    401: "Missing, malformed, expired or wrongly signed credentials.",
    403: "Authenticated, but not allowed.",
    404: "The referenced appointment, org, user or channel does not exist.",
    409: "Conflicts with the current state.",
    413: "The body is over the size limit.",
    429: "Rate limited; see the `Retry-After` header (seconds).",
    502: "The chat provider failed.",
    503: "The chat provider or a store is unreachable; see `Retry-After`.",
}


def error_docs(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for these error statuses, all carrying the error body."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=_DESCRIPTIONS[status], generate_examples=False
        )
        for status in statuses
    }


# Error statuses every authenticated route can return.
AUTHED = (400, 401, 503)
WRITES = (400, 401, 413, 502, 503)
