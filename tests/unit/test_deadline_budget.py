"""The request deadline: one budget that Stream calls, their retries and pauses draw from.

A retry that could not finish inside the budget is not started; a call that hangs is cut
at the deadline; a block still running at its deadline ends with 503 and Retry-After.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from stream_chat.base.exceptions import StreamAPIException

from yc_chat.adapters import deadline
from yc_chat.adapters.stream import RetryPolicy, StreamChatProvider, StreamConfig
from yc_chat.domain import errors
from yc_chat.domain.model import ChannelId
from yc_chat.entrypoints import timers

# Bounds an awaited call so a broken deadline fails the test instead of hanging it.
NEVER = 10.0


class _LongestPause(random.Random):
    """Backoff jitter that always picks the longest pause (deterministic pauses)."""

    def uniform(self, a: float, b: float) -> float:
        return b


class _FailingStream:
    """A Stream client whose QueryChannels fails with 503 after `takes` seconds (or hangs)."""

    def __init__(self, *, takes: float = 0.0, hang: bool = False) -> None:
        self.calls = 0
        self._takes = takes
        self._hang = hang

    async def query_channels(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self._hang:
            await asyncio.Event().wait()
        await asyncio.sleep(self._takes)
        raise StreamAPIException('{"message": "unavailable", "code": 99}', 503)

    async def close(self) -> None:
        return None


class _Pauses:
    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        await asyncio.sleep(seconds)


def _provider(client: _FailingStream, pauses: _Pauses, *, delay: float) -> StreamChatProvider:
    config = StreamConfig(
        api_key="key",
        api_secret="secret",
        retry=RetryPolicy(attempts=3, base_delay=delay, max_delay=delay, max_rate_limit_wait=5),
    )
    return StreamChatProvider(client, config, sleep=pauses, rng=_LongestPause())  # type: ignore[arg-type]


async def test_without_a_budget_every_attempt_is_made() -> None:
    client, pauses = _FailingStream(), _Pauses()
    with pytest.raises(errors.ProviderUnavailable):
        await _provider(client, pauses, delay=0.01).get_channel(ChannelId("apt_1"))
    assert client.calls == 3
    assert len(pauses.taken) == 2


async def test_retries_that_fit_the_budget_are_made() -> None:
    client, pauses = _FailingStream(), _Pauses()
    async with deadline.bounded(5.0):
        with pytest.raises(errors.ProviderUnavailable):
            await _provider(client, pauses, delay=0.01).get_channel(ChannelId("apt_1"))
    assert client.calls == 3


async def test_a_retry_whose_pause_would_overrun_is_not_started() -> None:
    client, pauses = _FailingStream(), _Pauses()
    async with deadline.bounded(0.5):
        with pytest.raises(errors.ProviderUnavailable) as caught:
            # The pause before the retry (1 s) alone is longer than the whole budget.
            await _provider(client, pauses, delay=1.0).get_channel(ChannelId("apt_1"))
    assert client.calls == 1
    assert pauses.taken == []  # not even the pause was started
    assert caught.value.status == 503


async def test_a_retry_as_slow_as_the_failed_attempt_is_not_started() -> None:
    # The attempt took 0.3 s of a 0.5 s budget: another like it cannot finish in time.
    client, pauses = _FailingStream(takes=0.3), _Pauses()
    async with deadline.bounded(0.5):
        with pytest.raises(errors.ProviderUnavailable):
            await _provider(client, pauses, delay=0.0).get_channel(ChannelId("apt_1"))
    assert client.calls == 1
    assert pauses.taken == []


# What cancels a request's block: asyncio's own timer, or the server's shared ones.
CUTS = pytest.mark.parametrize(
    "cut_at", [asyncio.timeout_at, timers.timeout_at], ids=["asyncio", "shared-timers"]
)


@CUTS
async def test_a_hung_call_is_cut_at_the_deadline(cut_at: deadline.CutAt) -> None:
    client, pauses = _FailingStream(hang=True), _Pauses()
    async with asyncio.timeout(NEVER):  # the configured timeout is 6 s, the budget 0.2 s
        async with deadline.bounded(0.2, cut_at=cut_at):
            with pytest.raises(errors.ProviderUnavailable) as caught:
                await _provider(client, pauses, delay=0.0).get_channel(ChannelId("apt_1"))
    assert "timed out" in caught.value.message
    assert client.calls == 1
    assert pauses.taken == []


async def test_no_call_starts_once_the_budget_is_spent() -> None:
    client, pauses = _FailingStream(), _Pauses()

    async def late_call() -> None:
        async with deadline.bounded(0.1):
            await asyncio.sleep(0.11)  # spent (or, on a slow machine, cut by the deadline)
            await _provider(client, pauses, delay=0.0).get_channel(ChannelId("apt_1"))

    with pytest.raises(errors.DeadlineExceeded):
        await late_call()
    assert client.calls == 0


@CUTS
async def test_a_block_still_running_at_its_deadline_ends_with_503_and_retry_after(
    cut_at: deadline.CutAt,
) -> None:
    async with asyncio.timeout(NEVER):
        with pytest.raises(errors.DeadlineExceeded) as caught:
            async with deadline.bounded(0.1, cut_at=cut_at):
                await asyncio.Event().wait()  # a store stuck in a socket
    assert caught.value.status == 503
    assert caught.value.code == "deadline_exceeded"
    assert caught.value.retry_after >= 1
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_an_inner_budget_never_outlasts_the_outer_one() -> None:
    async with deadline.bounded(0.5):
        async with deadline.bounded(60.0):
            left = deadline.remaining()
            assert left is not None and left <= 0.5
        assert not deadline.allows(1.0)
    assert deadline.remaining() is None
    assert deadline.allows(1e9)


async def test_each_task_keeps_its_own_budget() -> None:
    async def left_in(seconds: float) -> float | None:
        async with deadline.bounded(seconds):
            await asyncio.sleep(0)
            return deadline.remaining()

    short, long = await asyncio.gather(left_in(0.5), left_in(30.0))
    assert short is not None and short <= 0.5
    assert long is not None and long > 0.5


async def test_an_event_budget_bounds_its_calls_without_cancelling_the_block() -> None:
    # A worker event's budget: a push already handed to its provider finishes (and is
    # confirmed); only calls that consult the budget are refused once it is spent.
    async with deadline.bounded(0.05, cut=False):
        await asyncio.sleep(0.1)
        with pytest.raises(errors.DeadlineExceeded):
            deadline.attempt_timeout(5.0)
        with deadline.unbounded():
            assert deadline.attempt_timeout(5.0) == 5.0  # settling an effect already made
