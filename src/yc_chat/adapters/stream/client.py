"""The one `StreamChatAsync` per process, built around the SDK's pitfalls.

- The client opens its aiohttp session in `__init__`, binding it to the running event
  loop: it must be built inside the loop that uses it, and closed (else the session leaks).
- It reads `STREAM_CHAT_TIMEOUT` / `STREAM_CHAT_URL` from the environment behind our back:
  our configuration wins, set after construction.
- Errors carry no headers, and `StreamResponse.rate_limit()` never finds them: a request
  trace keeps the last response's headers per task, so a 429's reset time can be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from types import SimpleNamespace

import aiohttp
from stream_chat.async_chat.client import StreamChatAsync

from yc_chat.adapters.stream.config import StreamConfig

_LAST_RESPONSE_HEADERS: ContextVar[Mapping[str, str] | None] = ContextVar(
    "stream_last_response_headers", default=None
)


def reset_last_headers() -> None:
    """Forget the headers of an earlier response of this task."""
    _LAST_RESPONSE_HEADERS.set(None)


def last_headers() -> Mapping[str, str] | None:
    """Headers of this task's last Stream response (errors included), if any."""
    return _LAST_RESPONSE_HEADERS.get()


async def _remember_headers(
    _session: aiohttp.ClientSession,
    _context: SimpleNamespace,
    params: aiohttp.TraceRequestEndParams,
) -> None:
    # Trace callbacks run in the requesting task's context, so the caller sees this value.
    _LAST_RESPONSE_HEADERS.set(params.response.headers)


async def open_client(config: StreamConfig) -> StreamChatAsync:
    """A client bound to the running loop, on a session that records response headers."""
    base_url = config.effective_base_url
    client = StreamChatAsync(
        config.api_key, config.api_secret, timeout=config.timeout, base_url=base_url
    )
    # Replace the session the constructor opened (closing it, so it does not leak) by one
    # with our trace; `set_http_session` is the SDK's public hook for this.
    await client.session.close()
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_remember_headers)
    client.set_http_session(
        aiohttp.ClientSession(
            base_url=base_url,
            connector=aiohttp.TCPConnector(keepalive_timeout=59.0),
            trace_configs=[trace],
        )
    )
    client.timeout = config.timeout
    client.base_url = base_url
    return client
