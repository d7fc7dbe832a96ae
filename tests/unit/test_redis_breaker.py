"""The circuit breaker in front of Redis: after a failure, calls skip Redis for a cool-down
(the caller counts in its own process at once), then one call probes; it notes when it
opens and closes, and a gauge says which (readiness logs the change, tests/e2e)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from yc_chat.adapters.redis import BreakerRateLimitStore
from yc_chat.domain.errors import ProviderUnavailable

COOL_DOWN = 10.0
NEVER = 10.0  # bounds an awaited call, so a broken breaker fails instead of hanging


class _Store:
    """A rate-limit store that answers, fails, or stalls (as a SIGSTOPped Redis does)."""

    def __init__(self) -> None:
        self.mode = "up"
        self.calls = 0

    async def hit(self, key: str, *, window_seconds: int) -> tuple[int, float]:
        self.calls += 1
        if self.mode == "stalled":
            await asyncio.Event().wait()
        if self.mode == "down":
            raise ProviderUnavailable("Redis is unreachable (ConnectionError)")
        return 1, float(window_seconds)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _breaker(store: _Store, clock: _Clock) -> BreakerRateLimitStore:
    return BreakerRateLimitStore(store, cool_down=COOL_DOWN, call_timeout=0.05, clock=clock)


@pytest.fixture(autouse=True)
def _info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="yc_chat.ratelimit")


def _lines(caplog: pytest.LogCaptureFixture, word: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if word in r.getMessage()]


async def test_a_stalled_redis_is_skipped_after_one_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, clock = _Store(), _Clock()
    breaker = _breaker(store, clock)
    store.mode = "stalled"
    async with asyncio.timeout(NEVER):
        with pytest.raises(ProviderUnavailable):
            await breaker.hit("k", window_seconds=60)  # waits the call timeout, once
        for _ in range(50):
            with pytest.raises(ProviderUnavailable):
                await breaker.hit("k", window_seconds=60)  # skipped: no wait at all
    assert store.calls == 1
    assert breaker.is_open
    assert breaker.gauge().samples == {(): 1.0}
    assert len(_lines(caplog, "circuit open")) == 1


async def test_after_the_cool_down_one_probe_closes_it(caplog: pytest.LogCaptureFixture) -> None:
    store, clock = _Store(), _Clock()
    breaker = _breaker(store, clock)
    store.mode = "down"
    with pytest.raises(ProviderUnavailable):
        await breaker.hit("k", window_seconds=60)
    store.mode = "up"
    clock.now += COOL_DOWN / 2
    with pytest.raises(ProviderUnavailable):
        await breaker.hit("k", window_seconds=60)  # still cooling down: Redis not asked
    assert store.calls == 1

    clock.now += COOL_DOWN
    assert await breaker.hit("k", window_seconds=60) == (1, 60.0)  # the probe
    assert await breaker.hit("k", window_seconds=60) == (1, 60.0)
    assert store.calls == 3
    assert not breaker.is_open
    assert breaker.gauge().samples == {(): 0.0}
    assert len(_lines(caplog, "circuit open")) == 1
    assert len(_lines(caplog, "circuit closed")) == 1


async def test_a_failed_probe_opens_it_for_another_cool_down_without_a_new_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, clock = _Store(), _Clock()
    breaker = _breaker(store, clock)
    store.mode = "down"
    with pytest.raises(ProviderUnavailable):
        await breaker.hit("k", window_seconds=60)
    clock.now += COOL_DOWN
    with pytest.raises(ProviderUnavailable):
        await breaker.hit("k", window_seconds=60)  # the probe fails
    with pytest.raises(ProviderUnavailable):
        await breaker.hit("k", window_seconds=60)  # skipped again
    assert store.calls == 2
    assert breaker.is_open
    assert len(_lines(caplog, "circuit open")) == 1
    assert _lines(caplog, "circuit closed") == []


async def test_while_a_probe_is_out_the_others_keep_skipping() -> None:
    store, clock = _Store(), _Clock()
    breaker = _breaker(store, clock)
    store.mode = "down"
    with pytest.raises(ProviderUnavailable):
        await breaker.hit("k", window_seconds=60)
    clock.now += COOL_DOWN
    store.mode = "stalled"
    results = await asyncio.gather(
        *(breaker.hit("k", window_seconds=60) for _ in range(20)), return_exceptions=True
    )
    assert all(isinstance(r, ProviderUnavailable) for r in results)
    assert store.calls == 2  # the first failure and one probe, not twenty
