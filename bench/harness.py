"""A tiny timing harness: bounded runs, figures reported as ratios to a same-run baseline."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable

import attrs


@attrs.frozen
class Figure:
    name: str
    ops_per_second: float
    p50_ms: float
    p99_ms: float


async def measure(
    name: str, operation: Callable[[], Awaitable[object]], *, seconds: float = 0.5, cap: int = 5000
) -> Figure:
    """Run `operation` repeatedly for about `seconds` (at most `cap` times)."""
    for _ in range(3):  # warm caches and lazy indexes
        await operation()
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < cap and time.perf_counter() - started < seconds:
        t0 = time.perf_counter()
        await operation()
        samples.append(time.perf_counter() - t0)
    total = sum(samples)
    ordered = sorted(samples)
    return Figure(
        name=name,
        ops_per_second=len(samples) / total if total else float("inf"),
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


def report(title: str, baseline: Figure, others: list[Figure]) -> str:
    """A table of figures, throughput given as a ratio to the baseline."""
    lines = [f"## {title}", "", "| case | ops/s | ratio to baseline | p50 ms | p99 ms |"]
    lines.append("|---|---:|---:|---:|---:|")
    for fig in [baseline, *others]:
        ratio = fig.ops_per_second / baseline.ops_per_second
        lines.append(
            f"| {fig.name} | {fig.ops_per_second:,.0f} | {ratio:.3f}x | "
            f"{fig.p50_ms:.3f} | {fig.p99_ms:.3f} |"
        )
    return "\n".join(lines)
