"""Typeahead and member pages over HTTP on the real MongoDB-wire server (FerretDB).

FerretDB (built by `make ferretdb`, started as the test suites start it: free loopback
port, throwaway SQLite dir under .build/) gets a 1k- and a 100k-member org, written with
pymongo `insert_many` in the documents' shape the Beanie adapter writes (the adapter's
own per-user writer would take minutes for 100k). `yc-chat serve` then runs with
MONGODB_URI on it, and wrk loads the same typeahead and member-page routes as the
in-memory HTTP section, next to a bare Litestar hello measured in the same section.

FerretDB 1.x over SQLite scans the whole table for these queries (see
tests/integration/test_beanie_query_plans.py), so its 100k figures are poor by
construction. It adds about 80 s to `make bench`; BENCH_FERRETDB=0 leaves it out, and
without a FerretDB build it says it was skipped in one line.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

from pymongo import AsyncMongoClient
from tests.support import servers as test_servers

from bench import servers
from bench.directory_bench import bench_people
from bench.servers import HOST, WrkResult
from yc_chat.adapters.beanie import MongoStores, open_mongo_stores
from yc_chat.adapters.beanie.directory import search_fields
from yc_chat.adapters.beanie.documents import MembershipDocument, UserDocument
from yc_chat.domain.model import Org, OrgId, UserId

JWT_SECRET = "bench-jwt-secret-" + "j" * 32
DATABASE = "yc_chat_bench"
SIZES = {"1k": 1_000, "100k": 100_000}
QUERY = "ana"  # as in the HTTP section: a tenth of each org matches, answer of 10
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
# Few connections: a 100k scan takes long enough that 32 queued requests would time out.
CONNECTIONS = 4
BATCH = 5_000
TITLE = "## HTTP on FerretDB: typeahead and member pages with MONGODB_URI (same run)"


def org_id(label: str) -> OrgId:
    return OrgId(f"org-{label}")


def member_id(label: str, i: int) -> UserId:
    return UserId(f"f{label}-{i:06d}")


def documents(label: str, size: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The users and memberships of org `label`, as UserDocument / MembershipDocument store them."""
    users: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    for user in bench_people(size, lambda i: member_id(label, i)):
        uid = user.id
        users.append(
            {"_id": uid, "name": user.name, "kind": user.kind.value, "email": user.email,
             "image": None}
        )  # fmt: skip
        members.append(
            {"orgId": org_id(label), "userId": uid, "role": "vet", **search_fields(user)}
        )
    return users, members


async def seed(stores: MongoStores, label: str, size: int) -> None:
    """Org `label` with `size` members, written in bulk (the org itself by the adapter)."""
    await stores.directory.put_org(Org(id=org_id(label), name=f"Bench {label}"))
    users, members = documents(label, size)
    for document, rows in ((UserDocument, users), (MembershipDocument, members)):
        collection = document.get_pymongo_collection()
        for start in range(0, len(rows), BATCH):
            await collection.insert_many(rows[start : start + BATCH], ordered=False)


# Per size: wrk connections, seconds and request timeout. At 100k one request scans the
# collection several times (seconds each), so one connection for longer, with a timeout
# no request reaches, gives a few honest samples instead of none.
LOADS = {"1k": (CONNECTIONS, SECONDS, 10.0), "100k": (1, 5 * SECONDS, 120.0)}


async def _seed(uri: str, label: str) -> float:
    started = time.perf_counter()
    client: AsyncMongoClient[Any] = AsyncMongoClient(uri, tz_aware=True)
    try:
        async with await open_mongo_stores(client, DATABASE) as stores:
            await seed(stores, label, SIZES[label])
    finally:
        await client.close()
    return time.perf_counter() - started


