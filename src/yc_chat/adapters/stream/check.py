"""The start-up check of a Stream configuration: the address answers, the credentials pass.

`serve` runs it before anything starts, so a wrong address or secret is one line at start
rather than a process that listens and fails every request. A provider that is still
starting (connection refused, 5xx, 429) is asked again until `wait_seconds` have passed;
an answer that refuses the credentials, or is not Stream's, ends the check at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import aiohttp
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException

from yc_chat.adapters.stream.client import open_client
from yc_chat.adapters.stream.config import StreamConfig

_RETRY_PAUSE = 0.5
_CREDENTIAL_STATUSES = frozenset({401, 403})
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


async def check_stream(config: StreamConfig, *, wait_seconds: float) -> str | None:
    """None when Stream answers GetApp with these credentials; else why not, in one line."""
    url = config.effective_base_url
    deadline = time.monotonic() + max(0.0, wait_seconds)
    client = await open_client(config)
    try:
        while True:
            outcome, final = await _attempt(client, url)
            if outcome is None or final or time.monotonic() + _RETRY_PAUSE > deadline:
                break
            await asyncio.sleep(_RETRY_PAUSE)
    finally:
        await client.close()
    if outcome is not None and not final and wait_seconds > 0:
        outcome += f" (retried for {wait_seconds:g} s; --check-timeout changes that)"
    return outcome


async def _attempt(client: StreamChatAsync, url: str) -> tuple[str | None, bool]:
    """(what is wrong or None, whether asking again cannot change it)."""
    try:
        response = await client.get_app_settings()
    except StreamAPIException as exc:
        status = exc.status_code
        if status in _CREDENTIAL_STATUSES:
            return (
                f"Stream at {url} refused STREAM_API_KEY/STREAM_API_SECRET (HTTP {status}): "
                "check both against the app in Stream's dashboard",
                True,
            )
        if status in _TRANSIENT_STATUSES or status >= 500:
            return f"Stream at {url} is unavailable (HTTP {status})", False
        if not exc.json_response or status < 400:
            return _not_stream(url), True
        return f"Stream at {url} refused the check (HTTP {status}, GetApp)", True
    except (TimeoutError, aiohttp.ClientError):
        return f"Stream at {url} could not be reached (STREAM_BASE_URL)", False
    if not isinstance(response.get("app"), Mapping):
        return _not_stream(url), True
    return None, True


def _not_stream(url: str) -> str:
    return f"{url} answered, but not as Stream's API does: check STREAM_BASE_URL"
