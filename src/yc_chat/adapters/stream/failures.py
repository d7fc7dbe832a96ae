"""What went wrong talking to Stream, whether a retry may help, and the domain error for it."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

import aiohttp
import attrs
from stream_chat.base.exceptions import StreamAPIException

from yc_chat.adapters.stream import mapping
from yc_chat.domain import errors

Headers = Mapping[str, str]
logger = logging.getLogger("yc_chat.stream")

DEFAULT_RETRY_AFTER: Final = 5
# Statuses that say "not now" rather than "never": retrying may succeed.
_TRANSIENT_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})


def header(headers: Headers | None, name: str) -> str | None:
    """A header's value, whatever the case of its name.

    The SDK copies aiohttp's case-insensitive headers into a plain dict, so
    `StreamResponse.rate_limit()` looks up `x-ratelimit-limit` in a dict keyed
    `X-Ratelimit-Limit` and always finds nothing; we look the names up ourselves.
    """
    if headers is None:
        return None
    direct = headers.get(name)
    if direct is not None:
        return direct
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _first_number(raw: str | None) -> float | None:
    # Stream has sent comma-separated repeats ("60, 60"); the first value is the one.
    if raw is None:
        return None
    for part in raw.split(","):
        try:
            value = float(part.strip())
        except ValueError:
            continue
        if math.isfinite(value):
            return value
    return None


@attrs.frozen(kw_only=True)
class RateLimit:
    """Stream's `X-RateLimit-*` headers of one response."""

    limit: int | None
    remaining: int | None
    reset: datetime | None

    @classmethod
    def from_headers(cls, headers: Headers | None) -> RateLimit:
        """Parse the headers (case-insensitively); missing or odd values become None."""
        limit = _first_number(header(headers, "X-RateLimit-Limit"))
        remaining = _first_number(header(headers, "X-RateLimit-Remaining"))
        reset = _first_number(header(headers, "X-RateLimit-Reset"))
        return cls(
            limit=int(limit) if limit is not None else None,
            remaining=int(remaining) if remaining is not None else None,
            reset=datetime.fromtimestamp(reset, UTC) if reset is not None else None,
        )


def retry_after_seconds(
    headers: Headers | None, now: datetime, *, rate_limited: bool = True
) -> float | None:
    """Seconds until Stream accepts calls again, from `Retry-After` or `X-RateLimit-Reset`.

    The reset time only says when to come back after a 429: on other answers it is just
    the end of the current rate-limit window.
    """
    raw = header(headers, "Retry-After")
    seconds = _first_number(raw)
    if seconds is None and raw:
        try:
            seconds = (parsedate_to_datetime(raw) - now).total_seconds()
        except (TypeError, ValueError):
            seconds = None
    if seconds is None and rate_limited:
        reset = RateLimit.from_headers(headers).reset
        seconds = (reset - now).total_seconds() if reset is not None else None
    return max(0.0, seconds) if seconds is not None else None


@attrs.frozen(kw_only=True)
class Failure:
    """One failed attempt, classified."""

    error: errors.ChatError
    # A retry may succeed (Stream overloaded, unreachable, slow).
    transient: bool
    # Stream certainly did not act on the request (never connected, or rate limited),
    # so even a call with side effects may be sent again.
    not_executed: bool
    # How long Stream asked us to wait, when it said so.
    wait: float | None = None


def _unavailable(message: str, wait: float | None) -> errors.ProviderUnavailable:
    retry_after = math.ceil(wait) if wait is not None else DEFAULT_RETRY_AFTER
    return errors.ProviderUnavailable(message, retry_after=retry_after)


def from_api_error(
    operation: str, exc: StreamAPIException, headers: Headers | None, now: datetime
) -> Failure:
    """Classify an error answer of Stream's API."""
    status = exc.status_code
    detail = exc.error_message if exc.json_response else f"HTTP {status}"
    if status in _TRANSIENT_STATUSES or status >= 500:
        wait = retry_after_seconds(headers, now, rate_limited=status == 429)
        # Stream's wording (say "Unable to serialize response content") is for the log:
        # what a client reads is the contract's own.
        logger.warning(
            "chat provider unavailable", extra={"operation": operation, "status": status}
        )
        return Failure(
            error=_unavailable(errors.ProviderUnavailable.default_message, wait),
            transient=True,
            not_executed=status == 429,
            wait=wait,
        )
    return Failure(
        error=mapping.domain_error(status, f"{operation}: {detail}"),
        transient=False,
        not_executed=False,
    )


def from_transport_error(operation: str, exc: BaseException) -> Failure:
    """Classify a timeout or connection failure (no answer from Stream)."""
    # Could not connect at all: the request never left, so it is safe to send again.
    not_sent = isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    kind = "timed out" if isinstance(exc, TimeoutError) else "could not be reached"
    return Failure(
        error=_unavailable(f"The chat provider {kind}, try again shortly", None),
        transient=True,
        not_executed=not_sent,
    )


def from_unreadable(operation: str, exc: ValueError) -> Failure:
    """An answer that is not the JSON Stream sends."""
    return Failure(
        error=errors.ProviderFailed("The chat provider sent an unreadable answer"),
        transient=False,
        not_executed=False,
    )


TRANSPORT_ERRORS: Final[tuple[type[BaseException], ...]] = (TimeoutError, aiohttp.ClientError)
UNREADABLE_ERRORS: Final[tuple[type[ValueError], ...]] = (
    json.JSONDecodeError,
    mapping.StreamDataError,
)