async def measure(uri: str) -> tuple[dict[str, WrkResult], dict[str, float]]:
    """Each size measured with only its org in the collections (FerretDB scans them all)."""
    bare_port, serve_port = servers.free_port(), servers.free_port()
    base, bare = f"http://{HOST}:{serve_port}", f"http://{HOST}:{bare_port}"
    env = servers.clean_env(
        {
            "JWT_SECRET": JWT_SECRET,
            "MONGODB_URI": uri,
            "DATABASE_NAME": DATABASE,
            "LOG_LEVEL": "INFO",
        }
    )
    children = []
    figures: dict[str, WrkResult] = {}
    seeded: dict[str, float] = {}
    try:
        bare_app = servers.spawn(
            [sys.executable, "-m", "bench.bare_app", str(bare_port)],
            {**env, "BENCH_JWT_SECRET": JWT_SECRET, "BENCH_STREAM_SECRET": "s" * 32},
        )
        children.append(bare_app)
        await servers.wait_answering(bare + "/", bare_app, seconds=30)
        result = await asyncio.to_thread(
            servers.run_wrk, "hello (bare Litestar)", bare + "/", seconds=SECONDS,
            connections=CONNECTIONS,
        )  # fmt: skip
        figures[result.name] = result
        servers.stop(bare_app)
        for label in SIZES:
            if label == "100k":
                await _drop(uri, org_id("1k"))
            seeded[label] = await _seed(uri, label)
            if len(children) == 1:
                serve = servers.spawn(
                    [*servers.yc_chat_command(), "serve", "--host", HOST, "--port",
                     str(serve_port)],
                    env,
                )  # fmt: skip
                children.append(serve)
                await servers.wait_answering(base + "/healthz", serve, seconds=90)
            figures.update(await _load_org(base, label))
    finally:
        for child in children:
            servers.stop(child)
    return figures, seeded


async def _drop(uri: str, org: OrgId) -> None:
    """Take an org's members out again, so the next size's collections hold only its own."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(uri, tz_aware=True)
    try:
        database = client[DATABASE]
        memberships = MembershipDocument.Settings.name
        users = [m["userId"] async for m in database[memberships].find({"orgId": org})]
        await database[memberships].delete_many({"orgId": org})
        await database[UserDocument.Settings.name].delete_many({"_id": {"$in": users}})
    finally:
        await client.close()


async def _load_org(base: str, label: str) -> dict[str, WrkResult]:
    connections, seconds, timeout = LOADS[label]
    caller = servers.caller_token(member_id(label, 0), JWT_SECRET)
    headers = {"Authorization": f"Bearer {caller}"}
    search = f"{base}/api/orgs/{org_id(label)}/search?query={QUERY}&limit=10"
    members = f"{base}/api/orgs/{org_id(label)}/members?limit=100"
    figures = {}
    for name, url in ((f"typeahead @ {label}", search), (f"members page @ {label}", members)):
        if label == "1k":  # warm; fails loudly on a wrong seed (at 100k too slow to repeat)
            await asyncio.to_thread(servers.http, "GET", url, None, caller)
        result = await asyncio.to_thread(
            servers.run_wrk, f"ferretdb {name}", url, seconds=seconds, connections=connections,
            headers=headers, timeout=timeout,
        )  # fmt: skip
        figures[result.name] = result
    return figures


def report(figures: dict[str, WrkResult], seeded: dict[str, float]) -> str:
    lines = servers.wrk_table(figures, "hello (bare Litestar)")
    small, large = figures["ferretdb typeahead @ 1k"], figures["ferretdb typeahead @ 100k"]
    growth = f"{large.p99_ms / small.p99_ms:.1f}x" if small.p99_ms and large.p99_ms else "n/a"
    lines += [
        "",
        f"- typeahead p99 growth 1k → 100k members: **{growth}**; FerretDB 1.24 over SQLite "
        "scans the whole collection for these queries (no index scans), so cost grows with "
        "the org; a real MongoDB serves them from the declared indexes",
        "- seeded with pymongo insert_many in the adapter's document shape: "
        + ", ".join(f"{label} in {s:.1f} s" for label, s in seeded.items()),
        "- wrk -t1 keep-alive on 127.0.0.1: "
        + "; ".join(f"{label}: -c{c}, {s:g} s per route" for label, (c, s, _) in LOADS.items())
        + "; each size measured with only its own org in the collections; one `yc-chat "
        "serve` process, FerretDB in its own (throwaway SQLite dir)",
    ]
    return "\n".join(lines)


async def run() -> str:
    if os.environ.get("BENCH_FERRETDB", "1") == "0":
        return f"{TITLE}\n\nSkipped: BENCH_FERRETDB=0."
    try:
        server = test_servers.start_ferretdb()
    except test_servers.ServerUnavailable as exc:
        return f"{TITLE}\n\nSkipped: {exc}; {test_servers.FERRETDB_HOW}."
    try:
        figures, seeded = await measure(server.url)
    finally:
        server.stop()
    return f"{TITLE}\n\n{report(figures, seeded)}"


if __name__ == "__main__":
    print(asyncio.run(run()))
