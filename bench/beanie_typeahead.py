"""Beanie directory: typeahead and member-list cost as an org grows, as growth ratios.

On the in-process double (default) the figures show the adapter's own overhead; the double
has no real indexes, so its growth is linear by construction. With MONGODB_URI set they come
from that MongoDB, where anchored prefixes and keyset pages should grow far slower than
the org. Run: `python bench/beanie_typeahead.py [SIZE ...]`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.mongo_double import DoubleClient
from tests.support.mongo_double.stores import double_stores, mongo_stores

from bench.directory_bench import ORG, bench_people
from bench.harness import Figure, measure, report
from yc_chat.adapters.beanie import MongoStores
from yc_chat.adapters.beanie.directory import search_fields
from yc_chat.adapters.beanie.documents import MembershipDocument, UserDocument
from yc_chat.domain.model import Org
from yc_chat.domain.text import SearchQuery

DOUBLE_SIZES = (1_000, 10_000)
MONGODB_SIZES = (1_000, 100_000)
BATCH = 1_000


async def _load(stores: MongoStores, double: DoubleClient | None, size: int) -> None:
    """Bulk-load users and memberships in the adapter's own document shape."""
    await stores.directory.put_org(Org(id=ORG, name="Bench"))
    people = bench_people(size, "u{:06d}".format)
    users: list[dict[str, Any]] = [
        {"_id": u.id, "name": u.name, "kind": u.kind.value, "email": u.email, "image": None}
        for u in people
    ]
    members: list[dict[str, Any]] = [
        {"orgId": ORG, "userId": u.id, "role": "vet", **search_fields(u)} for u in people
    ]
    for document, rows in ((UserDocument, users), (MembershipDocument, members)):
        collection = document.get_pymongo_collection()
        if double is not None:
            double.load_raw(stores.database, collection.name, rows)
            continue
        for start in range(0, len(rows), BATCH):
            await collection.insert_many(rows[start : start + BATCH], ordered=False)


async def _figures(stores: MongoStores, size: int, label: str) -> list[Figure]:
    directory = stores.directory
    broad = SearchQuery.parse("ana")  # a first name shared by a tenth of the org
    selective = SearchQuery.parse("qzx")  # a surname prefix shared by a handful
    first = await directory.list_members(ORG, limit=100, after=None)
    if len(first.members) != min(100, size):  # the load went wrong: figures would mislead
        raise RuntimeError(f"expected {min(100, size)} members, listed {len(first.members)}")
    return [
        await measure(
            f"{label} typeahead 'ana' @ {size:,}",
            lambda: directory.search_members(ORG, broad, limit=10, exclude=None),
            cap=200,
        ),
        await measure(
            f"{label} typeahead 'qzx' @ {size:,}",
            lambda: directory.search_members(ORG, selective, limit=10, exclude=None),
            cap=200,
        ),
        await measure(
            f"{label} members page 2 @ {size:,}",
            lambda: directory.list_members(ORG, limit=100, after=first.next_after),
            cap=200,
        ),
    ]


async def run(sizes: tuple[int, ...] | None = None) -> str:
    """Measure Beanie typeahead and paging at each size; throughput ratios to the smallest."""
    backend = "mongodb" if os.environ.get("MONGODB_URI") else "double"
    sizes = sizes or (MONGODB_SIZES if backend == "mongodb" else DOUBLE_SIZES)
    kinds = ("typeahead", "selective typeahead", "members page")
    figures: dict[str, list[Figure]] = {kind: [] for kind in kinds}
    notes = []
    for size in sizes:
        started = time.perf_counter()
        if backend == "mongodb":
            async with mongo_stores(backend="server") as stores:
                await _load(stores, None, size)
                loaded = time.perf_counter() - started
                measured = await _figures(stores, size, "beanie/mongodb")
        else:
            async with double_stores() as (stores, double):
                await _load(stores, double, size)
                loaded = time.perf_counter() - started
                measured = await _figures(stores, size, "beanie/double")
        notes.append(f"- {size:,} members loaded in {loaded:.1f} s ({backend})")
        for kind, figure in zip(kinds, measured, strict=True):
            figures[kind].append(figure)
    tables = [
        report(f"Beanie directory {kind} growth (baseline: {sizes[0]:,} members)", f[0], f[1:])
        for kind, f in figures.items()
    ]
    return "\n\n".join([*tables, "\n".join(notes)])


if __name__ == "__main__":
    chosen = tuple(int(arg) for arg in sys.argv[1:]) or None
    print(asyncio.run(run(chosen)))
