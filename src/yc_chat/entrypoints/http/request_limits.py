"""Request bodies, bounded: framing, size counted as received, time to arrive, disconnects.

Runs before authentication, so an oversized body is a 413 before it is a 401, whoever
sends it. The body is read here, once, up to the route's limit, and handed on whole:

- `Content-Length` together with `Transfer-Encoding` is a 400 (and the connection closes):
  the two framings disagree, which is how requests are smuggled past proxies;
- the limit counts the bytes that actually arrive, whatever length was declared;
- a body that has not fully arrived `read_timeout` seconds after the request started is a
  408 (and the connection closes), so slow senders cannot hold connections and memory;
- a client that goes away mid-body is one INFO line, without a traceback: nothing is left
  to answer, so nothing runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from yc_chat.domain.errors import ChatError, InvalidInput, PayloadTooLarge
from yc_chat.entrypoints.http.middleware import (
    BODY_LIMIT_WEBHOOK,
    OPT_BODY_LIMIT,
    STATE_REQUEST_ID,
    STATE_STARTED,
    header,
    state_of,
)

logger = logging.getLogger("yc_chat.http")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_READ_TIMEOUT = 15.0


class RequestTimeout(ChatError):
    """408: the request did not arrive in time."""

    status = 408
    default_code = "request_timeout"
    default_message = "The request did not arrive in time"


class _Disconnected(Exception):
    """The client went away before its body was complete."""


class RequestLimitsMiddleware:
    """Framing check, body size as received (413), body arrival deadline (408)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default_limit: int,
        webhook_limit: int,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        self.app = app
        self._default = default_limit
        self._webhook = webhook_limit
        self._read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        length = header(scope, b"content-length")
        if length is not None and header(scope, b"transfer-encoding") is not None:
            await _refuse(
                send,
                InvalidInput(
                    "Content-Length and Transfer-Encoding must not both be sent",
                    code="ambiguous_length",
                ),
            )
            return
        is_webhook = scope["route_handler"].opt.get(OPT_BODY_LIMIT) == BODY_LIMIT_WEBHOOK
        limit = self._webhook if is_webhook else self._default
        if length is not None and length.strip().isdigit() and int(length) > limit:
            raise _too_large(limit)
        started = state_of(scope).get(STATE_STARTED, time.perf_counter())
        remaining = max(0.0, self._read_timeout - (time.perf_counter() - started))
        try:
            async with asyncio.timeout(remaining):
                body = await _read_body(receive, limit)
        except TimeoutError:
            logger.info(
                "request body too slow, connection closed",
                extra={"request_id": state_of(scope).get(STATE_REQUEST_ID)},
            )
            await _refuse(
                send,
                RequestTimeout(f"The request body did not arrive within {self._read_timeout:g} s"),
            )
            return
        except _Disconnected:
            logger.info(
                "client disconnected before its request was complete",
                extra={
                    "request_id": state_of(scope).get(STATE_REQUEST_ID),
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                },
            )
            return
        whole: ReceiveMessage = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay(whole, receive), send)


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, counting the bytes received; 413 as soon as they pass `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Disconnected
        body = message.get("body", b"")
        size += len(body)
        if size > limit:
            raise _too_large(limit)
        chunks.append(body)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _refuse(send: Send, error: ChatError) -> None:
    """Answer with the contract's error body and close the connection: what remains of the
    request on it cannot be trusted to be framed as the client meant."""
    body = json.dumps({"error": error.message, "code": error.code}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is over the {limit // 1024} KiB limit")


def _replay(first: ReceiveMessage, receive: Receive) -> Receive:
    pending = [first]

    async def replay() -> ReceiveMessage:
        if pending:
            return pending.pop()
        return await receive()

    return replay
