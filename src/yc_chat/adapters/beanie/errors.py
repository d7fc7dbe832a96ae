"""MongoDB failures become the domain's 503: one decorator on every store method."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import pymongo
from beanie import Document
from pymongo.errors import (
    ConnectionFailure,
    ExecutionTimeout,
    PyMongoError,
    WaitQueueTimeoutError,
    WTimeoutError,
)

from yc_chat.adapters import deadline
from yc_chat.domain.errors import ProviderUnavailable

_logger = logging.getLogger("yc_chat.mongo")

_P = ParamSpec("_P")
_R = TypeVar("_R")

STORE_UNAVAILABLE_MESSAGE = "The data store is unavailable, try again shortly"
# Failures of the connection or of time limits: the server is away or overloaded.
_TRANSIENT = (ConnectionFailure, ExecutionTimeout, WTimeoutError, WaitQueueTimeoutError)


def unavailable(exc: PyMongoError) -> ProviderUnavailable:
    """The domain error for a MongoDB failure; logs it (never the URI, which holds secrets)."""
    if isinstance(exc, _TRANSIENT):
        _logger.warning("MongoDB unavailable: %s: %s", type(exc).__name__, exc)
    else:
        # Not a connectivity problem (a rejected command, a server-side error): still a 503
        # for the caller, but loud in the log, since retrying may not help.
        _logger.error("MongoDB operation failed: %s: %s", type(exc).__name__, exc)
    return ProviderUnavailable(STORE_UNAVAILABLE_MESSAGE)


def store_errors(
    method: Callable[_P, Coroutine[Any, Any, _R]],
) -> Callable[_P, Coroutine[Any, Any, _R]]:
    """Turn any PyMongo error escaping `method` into ProviderUnavailable (503).

    Inside a request's budget, the method's operations get what is left of it as their
    timeout (PyMongo's client-side operation timeout, server selection included), and none
    starts once it is spent. A worker event's store calls keep the client's timeouts
    (socket and server selection, set inside the deadlines by bootstrap).
    """

    @functools.wraps(method)
    async def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        left = deadline.store_budget()
        try:
            if left is None:
                return await method(*args, **kwargs)
            with pymongo.timeout(deadline.attempt_timeout(left)):
                return await method(*args, **kwargs)
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    return guarded


async def ping(document: type[Document]) -> None:
    """Round-trip to the server holding `document`'s collection; ProviderUnavailable if none."""
    try:
        await document.get_pymongo_collection().database.command("ping")
    except PyMongoError as exc:
        raise unavailable(exc) from exc
