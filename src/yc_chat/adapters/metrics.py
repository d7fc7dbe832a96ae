"""PrometheusMetrics: the Metrics port in process memory, exported as Prometheus text.

The exposition format (version 0.0.4) is written here rather than with `prometheus-client`:
the service exports a dozen fixed series, and that library's default registry is
process-wide state filled at import time, which this codebase avoids (two apps in one
process, as in tests, would share counters). Writing the format takes one short function
and is pinned by tests against the format's rules (escaping, cumulative buckets, `+Inf`).
"""

from __future__ import annotations

import bisect
import contextlib
import math
import re
import time
from collections.abc import Iterator, Mapping, Sequence

import attrs

from yc_chat.domain.metrics import DESCRIPTIONS, Counted, Gauge, Labels, Timed

# Seconds: from a fast store write to a slow push provider call.
DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _labels(labels: Mapping[str, str]) -> Labels:
    for name in labels:
        if not _LABEL_NAME.fullmatch(name) or name.startswith("__"):
            raise ValueError(f"invalid metric label name {name!r}")
    return tuple(sorted(labels.items()))


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return str(int(value)) if value == int(value) and abs(value) < 2**53 else repr(value)


def _series(name: str, labels: Labels, value: float) -> str:
    if not labels:
        return f"{name} {_number(value)}"
    inner = ",".join(f'{key}="{_escape_label(val)}"' for key, val in labels)
    return f"{name}{{{inner}}} {_number(value)}"


@attrs.define
class _Histogram:
    buckets: tuple[float, ...]
    counts: list[int]
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        # Counts per bucket here; the export makes them cumulative, as the format wants.
        index = bisect.bisect_left(self.buckets, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.total += value
        self.count += 1


class PrometheusMetrics:
    """Counters and histograms in memory; `render()` is the `/metrics` body."""

    content_type = CONTENT_TYPE

    def __init__(self, *, namespace: str = "yc_chat", buckets: Sequence[float] = DEFAULT_BUCKETS):
        self._namespace = namespace
        self._buckets = tuple(sorted(buckets))
        self._counters: dict[Counted, dict[Labels, float]] = {name: {} for name in Counted}
        self._histograms: dict[Timed, dict[Labels, _Histogram]] = {name: {} for name in Timed}

    def count(self, name: Counted, amount: float = 1, **labels: str) -> None:
        """Add `amount` (never negative: counters only go up) to a counter."""
        if amount < 0:
            raise ValueError("counters only go up")
        series = self._counters[name]
        key = _labels(labels)
        series[key] = series.get(key, 0.0) + amount

    def observe(self, name: Timed, seconds: float, **labels: str) -> None:
        """Record one duration in the histogram."""
        series = self._histograms[name]
        key = _labels(labels)
        histogram = series.get(key)
        if histogram is None:
            histogram = series[key] = _Histogram(self._buckets, [0] * len(self._buckets))
        histogram.observe(max(seconds, 0.0))

    @contextlib.contextmanager
    def time(self, name: Timed, **labels: str) -> Iterator[None]:
        """Record the block's duration, also when it raises."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe(name, time.perf_counter() - started, **labels)

    def value(self, name: Counted, **labels: str) -> float:
        """A counter's current value (for tests and the CLI)."""
        return self._counters[name].get(_labels(labels), 0.0)

    def total(self, name: Counted) -> float:
        """A counter summed over all its labels."""
        return sum(self._counters[name].values())

    def render(self, gauges: Sequence[Gauge] = ()) -> str:
        """Every series in the Prometheus text format, ending with a newline."""
        lines: list[str] = []
        for counter, samples in self._counters.items():
            name = f"{self._namespace}_{counter.value}_total"
            lines += [
                f"# HELP {name} {_escape_help(DESCRIPTIONS[counter])}",
                f"# TYPE {name} counter",
            ]
            # A series that never moved still exports 0, so rates and alerts have a start.
            lines += [_series(name, key, value) for key, value in sorted(samples.items())] or [
                _series(name, (), 0)
            ]
        for timed, histograms in self._histograms.items():
            name = f"{self._namespace}_{timed.value}_seconds"
            lines += [
                f"# HELP {name} {_escape_help(DESCRIPTIONS[timed])}",
                f"# TYPE {name} histogram",
            ]
            empty = _Histogram(self._buckets, [0] * len(self._buckets))
            for key, histogram in sorted(histograms.items()) or [((), empty)]:
                running = 0
                for bound, count in zip(self._buckets, histogram.counts, strict=True):
                    running += count
                    lines.append(_series(f"{name}_bucket", (*key, ("le", _number(bound))), running))
                lines.append(_series(f"{name}_bucket", (*key, ("le", "+Inf")), histogram.count))
                lines.append(_series(f"{name}_sum", key, histogram.total))
                lines.append(_series(f"{name}_count", key, histogram.count))
        for gauge in gauges:
            name = f"{self._namespace}_{gauge.name}"
            lines += [f"# HELP {name} {_escape_help(gauge.help)}", f"# TYPE {name} gauge"]
            lines += [_series(name, key, value) for key, value in sorted(gauge.samples.items())]
        return "\n".join(lines) + "\n"
