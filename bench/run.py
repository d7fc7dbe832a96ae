"""`make bench`: every benchmark, bounded in time, printed as ratios to same-run baselines."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import beanie_typeahead, directory_bench, webhook_bench


async def collect() -> str:
    sections = [
        await directory_bench.run(),
        await beanie_typeahead.run(),
        await webhook_bench.run(),
    ]
    return "\n\n".join(sections)


def main() -> None:
    text = asyncio.run(collect())
    out = Path(".bench")
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
