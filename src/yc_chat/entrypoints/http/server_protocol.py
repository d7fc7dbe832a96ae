"""Uvicorn's httptools protocol with a deadline for the request head (REQUEST_READ_TIMEOUT).

Uvicorn closes idle keep-alive connections, but a client that opens a connection and
sends its header block a byte at a time is waited for forever. Here every request head
(from the connection's start, or from the request's first byte) must be complete within
the read timeout, or the client gets a 408 and the connection closes. The body's deadline
is the app's (http/pipeline.py), where the route's size limit is known.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from yc_chat.entrypoints.timers import Alarm, alarms_of

logger = logging.getLogger("yc_chat.http")

_TIMEOUT_BODY = b'{"error": "The request did not arrive in time", "code": "request_timeout"}'
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _TIMEOUT_BODY
)


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol whose request heads must arrive within `read_timeout` seconds."""

    read_timeout: float = 15.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: Alarm | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_deadline is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        # On the shared timers (timers.py): a loop timer per request head cost more.
        alarms = alarms_of(self.loop)
        self._head_deadline = alarms.call_at(
            self.loop.time() + self.read_timeout, self._head_too_slow
        )

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.transport.is_closing():
            return
        # Between requests uvicorn's keep-alive timer decides; a head begun and not
        # finished is ours to end.
        logger.info("request head too slow, connection closed", extra={"client": self.client})
        self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def timed_protocol(read_timeout: float) -> type[TimedHttpToolsProtocol]:
    """The protocol class uvicorn should use, with this read timeout."""
    return type("TimedHttpTools", (TimedHttpToolsProtocol,), {"read_timeout": read_timeout})
