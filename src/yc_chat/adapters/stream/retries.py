"""One Stream call with its retries: capped exponential backoff with jitter, within the
request's deadline (adapters/deadline.py).

Reads and idempotent writes are retried after transient failures; calls that post a
message only when Stream certainly did not act on them (no connection, or rate limited).
A retry that could not finish before the deadline is not started: answering at once (503
with Retry-After) beats answering too late.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from stream_chat.base.exceptions import StreamAPIException

from yc_chat.adapters import deadline
from yc_chat.adapters.stream import failures
from yc_chat.adapters.stream.client import last_headers, reset_last_headers
from yc_chat.adapters.stream.config import StreamConfig

LOG = logging.getLogger("yc_chat.adapters.stream.provider")
T = TypeVar("T")


async def call(
    operation: str,
    send: Callable[[], Awaitable[T]],
    *,
    config: StreamConfig,
    idempotent: bool,
    attempts: int | None,
    sleep: Callable[[float], Awaitable[None]],
    rng: random.Random,
    now: Callable[[], datetime],
) -> T:
    """`send()`'s result; the domain error of its last failure when retries are over."""
    policy = config.retry
    limit = attempts if attempts is not None else policy.attempts
    loop = asyncio.get_running_loop()
    attempt = 0
    while True:
        attempt += 1
        reset_last_headers()
        cause: BaseException
        # Each attempt gets the configured timeout, cut to what the request has left
        # (DeadlineExceeded here when nothing is left: the call is not even sent).
        budget = deadline.attempt_timeout(config.timeout)
        started = loop.time()
        try:
            async with asyncio.timeout(budget):
                return await send()
        except StreamAPIException as exc:
            cause = exc
            failure = failures.from_api_error(operation, exc, last_headers(), now())
        except failures.TRANSPORT_ERRORS as exc:
            cause = exc
            failure = failures.from_transport_error(operation, exc)
        except failures.UNREADABLE_ERRORS as exc:
            cause = exc
            failure = failures.from_unreadable(operation, exc)
        retryable = failure.transient and (idempotent or failure.not_executed)
        pause = failure.wait if failure.wait is not None else policy.backoff(attempt, rng)
        in_time = deadline.retry_fits(pause, loop.time() - started)
        if not retryable or attempt >= limit or pause > policy.max_rate_limit_wait or not in_time:
            LOG.warning(
                "stream call failed: operation=%s attempt=%d error=%s%s",
                operation,
                attempt,
                failure.error.code,
                "" if in_time else " (no time left for a retry)",
            )
            raise failure.error from cause
        LOG.info(
            "stream call failed, retrying: operation=%s attempt=%d pause=%.2fs",
            operation,
            attempt,
            pause,
        )
        await sleep(pause)
