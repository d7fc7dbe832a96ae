"""PrometheusMetrics: the Metrics port on `prometheus-client`, one registry per instance.

Each instance owns a `CollectorRegistry` (never the library's global one), so two apps in
one process, as in tests, count apart. In multiprocess mode (`serve --workers N`: the
parent sets PROMETHEUS_MULTIPROC_DIR before the workers start, and the library keeps every
value in a file there) a scrape of any worker sums what all of them counted.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from yc_chat.domain.metrics import DESCRIPTIONS, Counted, Gauge, Timed

# Seconds: from a fast store write to a slow push provider call.
DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# The text format scrapers have read for years (`generate_latest` writes it).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# The labels each series carries: the ones the use cases pass (`by kind`, `by reason`...).
# prometheus-client needs them up front; a call with other labels is a ValueError.
LABELS: Mapping[Counted | Timed, tuple[str, ...]] = {
    Counted.WEBHOOKS_RECEIVED: (),
    Counted.WEBHOOKS_DUPLICATE: (),
    Counted.EVENTS_PROCESSED: ("kind",),
    Counted.EVENTS_FAILED: ("kind",),
    Counted.EVENTS_PARKED: ("kind",),
    Counted.EVENTS_IGNORED: ("kind", "reason"),
    Counted.PUSHES_SENT: (),
    Counted.PUSHES_FAILED: ("reason",),
    Counted.LIFECYCLE_TRANSITIONS: ("to",),
    Timed.WEBHOOK_RECORD: (),
    Timed.EVENT_HANDLING: ("kind",),
    Timed.EVENT_LAG: (),
    Timed.PUSH_SEND: (),
}


class PrometheusMetrics:
    """Counters and histograms in a registry of their own; `render()` is `/metrics`."""

    content_type = CONTENT_TYPE

    def __init__(
        self,
        *,
        namespace: str = "yc_chat",
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        multiprocess_dir: str | None = None,
    ) -> None:
        if multiprocess_dir is not None and values.ValueClass is values.MutexValue:
            # The library picks where values live when it is first imported.
            raise RuntimeError(
                "multiprocess metrics need PROMETHEUS_MULTIPROC_DIR set before "
                "prometheus_client is imported"
            )
        # `*_created` series would be new names next to the ones dashboards already use.
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        self._namespace = namespace
        self._registry = CollectorRegistry(auto_describe=True)
        self._multiprocess_dir = multiprocess_dir
        self._counters = {
            name: Counter(
                f"{namespace}_{name.value}",
                DESCRIPTIONS[name],
                LABELS[name],
                registry=self._registry,
            )
            for name in Counted
        }
        self._histograms = {
            name: Histogram(
                f"{namespace}_{name.value}_seconds",
                DESCRIPTIONS[name],
                LABELS[name],
                registry=self._registry,
                buckets=tuple(sorted(buckets)),
            )
            for name in Timed
        }

    def count(self, name: Counted, amount: float = 1, **labels: str) -> None:
        """Add `amount` (never negative: counters only go up) to a counter."""
        if amount < 0:
            raise ValueError("counters only go up")
        counter = self._counters[name]
        (counter.labels(**labels) if labels or LABELS[name] else counter).inc(amount)

    def observe(self, name: Timed, seconds: float, **labels: str) -> None:
        """Record one duration in the histogram."""
        histogram = self._histograms[name]
        target = histogram.labels(**labels) if labels or LABELS[name] else histogram
        target.observe(max(seconds, 0.0))

    def time(self, name: Timed, **labels: str) -> AbstractContextManager[None]:
        """Record the block's duration, also when it raises."""
        histogram = self._histograms[name]
        return _Timing(histogram.labels(**labels) if labels or LABELS[name] else histogram)

    def value(self, name: Counted, **labels: str) -> float:
        """A counter's current value in this process (for tests and the CLI)."""
        found = self._registry.get_sample_value(f"{self._namespace}_{name.value}_total", labels)
        return found or 0.0

    def total(self, name: Counted) -> float:
        """A counter summed over all its labels, in this process."""
        wanted = f"{self._namespace}_{name.value}_total"
        return sum(
            sample.value
            for metric in self._counters[name].collect()
            for sample in metric.samples
            if sample.name == wanted
        )

    def render(self, gauges: Sequence[Gauge] = ()) -> str:
        """Every series in the Prometheus text format, with `gauges` read at scrape time."""
        registry = self._registry
        if self._multiprocess_dir is not None:
            # Every process's files, summed: whichever worker answers the scrape.
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self._multiprocess_dir)  # type: ignore[no-untyped-call]
        text = generate_latest(registry).decode("utf-8")
        if gauges:
            scraped = CollectorRegistry()
            scraped.register(_Gauges(self._namespace, gauges))
            text += generate_latest(scraped).decode("utf-8")
        return text


class _Gauges:
    """Values read at scrape time (inbox size, degraded parts), as a one-off collector."""

    def __init__(self, namespace: str, gauges: Sequence[Gauge]) -> None:
        self._namespace = namespace
        self._gauges = gauges

    def collect(self) -> Iterable[Metric]:
        for gauge in self._gauges:
            names = sorted({name for labels in gauge.samples for name, _ in labels})
            family = GaugeMetricFamily(f"{self._namespace}_{gauge.name}", gauge.help, labels=names)
            for labels, value in sorted(gauge.samples.items()):
                given = dict(labels)
                family.add_metric([given.get(name, "") for name in names], value)
            yield family


class _Timing:
    """`time()`'s block. A class, not a @contextmanager generator: every webhook's record
    is timed, and the generator's machinery cost more than the histogram."""

    __slots__ = ("_histogram", "_started")

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self._histogram.observe(max(time.perf_counter() - self._started, 0.0))
