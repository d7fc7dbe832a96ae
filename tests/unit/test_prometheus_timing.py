"""PrometheusMetrics.time: every block's duration lands in its histogram, with its labels,
also when the block raises."""

from __future__ import annotations

import pytest

from yc_chat.adapters.metrics import PrometheusMetrics
from yc_chat.domain.metrics import Timed


def _samples(metrics: PrometheusMetrics) -> dict[str, float]:
    samples: dict[str, float] = {}
    for line in metrics.render().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_each_timed_block_is_one_observation_also_when_it_raises() -> None:
    metrics = PrometheusMetrics()
    with metrics.time(Timed.WEBHOOK_RECORD):
        pass
    with pytest.raises(RuntimeError), metrics.time(Timed.WEBHOOK_RECORD):
        raise RuntimeError("the store failed")
    with metrics.time(Timed.EVENT_HANDLING, kind="message_posted"):
        pass
    samples = _samples(metrics)
    assert samples["yc_chat_webhook_record_seconds_count"] == 2
    assert samples["yc_chat_webhook_record_seconds_sum"] >= 0
    assert samples['yc_chat_event_handling_seconds_count{kind="message_posted"}'] == 1


def test_a_label_the_series_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="label"):
        PrometheusMetrics().time(Timed.WEBHOOK_RECORD, kind="x")
