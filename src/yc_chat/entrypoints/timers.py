"""Deadlines that almost never fire, many at once, on one event-loop timer.

Every request arms deadlines (its head's arrival, its body's, its dependency budget) and
disarms them milliseconds later. As asyncio timers (`loop.call_at`, `asyncio.timeout`)
each is a handle pushed on the loop's heap, compared in Python at every push and pop, and
left there when cancelled until its time comes: with 32 requests in flight the heap holds
hundreds of dead handles, and the timers cost about a tenth of a small request. Here a
deadline is an entry in a dict (arming and disarming are an insert and a delete); one
loop timer is kept at the earliest entry, and it seldom moves, since deadlines of one
length are armed in the order they fall due. When it fires, it walks the entries (the
requests in flight) once, calls the due ones and re-arms at the next.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Final

# uvloop's timers count whole milliseconds and may fire up to one early: an alarm this
# close to due counts as due, rather than the timer spinning until it is.
_EARLY: Final = 0.001


class Alarm:
    """One armed deadline; `cancel()` disarms it (idempotent)."""

    __slots__ = ("_pending", "callback", "when")

    def __init__(self, when: float, callback: Callable[[], object], pending: dict[Alarm, None]):
        self.when = when
        self.callback = callback
        self._pending = pending

    def cancel(self) -> None:
        """Disarm: the callback will not be called."""
        self._pending.pop(self, None)


class Alarms:
    """The deadlines of one event loop, on one timer of that loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._pending: dict[Alarm, None] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._fires_at = math.inf

    def call_at(self, when: float, callback: Callable[[], object]) -> Alarm:
        """Call `callback` at `when` (the loop's clock) unless the alarm is cancelled first."""
        alarm = Alarm(when, callback, self._pending)
        self._pending[alarm] = None
        if when < self._fires_at:
            self._schedule(when)
        return alarm

    def _schedule(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_at(when, self._fire)
        self._fires_at = when

    def _fire(self) -> None:
        self._timer = None
        self._fires_at = math.inf
        now = self.loop.time() + _EARLY
        due = [alarm for alarm in self._pending if alarm.when <= now]
        for alarm in due:
            del self._pending[alarm]
        if self._pending:
            self._schedule(min(alarm.when for alarm in self._pending))
        for alarm in due:
            try:
                alarm.callback()
            except Exception as exc:  # as the loop does for a failing callback: logged
                self.loop.call_exception_handler(
                    {"message": "a deadline's callback failed", "exception": exc}
                )


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Alarms] = weakref.WeakKeyDictionary()
_recent: Alarms | None = None


def alarms_of(loop: asyncio.AbstractEventLoop) -> Alarms:
    """The deadlines of `loop` (one set per loop: tests and threads run loops of their own)."""
    global _recent
    recent = _recent
    if recent is not None and recent.loop is loop:
        return recent
    found = _by_loop.get(loop)
    if found is None:
        found = _by_loop[loop] = Alarms(loop)
    _recent = found
    return found


class Timeout:
    """`asyncio.timeout_at(when)` on an Alarm: the block is cancelled at `when` and raises
    TimeoutError, unless something else cancelled it too (then CancelledError stands)."""

    __slots__ = ("_alarm", "_cancelling", "_expired", "_task", "_when")

    def __init__(self, when: float) -> None:
        self._when = when
        self._expired = False
        self._alarm: Alarm | None = None

    async def __aenter__(self) -> Timeout:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a timeout needs a task")
        self._task = task
        self._cancelling = task.cancelling()
        self._alarm = alarms_of(task.get_loop()).call_at(self._when, self._expire)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._alarm is not None:
            self._alarm.cancel()
            self._alarm = None
        if (
            self._expired
            and self._task.uncancel() <= self._cancelling
            and exc_type is asyncio.CancelledError
        ):
            raise TimeoutError from exc

    def _expire(self) -> None:
        self._alarm = None
        self._expired = True
        self._task.cancel()

    def expired(self) -> bool:
        """Whether the deadline came while the block ran."""
        return self._expired


def timeout_at(when: float) -> Timeout:
    """A block that must end by `when` on the running loop's clock (else TimeoutError)."""
    return Timeout(when)
