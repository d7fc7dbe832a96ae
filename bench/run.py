"""`make bench`: every benchmark, bounded in time, printed as ratios to same-run baselines.

The HTTP section loads real server processes with wrk; the in-process sections time
adapter calls. Results go to stdout, `.bench/latest.md` and docs/performance.md
(between the bench markers), with the date and the machine's size.
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    beanie_typeahead,
    directory_bench,
    ferretdb_bench,
    http_bench,
    postgres_bench,
    webhook_bench,
)

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "docs" / "performance.md"  # the figures live there, linked from the README
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# Each returns one markdown section. Add a benchmark module here (e.g. real-server MongoDB
# figures) and it is run, printed and written with the rest.
SECTIONS: list[Callable[[], Awaitable[str]]] = [
    http_bench.run,
    webhook_bench.run,
    ferretdb_bench.run,
    postgres_bench.run,
    directory_bench.run,
    beanie_typeahead.run,
]


def machine() -> str:
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        if match:
            memory = f", {int(match.group(1)) / 1024**2:.0f} GiB RAM"
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        if match:
            model = f" ({match.group(1).strip()})"
    return (
        f"{os.cpu_count()} cores{model}{memory}, {platform.system()}, "
        f"Python {platform.python_version()}"
    )


async def collect() -> str:
    started = time.perf_counter()
    sections = [await section() for section in SECTIONS]
    header = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench` on {machine()}; "
        f"the whole run took {time.perf_counter() - started:.0f} s."
    )
    return "\n\n".join([header, *sections])


def write_readme(text: str) -> bool:
    """Replace the README's bench section; False when its markers are missing."""
    readme = README.read_text(encoding="utf-8")
    if START not in readme or END not in readme:
        return False
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    # The sections' own headings go one level down inside the README's section.
    body = re.sub(r"^## ", "#### ", text, flags=re.M)
    README.write_text(f"{head}{START}\n{body}\n{END}{tail}", encoding="utf-8")
    return True


def main() -> None:
    text = asyncio.run(collect())
    out = ROOT / ".bench"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    if write_readme(text):
        print(f"\n(written to {README.name}'s performance section)")
    else:
        print(f"\n({README.name} has no {START} ... {END} section: not written)")


if __name__ == "__main__":
    main()
