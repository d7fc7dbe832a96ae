"""Shared by the stores: failures as the domain's 503, text PostgreSQL can hold, prefix ranges."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Collection, Coroutine
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import asyncpg
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from yc_chat.adapters import deadline
from yc_chat.domain.errors import ProviderUnavailable

_logger = logging.getLogger("yc_chat.postgres")

_P = ParamSpec("_P")
_R = TypeVar("_R")

STORE_UNAVAILABLE_MESSAGE = "The data store is unavailable, try again shortly"
# Wrapped by SQLAlchemy as DBAPIError subclasses: the connection or the server went away;
# asyncpg's own, from the hot reads that run on it directly (member_reads.py).
_TRANSIENT = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
)
_ASYNCPG_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)
_MAX_CODE_POINT = 0x10FFFF


def unavailable(exc: BaseException) -> ProviderUnavailable:
    """The domain error for a database failure; logs its type (never the URL or the SQL's
    parameters, which may hold secrets or message text)."""
    if isinstance(exc, (*_TRANSIENT, OSError)):
        _logger.warning("PostgreSQL unavailable: %s", type(exc).__name__)
    else:
        # A rejected statement or a server-side error: a 503 for the caller, loud in the log.
        original = getattr(exc, "orig", None)
        detail = type(original).__name__ if original is not None else type(exc).__name__
        _logger.error("PostgreSQL operation failed: %s", detail)
    return ProviderUnavailable(STORE_UNAVAILABLE_MESSAGE)


def store_errors(
    method: Callable[_P, Coroutine[Any, Any, _R]],
) -> Callable[_P, Coroutine[Any, Any, _R]]:
    """Turn any database or connection error escaping `method` into ProviderUnavailable.

    Inside a request's budget (adapters/deadline.py) the method gets what is left of it,
    and does not start once it is spent.
    """

    @functools.wraps(method)
    async def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        left = deadline.store_budget()
        try:
            async with asyncio.timeout(None if left is None else deadline.attempt_timeout(left)):
                return await method(*args, **kwargs)
        except (sa_exc.SQLAlchemyError, *_ASYNCPG_ERRORS, OSError) as exc:  # TimeoutError too
            raise unavailable(exc) from exc

    return guarded


def storable(text: object) -> bool:
    """Whether `text` is a string PostgreSQL's `text` can hold: UTF-8 encodable, no NUL.

    Values that are not cannot be stored, so a lookup of one finds nothing without asking.
    """
    if not isinstance(text, str) or "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_all(values: Collection[object]) -> list[str]:
    """The distinct storable strings among `values`, in a stable (sorted) order."""
    return sorted({v for v in values if storable(v)})  # type: ignore[misc]


def as_key(text: str) -> str:
    """A storable form of a claim or lock key: itself, or a hex spelling of what is not.

    Keys are built from ids the provider sent; one PostgreSQL cannot hold still gets a
    distinct row instead of a failed statement.
    """
    if storable(text):
        return text
    return "\x01hex:" + text.encode("utf-8", "surrogatepass").hex()


def _successor(ch: str) -> str | None:
    code = ord(ch) + 1
    if 0xD800 <= code <= 0xDFFF:
        code = 0xE000  # surrogates are not text
    return chr(code) if code <= _MAX_CODE_POINT else None


def prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """The range of strings starting with `prefix`, in code-point order: [low, high).

    They are exactly those at or after `prefix` and before it with its last character
    moved one up, so a btree on a `COLLATE "C"` column answers a prefix as a range scan,
    with no LIKE pattern (and no escaping), and the bounds are plain parameters a prepared
    plan still uses. None: no upper bound (the prefix is all U+10FFFF).
    """
    head = prefix
    while head:
        successor = _successor(head[-1])
        if successor is not None:
            return prefix, head[:-1] + successor
        head = head[:-1]  # ends with the last code point: no upper bound from it
    return prefix, None


def in_range(column: Any, low: Any, high: Any | None) -> sa.ColumnElement[bool]:
    """`low <= column < high` (no upper bound when `high` is None)."""
    condition: sa.ColumnElement[bool] = column >= low
    return condition if high is None else sa.and_(condition, column < high)


def aware(moment: datetime) -> datetime:
    """`moment`, refused if naive: `timestamptz` would read it in the session's zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times stored in PostgreSQL must carry a UTC offset")
    return moment
