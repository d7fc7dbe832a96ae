"""The in-process worker yields to the requests: while webhooks keep arriving (each one
wakes it) it rests after every pass, in proportion to the pass, so that acknowledging keeps
most of the event loop; it still makes a pass after every rest (handling never stops), and
without arrivals (`yc-chat worker`, or once the load ends) it works back to back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from yc_chat.domain.usecases.inbox import PassOutcome
from yc_chat.entrypoints.background import (
    BUSY_WINDOW_SECONDS,
    MAX_REST_SECONDS,
    WORKER_SHARE_UNDER_LOAD,
    inbox_worker,
)
from yc_chat.entrypoints.settings import WorkerSettings

ONE = [PassOutcome(event_id="e", kind="message.new", attempts=1, result="processed")]


class Scene:
    """A fake clock, a worker whose passes take `pass_seconds` each, arrivals on demand."""

    def __init__(self, passes: int, pass_seconds: float, arrivals_until_pass: int) -> None:
        self.now = 1000.0
        self.rests: list[float] = []
        self.passes_left = passes
        self.done = 0
        self.pass_seconds = pass_seconds
        self.arrivals_until_pass = arrivals_until_pass
        self.finished = asyncio.Event()
        self.loop = inbox_worker(
            self.process, WorkerSettings(poll_seconds=3600), clock=self.clock, rest=self.rest
        )

    def clock(self) -> float:
        return self.now

    async def process(self) -> Sequence[PassOutcome]:
        if self.passes_left == 0:
            self.finished.set()
            return []
        self.now += self.pass_seconds
        if self.done < self.arrivals_until_pass:
            self.loop.wake()  # a webhook recorded while this pass ran
        self.passes_left -= 1
        self.done += 1
        return ONE

    async def rest(self, seconds: float) -> None:
        self.rests.append(seconds)
        self.now += seconds

    async def run(self) -> None:
        self.loop.start()
        await asyncio.wait_for(self.finished.wait(), timeout=30)
        await self.loop.stop()


async def test_under_arrivals_it_rests_in_proportion_and_still_makes_every_pass() -> None:
    scene = Scene(passes=5, pass_seconds=0.002, arrivals_until_pass=5)
    await scene.run()
    assert scene.done == 5
    share = WORKER_SHARE_UNDER_LOAD
    assert scene.rests == [pytest.approx(0.002 * (1 - share) / share)] * 5


async def test_without_arrivals_it_works_back_to_back() -> None:
    scene = Scene(passes=5, pass_seconds=0.002, arrivals_until_pass=0)
    await scene.run()
    assert scene.done == 5
    assert scene.rests == []


async def test_once_arrivals_stop_the_backlog_drains_without_rests() -> None:
    scene = Scene(passes=6, pass_seconds=BUSY_WINDOW_SECONDS / 4, arrivals_until_pass=2)
    await scene.run()
    assert scene.done == 6
    # Two passes under arrivals rest; the third starts after a rest longer than the busy
    # window, so no arrival is recent any more and the rest go back to back.
    assert len(scene.rests) == 2


async def test_a_rest_is_bounded_whatever_a_pass_took() -> None:
    scene = Scene(passes=2, pass_seconds=60.0, arrivals_until_pass=2)
    await scene.run()
    assert scene.rests == [MAX_REST_SECONDS, MAX_REST_SECONDS]
