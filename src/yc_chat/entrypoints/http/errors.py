"""The one translator from failures to the contract's error body `{error, code, details?}`."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from yc_chat.domain.errors import (
    ChatError,
    FieldProblem,
    ProviderUnavailable,
    RateLimited,
)
from yc_chat.entrypoints.http.schemas import ErrorBody, FieldDetail, wire_name

logger = logging.getLogger("yc_chat.http")

# Framework exceptions by status: stable codes and messages that never echo the request.
_STATUS_CODES: Mapping[int, str] = {
    400: "invalid_input",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def _detail(item: FieldProblem | str) -> FieldDetail | str:
    if isinstance(item, FieldProblem):
        return FieldDetail(field=wire_name(item.field), message=item.message)
    return item


def _message(exc: ChatError) -> str:
    """The error's message, the field it starts with (if any) renamed to its wire name."""
    if exc.field is not None and exc.message.startswith(exc.field):
        return wire_name(exc.field) + exc.message[len(exc.field) :]
    return exc.message


def error_response(
    status: int,
    *,
    code: str,
    message: str,
    details: Sequence[FieldDetail | str] = (),
    headers: Mapping[str, str] | None = None,
) -> Response[ErrorBody]:
    """A response carrying the contract's error body."""
    body = ErrorBody(error=message, code=code, details=list(details) if details else None)
    return Response(body, status_code=status, headers=dict(headers or {}))


def chat_error_response(exc: ChatError) -> Response[ErrorBody]:
    """The response for a domain error: its status, code, message and details."""
    headers = {}
    if isinstance(exc, RateLimited | ProviderUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if exc.status >= 500:
        logger.warning("request failed", extra={"code": exc.code, "status": exc.status})
    return error_response(
        exc.status,
        code=exc.code,
        message=_message(exc),
        details=[_detail(item) for item in exc.details],
        headers=headers,
    )


# Litestar reports a missing required parameter only in its message, not in `extra`.
_MISSING_PARAMETER = re.compile(r"Missing required \w+ parameter '([A-Za-z0-9_-]{1,64})'")


def _validation_details(extra: Any, message: str) -> list[FieldDetail | str]:
    details: list[FieldDetail | str] = []
    missing = _MISSING_PARAMETER.search(message)
    if missing is not None:
        details.append(FieldDetail(field=missing.group(1), message="is required"))
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, Mapping):
                field = str(item.get("key") or item.get("source") or "request")
                details.append(FieldDetail(field=field, message=str(item.get("message", ""))))
    return details


def _handle_chat_error(_: Request[Any, Any, Any], exc: ChatError) -> Response[ErrorBody]:
    return chat_error_response(exc)


def _handle_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    status = exc.status_code
    if status >= 500:
        logger.error("framework error", exc_info=exc)
        return error_response(500, code="internal_error", message="Internal error")
    code = _STATUS_CODES.get(status, "http_" + str(status))
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in ("allow",)}
    if isinstance(exc, ValidationException):
        details = _validation_details(exc.extra, str(exc.detail))
        first = details[0] if details else None
        message = (
            f"{first.field}: {first.message}"
            if isinstance(first, FieldDetail)
            else "The request is not valid"
        )
        return error_response(400, code="invalid_input", message=message, details=details)
    return error_response(status, code=code, message=phrase, headers=headers)


def _handle_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    # The traceback goes to the log only; the client learns nothing about the internals.
    logger.error("unhandled error", exc_info=exc)
    return error_response(500, code="internal_error", message="Internal error")


def exception_handlers() -> ExceptionHandlersMap:
    """Handlers for every failure: domain errors, framework errors, anything else."""
    return {
        ChatError: _handle_chat_error,
        HTTPException: _handle_http_exception,
        Exception: _handle_unexpected,
    }
