"""Typeahead and member pages over HTTP on a real PostgreSQL, at 1k and 100k members.

PostgreSQL is started as the test suites start it (tests/support/postgres_server.py:
initdb into a temp dir, free loopback port, fsync off). A 1k- and a 100k-member org are
loaded with the adapter's COPY loader (`copy_members`, timed: the seeding figure), then
`yc-chat serve` runs with DATABASE_URL on it and wrk loads the same typeahead and
member-page routes as the in-memory HTTP section, next to a bare Litestar hello measured
in this section. Both orgs live in the same tables: the indexes keep each org's queries to
its own rows. Beside req/s it gives the serving process's CPU per answer (from /proc),
which a busy shared machine distorts less than throughput. BENCH_POSTGRES=0 leaves it
out; without PostgreSQL it says so in one line.

`python -m bench.postgres_bench cpu [N]` gives instead the CPU per request in process at
100k members (the app's ASGI callable driven directly, as bench/request_cpu.py does for
the in-memory stores): the serving side alone, the steadiest figure on a busy machine.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

from tests.support import postgres as test_postgres
from tests.support.postgres_server import HOW, PostgresUnavailable, start_postgres

from bench import servers
from bench.directory_bench import bench_people
from bench.servers import HOST, WrkResult
from yc_chat.adapters.postgres import create_engine
from yc_chat.adapters.postgres.bulk import copy_members
from yc_chat.domain.model import Org, OrgId, User, UserId

JWT_SECRET = "bench-jwt-secret-" + "j" * 32
SIZES = {"1k": 1_000, "100k": 100_000}
QUERY = "ana"  # as in the HTTP section: a tenth of each org matches, answer of 10
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
CONNECTIONS = 8
WARM_UP = 40
TITLE = "## HTTP on PostgreSQL: typeahead and member pages with DATABASE_URL (same run)"


def org_id(label: str) -> OrgId:
    return OrgId(f"org-{label}")


def member_id(label: str, i: int) -> UserId:
    return UserId(f"p{label}-{i:06d}")


def people(label: str, size: int) -> list[tuple[User, str]]:
    """The members of org `label`, as the FerretDB section seeds them."""
    return [(user, "vet") for user in bench_people(size, lambda i: member_id(label, i))]


async def seed(url: str) -> dict[str, float]:
    """Both orgs, each loaded by COPY; seconds per org (keys computed and rows streamed)."""
    engine = create_engine(url)
    seconds = {}
    try:
        for label, size in SIZES.items():
            started = time.perf_counter()
            await copy_members(
                engine, Org(id=org_id(label), name=f"Bench {label}"), people(label, size)
            )
            seconds[label] = time.perf_counter() - started
        async with engine.begin() as conn:
            await conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
            await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    return seconds


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far, from /proc (0 where absent)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _timed_wrk(pid: int, cpu: dict[str, float], name: str, url: str, **kw: Any) -> WrkResult:
    """wrk on `url`; records the serving process's CPU µs per answer in `cpu`."""
    before = cpu_seconds(pid)
    result = await asyncio.to_thread(
        servers.run_wrk, name, url, seconds=SECONDS, connections=CONNECTIONS, **kw
    )
    if result.requests:
        cpu[name] = (cpu_seconds(pid) - before) / result.requests * 1e6
    return result


async def measure(url: str) -> tuple[dict[str, WrkResult], dict[str, float], dict[str, float]]:
    bare_port, serve_port = servers.free_port(), servers.free_port()
    base, bare = f"http://{HOST}:{serve_port}", f"http://{HOST}:{bare_port}"
    env = servers.clean_env({"JWT_SECRET": JWT_SECRET, "DATABASE_URL": url, "LOG_LEVEL": "INFO"})
    children = []
    figures: dict[str, WrkResult] = {}
    cpu: dict[str, float] = {}
    try:
        bare_app = servers.spawn(
            [sys.executable, "-m", "bench.bare_app", str(bare_port)],
            {**env, "BENCH_JWT_SECRET": JWT_SECRET, "BENCH_STREAM_SECRET": "s" * 32},
        )
        children.append(bare_app)
        await servers.wait_answering(bare + "/", bare_app, seconds=30)
        result = await _timed_wrk(bare_app.pid, cpu, "hello (bare Litestar)", bare + "/")
        figures[result.name] = result
        servers.stop(bare_app)
        seeded = await seed(url)
        serve = servers.spawn(
            [*servers.yc_chat_command(), "serve", "--host", HOST, "--port", str(serve_port)], env
        )
        children.append(serve)
        await servers.wait_answering(base + "/healthz", serve, seconds=90)
        for label in SIZES:
            figures.update(await _load_org(base, label, serve.pid, cpu))
    finally:
        for child in children:
            servers.stop(child)
    return figures, seeded, cpu


async def _load_org(base: str, label: str, pid: int, cpu: dict[str, float]) -> dict[str, WrkResult]:
    caller = servers.caller_token(member_id(label, 0), JWT_SECRET)
    headers = {"Authorization": f"Bearer {caller}"}
    search = f"{base}/api/orgs/{org_id(label)}/search?query={QUERY}&limit=10"
    members = f"{base}/api/orgs/{org_id(label)}/members?limit=100"
    figures = {}
    for name, url in ((f"typeahead @ {label}", search), (f"members page @ {label}", members)):
        # Warm (each pooled connection prepares its statements on first use), and fail
        # loudly on a wrong seed: the answer must not be empty.
        for _ in range(WARM_UP):
            answer = await asyncio.to_thread(servers.http, "GET", url, None, caller)
        assert b'"id"' in answer, answer[:300]
        result = await _timed_wrk(pid, cpu, f"postgres {name}", url, headers=headers)
        figures[result.name] = result
    return figures


