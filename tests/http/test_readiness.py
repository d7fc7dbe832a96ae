"""Readiness with a part that has a fallback: Redis down degrades the process, never
unreadies it; the change is logged once each way and shown by `yc_chat_degraded`."""

from __future__ import annotations

import logging

import attrs
import pytest

from yc_chat import in_memory
from yc_chat.domain.errors import ProviderUnavailable
from yc_chat.entrypoints.observability import scrape
from yc_chat.entrypoints.runtime import RATE_LIMIT_STORE


class SwitchableStore:
    """A shared rate-limit store whose server can be taken down and brought back."""

    def __init__(self) -> None:
        self.up = True
        self.counts: dict[str, int] = {}

    async def hit(self, key: str, *, window_seconds: int) -> tuple[int, float]:
        if not self.up:
            raise ProviderUnavailable("Redis is unreachable (ConnectionError)")
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key], float(window_seconds)

    async def ping(self) -> None:
        if not self.up:
            raise ProviderUnavailable("Redis is unreachable (ConnectionError)")


def _said(caplog: pytest.LogCaptureFixture, start: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(start)]


async def test_down_degrades_once_and_coming_back_recovers_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="yc_chat.health")
    store = SwitchableStore()
    runtime = in_memory(shared_rate_limits=store)
    assert (await runtime.check_readiness()).status == "ready"
    assert 'yc_chat_degraded{part="redis"} 0.0' in await scrape(runtime)

    store.up = False
    for _ in range(3):
        report = await runtime.check_readiness()
        assert report.status == "degraded"
        assert report.degraded == [RATE_LIMIT_STORE] and report.failed == []
    # The rate limiter falling back says the same, and adds no line of its own.
    runtime.rate_limit_store_down(True)
    assert 'yc_chat_degraded{part="redis"} 1.0' in await scrape(runtime)
    assert len(_said(caplog, "degraded: redis")) == 1

    store.up = True
    runtime.rate_limit_store_down(False)
    assert (await runtime.check_readiness()).status == "ready"
    assert len(_said(caplog, "recovered: redis")) == 1
    assert 'yc_chat_degraded{part="redis"} 0.0' in await scrape(runtime)


async def test_a_required_part_down_is_unready_whatever_redis_does() -> None:
    store = SwitchableStore()
    store.up = False
    runtime = in_memory(shared_rate_limits=store)

    async def chat_down() -> None:
        raise ProviderUnavailable()

    probes = {**runtime.probes, "chat": chat_down}
    report = await attrs.evolve(runtime, probes=probes).check_readiness()
    assert report.status == "unready"
    assert report.failed == ["chat"] and report.degraded == ["redis"]


async def test_without_redis_there_is_nothing_to_degrade() -> None:
    runtime = in_memory()
    report = await runtime.check_readiness()
    assert report.status == "ready" and "redis" not in report.checks
    assert "yc_chat_degraded" not in await scrape(runtime)
