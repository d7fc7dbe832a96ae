"""Background jobs of a process: the inbox worker and the lifecycle scheduler.

Both are loops of passes of a domain use case. The same jobs run inside `yc-chat serve`
(started and stopped by the HTTP app's lifespan) and alone in `yc-chat worker`; several
processes may run them at once (inbox leases and lifecycle claims keep their work apart).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import attrs

from yc_chat.domain.service import ChatService
from yc_chat.domain.usecases.inbox import PassOutcome
from yc_chat.entrypoints.logs import log_info
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.entrypoints.settings import WorkerSettings
from yc_chat.ports import Clock

logger = logging.getLogger("yc_chat.worker")

# After a failed pass (a store outage), wait before the next, whatever the job's cadence.
ERROR_DELAY_SECONDS = 5.0
# The in-process worker's share of the event loop while webhooks keep arriving: after a pass
# that took t seconds it rests t * (1 - share) / share, so acknowledging keeps the rest.
# Handling still progresses under any load (a backlog drains at full speed once arrivals
# pause); an event waits longer, never forever.
WORKER_SHARE_UNDER_LOAD = 0.1
# Arrivals this recent count as load (a wake-up per recorded webhook).
BUSY_WINDOW_SECONDS = 0.05
# A rest never outlasts this (a slow pass must not leave due events waiting long).
MAX_REST_SECONDS = 1.0


class Loop:
    """Runs `step` again and again; `step` returns how many seconds to wait before the next.

    `wake()` cuts a wait short (a webhook was just recorded here); `stop()` lets the pass in
    progress finish (up to a grace period) and then cancels it.
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], Awaitable[float]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._step = step
        self._clock = clock
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._woken_at = -1e9

    def start(self) -> None:
        """Run the loop in a task of the current event loop."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"yc-chat-{self.name}")

    def wake(self) -> None:
        """Start the next pass now rather than after the wait."""
        self._woken_at = self._clock()
        self._wakeup.set()

    def woken_within(self, seconds: float) -> bool:
        """Whether `wake()` was called in the last `seconds` (work is arriving)."""
        return self._clock() - self._woken_at <= seconds

    def stopping(self) -> bool:
        """Whether `stop()` was called (a call: its answer changes across awaits)."""
        return self._stopping

    async def run(self) -> None:
        """Passes until stopped."""
        while not self.stopping():
            try:
                delay = await self._step()
            except Exception:
                logger.exception("background pass failed", extra={"job": self.name})
                delay = ERROR_DELAY_SECONDS
            if self.stopping():
                break
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=delay)
            self._wakeup.clear()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Finish the current pass (at most `grace_seconds`), then end the loop."""
        self._stopping = True
        self._wakeup.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=grace_seconds)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def inbox_worker(
    process: Callable[[], Awaitable[Sequence[PassOutcome]]],
    settings: WorkerSettings,
    *,
    clock: Callable[[], float] = time.monotonic,
    rest: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Loop:
    """The worker loop: passes back to back while events are due, else every poll interval.

    Beside the HTTP server (woken by each recorded webhook) it yields to the requests: while
    webhooks keep arriving, it rests after each pass so that it takes at most
    WORKER_SHARE_UNDER_LOAD of the event loop. The rest is not a wait a wake-up cuts short.
    Alone (`yc-chat worker`, never woken) it never rests while events are due.
    """

    async def step() -> float:
        began = clock()
        handled = await process()
        for item in handled:
            _log(item)
        if not handled:
            return settings.poll_seconds
        if loop.woken_within(BUSY_WINDOW_SECONDS) and not loop.stopping():
            spent = clock() - began
            share = WORKER_SHARE_UNDER_LOAD
            await rest(min(spent * (1 - share) / share, MAX_REST_SECONDS))
        return 0.0

    loop = Loop("inbox-worker", step, clock=clock)
    return loop


def _log(item: PassOutcome) -> None:
    extra = {"event_id": item.event_id, "kind": item.kind, "attempts": item.attempts}
    if item.result == "processed":
        log_info(logger, "webhook event handled", extra)  # one per event: the direct line
    elif item.result == "ignored":
        # The id and the reason, never the content: the id finds the event in the inbox.
        logger.warning("webhook event not acted on", extra={**extra, "reason": item.reason})
    elif item.result == "continued":
        logger.info("job moved on, continues in a later pass", extra=extra)
    elif item.result == "retry":
        logger.warning("webhook event failed, will retry", extra={**extra, "reason": item.reason})
    elif item.result == "parked":
        logger.error("webhook event parked", extra={**extra, "reason": item.reason})
    else:
        logger.warning("webhook event lease lost to another worker", extra=extra)


def lifecycle_scheduler(service: ChatService, clock: Clock, interval_seconds: float) -> Loop:
    """The lifecycle loop: every interval, and exactly at the next known opening time."""

    async def step() -> float:
        run = await service.advance_lifecycle()
        if run.transitions:
            logger.info("chat lifecycle transitions", extra={"count": run.transitions})
        delay = interval_seconds
        if run.next_opening is not None:
            until = (run.next_opening - clock.now()).total_seconds()
            if until > 0:  # in the past: a claim held elsewhere; the interval will do
                delay = min(delay, until)
        return delay

    return Loop("lifecycle", step)


def background_loops(runtime: Runtime, worker: WorkerSettings | None = None) -> list[Loop]:
    """What runs beside the requests: the inbox worker (unless disabled) and the scheduler.

    `worker` overrides the runtime's worker settings (`yc-chat worker` always works).
    """
    worker = worker or runtime.settings.worker
    loops: list[Loop] = []
    if worker.enabled:
        loops.append(inbox_worker(runtime.service.process_inbox_events, worker))
    interval = runtime.settings.http.activation_interval_seconds
    if interval > 0:
        loops.append(lifecycle_scheduler(runtime.service, runtime.ports.clock, interval))
    return loops


async def run_worker(runtime: Runtime, stop: asyncio.Event) -> None:
    """The inbox worker and the lifecycle scheduler, without HTTP, until `stop` is set."""
    # Without HTTP this process exists to work: the worker runs even if serve disables it.
    worker = attrs.evolve(runtime.settings.worker, enabled=True)
    loops = background_loops(runtime, worker)
    for loop in loops:
        loop.start()
    try:
        await stop.wait()
    finally:
        for loop in loops:
            await loop.stop(worker.stop_grace_seconds)
