"""The server's shared timers (entrypoints/timers.py): many deadlines on one loop timer,
each firing at its own time, never after it is cancelled, and a timeout on them behaving
as asyncio's own."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from yc_chat.entrypoints.timers import alarms_of, timeout_at

# Bounds every test, so a deadline that never fires fails it instead of hanging it.
NEVER = 10.0


async def test_alarms_fire_in_time_order_and_cancelled_ones_never() -> None:
    loop = asyncio.get_running_loop()
    alarms = alarms_of(loop)
    fired: list[tuple[str, float]] = []
    now = loop.time()

    three = asyncio.Event()

    def note(name: str) -> Any:
        def fire() -> None:
            fired.append((name, loop.time()))
            if len(fired) == 3:
                three.set()

        return fire

    alarms.call_at(now + 0.08, note("late"))
    dropped = alarms.call_at(now + 0.04, note("dropped"))
    alarms.call_at(now + 0.02, note("early, armed after a later one"))
    alarms.call_at(now + 0.06, note("middle"))
    dropped.cancel()
    dropped.cancel()  # twice is harmless
    async with asyncio.timeout(NEVER):
        await three.wait()
    await asyncio.sleep(0.05)
    assert [name for name, _ in fired] == ["early, armed after a later one", "middle", "late"]
    for (_, at), due in zip(fired, (0.02, 0.06, 0.08), strict=True):
        assert at >= now + due - 0.001  # uvloop's timers may fire a millisecond early


async def test_a_failing_callback_is_reported_and_the_others_still_fire() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))
    fired: list[str] = []

    def fail() -> None:
        raise RuntimeError("boom")

    try:
        at = loop.time() + 0.01
        alarms_of(loop).call_at(at, fail)
        alarms_of(loop).call_at(at, lambda: fired.append("other"))
        await asyncio.sleep(0.05)
    finally:
        loop.set_exception_handler(None)
    assert fired == ["other"]
    assert [type(context["exception"]) for context in reported] == [RuntimeError]


async def test_a_block_past_its_deadline_raises_timeout_error_and_leaves_no_cancel() -> None:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(NEVER):
        with pytest.raises(TimeoutError):
            async with timeout_at(loop.time() + 0.02) as timeout:
                await asyncio.Event().wait()
    assert timeout.expired()
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0.01)  # still running: nothing cancels the task afterwards


async def test_a_block_done_in_time_is_never_cancelled_afterwards() -> None:
    loop = asyncio.get_running_loop()
    async with timeout_at(loop.time() + 0.02) as timeout:
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)  # past the deadline: a cancel would raise here
    assert not timeout.expired()


async def test_a_cancel_from_outside_stays_a_cancel() -> None:
    """Cancelled by someone else in the same turn as its deadline came: CancelledError
    (the other cancel is not swallowed into a timeout), as with asyncio's own."""
    loop = asyncio.get_running_loop()
    entered = asyncio.Event()
    deadline = loop.time() + 0.02

    async def block() -> None:
        async with timeout_at(deadline):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(block())
    await entered.wait()
    loop.call_at(deadline + 0.005, task.cancel)
    time.sleep(0.04)  # noqa: ASYNC251 - the loop held still on purpose: both come due, the deadline first, before the task runs again
    await asyncio.sleep(0.01)
    assert task.cancelled()


def test_each_event_loop_has_its_own_timers() -> None:
    async def mine() -> object:
        loop = asyncio.get_running_loop()
        alarms = alarms_of(loop)
        assert alarms_of(loop) is alarms
        async with timeout_at(loop.time() + 5):
            await asyncio.sleep(0)
        return alarms

    assert asyncio.run(mine()) is not asyncio.run(mine())
