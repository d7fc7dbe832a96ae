"""Typeahead and member-list cost as an org grows, for every Directory adapter available."""

from __future__ import annotations

import random
import string
import time
import tracemalloc
from collections.abc import Callable

from bench.harness import Figure, measure, report
from yc_chat.adapters.memory import InMemoryDirectory
from yc_chat.domain.model import Membership, Org, OrgId, User, UserId
from yc_chat.domain.text import SearchQuery

ORG = OrgId("bench-org")
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Eve", "Farah", "Gus", "Hana", "Iñigo", "Jo"]


def bench_people(size: int, user_id: Callable[[int], str], seed: int = 7) -> list[User]:
    """The population every bench section seeds: a first name of ten (so `ana` matches a
    tenth), a random surname, an email from the id; the same for the same seed."""
    rng = random.Random(seed)
    people = []
    for i in range(size):
        last = "".join(rng.choices(string.ascii_lowercase, k=7)).title()
        uid = UserId(user_id(i))
        people.append(
            User(id=uid, name=f"{rng.choice(FIRST)} {last}", email=f"{uid}@bench.example")
        )
    return people


async def populate(directory: InMemoryDirectory, size: int, seed: int = 7) -> None:
    await directory.put_org(Org(id=ORG, name="Bench"))
    for user in bench_people(size, "u{:06d}".format, seed):
        await directory.put_user(user)
        await directory.put_membership(Membership(org_id=ORG, user_id=user.id, role="vet"))


MIB = 1024 * 1024


async def memory_and_first_search(size: int = 100_000) -> str:
    """What an org of `size` members holds in memory, and its first search after a load.

    tracemalloc counts the directory's own allocations (users, memberships, search keys,
    then the typeahead index and member order that `warm_search` builds at load time).
    """
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        directory = InMemoryDirectory()
        await populate(directory, size)
        loaded = tracemalloc.get_traced_memory()[0]
        await directory.warm_search()
        warmed = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # Timed without tracemalloc (it slows allocation): a fresh load, its build, the first search.
    fresh = InMemoryDirectory()
    await populate(fresh, size)
    began = time.perf_counter()
    await fresh.warm_search()
    built = time.perf_counter() - began
    began = time.perf_counter()
    await fresh.search_members(ORG, SearchQuery.parse("ana"), limit=10, exclude=None)
    first = time.perf_counter() - began
    # A member joins and another is renamed: the next search answers from the index kept
    # up to date, not a rebuilt one (issue 22).
    newcomer = UserId("newcomer-1")
    await fresh.put_user(User(id=newcomer, name="Ana Newcomer", email="new@bench.example"))
    began = time.perf_counter()
    await fresh.put_membership(Membership(org_id=ORG, user_id=newcomer, role="vet"))
    renamed = UserId(f"u{size // 2:06d}")
    await fresh.put_user(User(id=renamed, name="Anabel Renamed", email=None))
    changed = time.perf_counter() - began
    began = time.perf_counter()
    hits = await fresh.search_members(ORG, SearchQuery.parse("ana"), limit=10, exclude=None)
    after_change = time.perf_counter() - began
    found = {member.user.id for member in hits}
    for text in ("newcomer", "renamed"):
        hits = await fresh.search_members(ORG, SearchQuery.parse(text), limit=10, exclude=None)
        found |= {member.user.id for member in hits}
    per = 100_000 / size
    return "\n".join(
        [
            f"#### Directory memory and first search ({size:,} members, in process)",
            "",
            f"- memory per 100k members: **{(warmed - start) * per / MIB:.1f} MiB** in all; "
            f"users, memberships and search keys {(loaded - start) * per / MIB:.1f} MiB, "
            f"typeahead index and member order {(warmed - loaded) * per / MIB:.1f} MiB "
            "(tracemalloc)",
            f"- index build at load time (`warm_search`): {built * 1000:.0f} ms; the first "
            f"typeahead after it: {first * 1000:.2f} ms (target ≤ 50 ms: "
            f"{'meets' if first <= 0.05 else '**misses**'})",
            f"- a member joins and another is renamed: both changes {changed * 1000:.2f} ms, "
            f"the next typeahead {after_change * 1000:.2f} ms (finds both by their new "
            f"names: {'yes' if {newcomer, renamed} <= found else '**no**'}; the index is "
            "kept up to date, not rebuilt)",
        ]
    )


async def run(sizes: tuple[int, ...] = (1_000, 100_000)) -> str:
    """Measure memory-adapter typeahead and paging at each size; ratios to the smallest."""
    figures: dict[str, list[Figure]] = {
        "typeahead": [],
        "selective typeahead": [],
        "members page": [],
    }
    query = SearchQuery.parse("ana")  # a first name shared by a tenth of the org
    selective = SearchQuery.parse("qzx")  # a surname prefix shared by a handful
    for size in sizes:
        directory = InMemoryDirectory()
        await populate(directory, size)
        figures["typeahead"].append(
            await measure(
                f"memory typeahead 'ana' @ {size:,}",
                lambda d=directory: d.search_members(ORG, query, limit=10, exclude=None),
                cap=200,
            )
        )
        figures["selective typeahead"].append(
            await measure(
                f"memory typeahead 'qzx' @ {size:,}",
                lambda d=directory: d.search_members(ORG, selective, limit=10, exclude=None),
            )
        )
        first = await directory.list_members(ORG, limit=100, after=None)
        after = first.next_after
        figures["members page"].append(
            await measure(
                f"memory members page 2 @ {size:,}",
                lambda d=directory, a=after: d.list_members(ORG, limit=100, after=a),
            )
        )
    growth = [
        report(f"Directory {kind} growth (baseline: {sizes[0]:,} members)", figs[0], figs[1:])
        for kind, figs in figures.items()
    ]
    return "\n\n".join([*growth, await memory_and_first_search(sizes[-1])])
