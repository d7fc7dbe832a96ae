"""What handlers receive: the caller, the service, the runtime and the worker's wake-up;
and the error statuses routes document."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import Dependency
from litestar.openapi import ResponseSpec
from litestar.params import SkipValidationMarker

from yc_chat.domain.errors import Unauthenticated
from yc_chat.domain.model import UserId
from yc_chat.domain.service import ChatService
from yc_chat.entrypoints.http.keys import STATE_RUNTIME
from yc_chat.entrypoints.http.schemas import ErrorBody
from yc_chat.entrypoints.runtime import Runtime

# Injected as-is: without the SkipValidation marker Litestar would try to convert (and so
# introspect) the attrs class on every request.
Service = Annotated[ChatService, Dependency(kind="named"), SkipValidationMarker()]
Caller = Annotated[UserId, Dependency(kind="named")]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def runtime_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Runtime:
    """The Runtime this app serves."""
    runtime: Runtime = connection.app.state[STATE_RUNTIME]
    return runtime


def provide_service(request: Request[Any, Any, Any]) -> ChatService:
    """The ChatService of this app."""
    return runtime_of(request).service


def provide_caller(request: Request[Any, Any, Any], service: Service) -> UserId:
    """The authenticated caller's user id (set by AuthMiddleware).

    It names `service` (unused) so Litestar resolves the two one after the other: it
    resolves independent dependencies concurrently, in an anyio task group, which costs a
    task group and two tasks on every request for two dict lookups.
    """
    caller = request.scope.get("user")
    if not isinstance(caller, str):
        # Only reachable if a public route asks for a caller: a wiring bug, fail closed.
        raise Unauthenticated()
    return UserId(caller)


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