def report(figures: dict[str, WrkResult], seeded: dict[str, float], cpu: dict[str, float]) -> str:
    lines = servers.wrk_table(figures, "hello (bare Litestar)")
    hello = cpu.get("hello (bare Litestar)")
    if hello:
        # CPU per answer of the serving process, which on a busy machine stays truer than
        # req/s: its ratio to hello's is what the req/s ratio tends to when that process is
        # the bottleneck (PostgreSQL and wrk have the other core).
        lines += [
            "",
            "| route | serving process CPU µs per answer | hello's ÷ this |",
            "|---|---:|---:|",
        ]
        lines += [f"| {name} | {us:,.0f} | {hello / us:.2f} |" for name, us in cpu.items()]
    small, large = figures["postgres typeahead @ 1k"], figures["postgres typeahead @ 100k"]
    growth = f"{large.p99_ms / small.p99_ms:.2f}x" if small.p99_ms and large.p99_ms else "n/a"
    lines += [
        "",
        f"- typeahead p99 growth 1k → 100k members: **{growth}** (target < 1.5x); "
        "both orgs in the same tables, every query an index range "
        "(tests/integration/test_postgres_query_plans.py)",
        "- seeded with COPY (`yc_chat.adapters.postgres.bulk.copy_members`, search keys "
        "computed in Python): "
        + ", ".join(f"{label} in {s:.1f} s" for label, s in seeded.items())
        + " (target: 100k under 20 s)",
        f"- wrk -t1 -c{CONNECTIONS} keep-alive on 127.0.0.1, {SECONDS:g} s per route; one "
        "`yc-chat serve` process (pool of 10 connections), PostgreSQL 15 in its own processes "
        "(fsync off, as in the tests)",
    ]
    return "\n".join(lines)


async def run() -> str:
    if os.environ.get("BENCH_POSTGRES", "1") == "0":
        return f"{TITLE}\n\nSkipped: BENCH_POSTGRES=0."
    try:
        server = await asyncio.to_thread(start_postgres)
    except PostgresUnavailable as exc:
        return f"{TITLE}\n\nSkipped: {exc}; {HOW}."
    try:
        url = await test_postgres.migrated_database(server.url)
        figures, seeded, cpu = await measure(url)
    finally:
        server.stop()
    return f"{TITLE}\n\n{report(figures, seeded, cpu)}"


async def in_process(url: str, n: int) -> str:
    """CPU per request in process at 100k members: the app's ASGI callable driven directly
    (bench/request_cpu.py's method) over the PostgreSQL directory and member reads, beside
    the bare hello: the serving side of a request without a server, wrk or the network."""
    from litestar.testing import AsyncTestClient

    from bench.bare_app import build as build_bare
    from bench.request_cpu import cpu_us
    from yc_chat import in_memory
    from yc_chat.adapters.postgres import open_postgres_stores
    from yc_chat.entrypoints.http import create_app
    from yc_chat.entrypoints.logs import configure_logging
    from yc_chat.entrypoints.settings import AuthSettings, HttpSettings, Settings

    null = open(os.devnull, "w")  # noqa: SIM115, ASYNC230 - the access log sink, once
    stderr, sys.stderr = sys.stderr, null
    try:
        configure_logging(level="INFO")
    finally:
        sys.stderr = stderr
    stores = await open_postgres_stores(url)
    settings = Settings(
        http=HttpSettings(
            auth=AuthSettings(jwt_secret=JWT_SECRET),
            webhook_secret="w" * 32,
            activation_interval_seconds=0,
            token_rate_limit=None,
            write_rate_limit=None,
        )
    )
    runtime = in_memory(
        settings,
        directory=stores.directory,
        directory_writer=stores.directory,
        member_reads=stores.member_reads,
    )
    app, bare = create_app(runtime), build_bare(JWT_SECRET, "s" * 40)
    org, caller = org_id("100k"), member_id("100k", 0)
    auth = [(b"authorization", f"Bearer {servers.caller_token(caller, JWT_SECRET)}".encode())]
    lines = ["| request (100k members, in process) | CPU µs | hello's ÷ this |", "|---|---:|---:|"]
    try:
        async with AsyncTestClient(app), AsyncTestClient(bare):  # the apps' lifespans
            hello = await cpu_us(bare, ("GET", "/", b"", [], b""), n)
            lines.append(f"| hello (bare Litestar) | {hello:.1f} | 1.00 |")
            for name, path, query in (
                ("typeahead", "search", f"query={QUERY}&limit=10"),
                ("members page", "members", "limit=100"),
            ):
                request = ("GET", f"/api/orgs/{org}/{path}", query.encode(), auth, b"")
                spent = await cpu_us(app, request, n)
                lines.append(f"| {name} | {spent:.1f} | {hello / spent:.2f} |")
    finally:
        await stores.close()
        null.close()
    return "\n".join(lines)


async def run_in_process(n: int) -> str:
    server = await asyncio.to_thread(start_postgres)
    try:
        url = await test_postgres.migrated_database(server.url)
        await seed(url)
        return await in_process(url, n)
    finally:
        server.stop()


if __name__ == "__main__":
    # `python -m bench.postgres_bench`: the make bench section; `... cpu [N]`: CPU per
    # request in process (best of 5 rounds of N, default 2000), steadier on a busy machine.
    if sys.argv[1:2] == ["cpu"]:
        print(asyncio.run(run_in_process(int(sys.argv[2]) if len(sys.argv) > 2 else 2000)))
    else:
        print(asyncio.run(run()))
