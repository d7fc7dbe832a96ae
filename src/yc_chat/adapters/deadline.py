"""One deadline per request (or per worker event): the budget every dependency call draws from.

An entrypoint opens a budget with `bounded(seconds)`; it lives in a context variable, so
every call made while handling that request (in its task and the tasks it spawns) sees it.
Adapters ask `attempt_timeout` how long one call may take, and `allows` whether a retry
after a pause could still finish in time: a retry that cannot is not started, and the
caller answers at once with what went wrong. Behind them, the budget itself cancels the
block when it runs out (a store call stuck in a socket, say) and raises DeadlineExceeded,
so no answer ever waits longer than the deadline and a small slack.

Cancelling a request midway is like a crash at that point, which every operation already
survives: they are idempotent on retry. A worker event's budget does not cancel (`cut=False`):
a push handed to its provider must still be confirmed, or it would be sent again; there
the budget bounds the dependency calls only, and each call's own timeout the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Final, ParamSpec, Protocol, TypeVar

from yc_chat.domain.errors import DeadlineExceeded

# Absolute expiry on the event loop's clock (what asyncio.timeout_at counts on).
_expiry: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "yc_chat_deadline", default=None
)
# Whether the current budget is a request's (cut when spent), whose store calls get what is
# left as their timeout too; a worker event's store calls keep the client's own timeouts.
_cutting: contextvars.ContextVar[bool] = contextvars.ContextVar("yc_chat_cut", default=False)
# The backstop fires this much after the budget: adapters, which stop at the budget
# itself, get to fail first with their own, more precise error.
BACKSTOP_SLACK: Final = 0.05
# A retry estimated to take less than this is estimated at this (a fast failure says
# little about how long a success takes).
MIN_ATTEMPT_SECONDS: Final = 0.05


def _now() -> float:
    return asyncio.get_running_loop().time()


def remaining() -> float | None:
    """Seconds left in the current budget; None when no budget is open."""
    expiry = _expiry.get()
    return None if expiry is None else expiry - _now()


def store_budget() -> float | None:
    """What a store call may take: what a request has left (None: the client's timeouts)."""
    return remaining() if _cutting.get() else None


def allows(seconds: float) -> bool:
    """Whether something taking `seconds` from now would finish inside the budget."""
    left = remaining()
    return left is None or seconds <= left


def attempt_timeout(limit: float) -> float:
    """How long one call may take: `limit`, cut to what the budget has left.

    Raises DeadlineExceeded when nothing is left: a call that cannot finish is not started.
    """
    left = remaining()
    if left is None:
        return limit
    if left <= 0:
        raise DeadlineExceeded()
    return min(limit, left)


def retry_fits(pause: float, last_attempt: float) -> bool:
    """Whether a retry after `pause`, taking about as long as the last attempt, fits."""
    return allows(pause + max(last_attempt, MIN_ATTEMPT_SECONDS))


class Cut(Protocol):
    """What cancels a block at a moment: `asyncio.timeout_at`'s Timeout, or the like."""

    async def __aenter__(self) -> object: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None: ...

    def expired(self) -> bool:
        """Whether the moment came while the block ran."""
        ...


# Makes the Cut for a moment on the event loop's clock.
CutAt = Callable[[float], Cut]


def bounded(
    seconds: float, *, cut: bool = True, cut_at: CutAt = asyncio.timeout_at
) -> AbstractAsyncContextManager[None]:
    """Run the block within `seconds` (or the enclosing budget, if that ends sooner).

    With `cut`, raises DeadlineExceeded (503, Retry-After) if the block is still running at
    the end (`cut_at` cancels it); without, only the calls that consult the budget are
    bounded by it.
    """
    return _Budget(seconds, cut, cut_at)


class _Budget:
    """`bounded`'s block. A class, not an @asynccontextmanager generator: every request
    opens one, and the generator's machinery cost a third of it."""

    __slots__ = ("_backstop", "_cut", "_cut_at", "_cutting", "_expiry", "_seconds")

    def __init__(self, seconds: float, cut: bool, cut_at: CutAt) -> None:
        self._seconds = seconds
        self._cut = cut
        self._cut_at = cut_at
        self._backstop: Cut | None = None

    async def __aenter__(self) -> None:
        expiry = _now() + self._seconds
        outer = _expiry.get()
        if outer is not None:
            expiry = min(expiry, outer)
        self._expiry = _expiry.set(expiry)
        self._cutting = _cutting.set(self._cut)
        if self._cut:
            self._backstop = self._cut_at(expiry + BACKSTOP_SLACK)
            await self._backstop.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._backstop is not None:
                try:
                    await self._backstop.__aexit__(exc_type, exc, traceback)
                except TimeoutError:
                    if self._backstop.expired():
                        raise DeadlineExceeded() from None
                    raise
        finally:
            _cutting.reset(self._cutting)
            _expiry.reset(self._expiry)


@contextlib.contextmanager
def unbounded() -> Iterator[None]:
    """Calls in the block ignore the budget: bookkeeping that must follow an effect already
    made (confirming a push the provider took) is not refused for lack of time."""
    token = _expiry.set(None)
    try:
        yield
    finally:
        _expiry.reset(token)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def unbounded_call(
    method: Callable[_P, Coroutine[Any, Any, _R]],
) -> Callable[_P, Coroutine[Any, Any, _R]]:
    """`method` runs `unbounded()`: for calls that settle an effect already made."""

    @functools.wraps(method)
    async def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with unbounded():
            return await method(*args, **kwargs)

    return call


class ContextDeadlines:
    """The Deadlines port: each `bounded()` block gets `seconds` (per worker event, say);
    `cut`: whether a block still running at its deadline is cancelled (requests) or not,
    by what `cut_at` makes (the server passes its shared timers: one loop timer for every
    request's deadline instead of one each)."""

    def __init__(
        self, seconds: float, *, cut: bool = True, cut_at: CutAt = asyncio.timeout_at
    ) -> None:
        self.seconds = seconds
        self.cut = cut
        self._cut_at = cut_at

    @classmethod
    def for_events(cls, seconds: float, lease_seconds: float) -> ContextDeadlines:
        """A worker's: at most half the lease, so a live worker's handling ends before
        another may take the event; not cut when spent, so a push its provider took is
        still confirmed."""
        return cls(min(seconds, lease_seconds / 2), cut=False)

    def bounded(self) -> AbstractAsyncContextManager[None]:
        """A fresh budget of `seconds` for the block."""
        return bounded(self.seconds, cut=self.cut, cut_at=self._cut_at)
