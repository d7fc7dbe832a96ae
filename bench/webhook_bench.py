"""Signed webhook ingest: the worker in the serving process, and in a process of its own.

Each variant is one `yc-chat serve` (uvicorn, uvloop, httptools) loaded by wrk (-t1,
keep-alive connections) with pre-signed `message.new` events, each sent once, next to the
bare Litestar hello of the same section, with the Stream emulator in its own process:

- PostgreSQL, worker in the serving process;
- PostgreSQL, `serve --no-worker` plus `yc-chat worker` in its own process (the shared
  store is what lets another process handle the events; in-memory stores cannot);
- with `python -m bench.webhook_bench memory`, also the memory store with the worker in
  the serving process (in `make bench` that is the HTTP section's webhook row).

"Every event handled" is checked, not printed: after the load the section waits until the
store says every recorded event is done (PostgreSQL: the inbox table; memory: the
service's metrics) and the verdict needs recorded ≥ acknowledged (wrk's answers; requests
in flight when wrk stops may be recorded without being counted), handled == recorded and
no error answer. Each variant also reports the CPU time its processes spent per answer,
which the shared cores disturb less than req/s. BENCH_POSTGRES=0 leaves PostgreSQL out.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from bench import servers
from bench.postgres_bench import cpu_seconds
from bench.servers import HOST, WrkResult

JWT_SECRET = "bench-jwt-secret-" + "j" * 32
STREAM_SECRET = "bench-stream-secret-" + "s" * 24
STREAM_KEY = "bench-key"
SECONDS = min(float(os.environ.get("BENCH_SECONDS", "4")), 2.0)  # handling must fit the bound
HELLO_SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
# PostgreSQL acknowledges and handles far slower: a shorter load keeps the drain bounded.
PG_SECONDS = min(SECONDS, 1.0)
# How the separate worker is started: niced, so that it yields the cores to serving.
WORKER_PRIORITY = ("nice", "-n", "10") if shutil.which("nice") else ()
# Signed events sent before the load (PostgreSQL: the pool's connections and prepared
# statements), left out of the counts.
WARM_UP = 128
WARM_PREFIX = "warm-"
CONNECTIONS = 32
RATE_CEILING = 15_000  # signed events prepared per second of load (never reused)
DRAIN_TIMEOUT = 120.0  # the PostgreSQL worker handles about 60-90 events/s on 2 shared cores
TARGET = 0.5
TITLE = "## HTTP: signed webhook ingest, worker in process and in its own process (same run)"

# Pre-signed events, one per line (id TAB signature TAB body), each sent once.
WEBHOOK_LUA = """
local events = {}
local next_event = 0
init = function(args)
  for line in io.lines(args[1]) do events[#events + 1] = line end
end
request = function()
  next_event = next_event + 1
  local line = events[((next_event - 1) % #events) + 1]
  local id, signature, body = line:match("([^\\t]*)\\t([^\\t]*)\\t(.*)")
  return wrk.format("POST", "/api/webhooks/stream", {
    ["Content-Type"] = "application/json", ["X-Signature"] = signature,
    ["X-Webhook-Id"] = id}, body)
end
"""


def fixture(now: datetime) -> dict[str, Any]:
    """One org, a vet and a pet owner, and one appointment whose chat the events go to."""
    return {
        "orgs": [{"id": "org-w", "name": "Bench webhooks"}],
        "users": [
            {"id": "owner-1", "name": "Sam Lee", "kind": "pet_owner"},
            {"id": "vet-1", "name": "Ana Vet", "email": "vet-1@bench.example", "kind": "staff"},
        ],
        "memberships": [{"orgId": "org-w", "userId": "vet-1", "role": "vet"}],
        "appointments": [
            {
                "id": "apt-1",
                "orgId": "org-w",
                "petOwnerId": "owner-1",
                "vetId": "vet-1",
                "startsAt": (now - timedelta(minutes=1)).isoformat(),
                "petName": "Rex",
                "petOwnerName": "Sam Lee",
            }
        ],
    }


def signed_events(path: Path, channel_id: str, count: int, prefix: str) -> None:
    """`count` distinct message.new events from the pet owner, signed like Stream's."""
    secret = STREAM_SECRET.encode()
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            body = json.dumps(
                {
                    "type": "message.new",
                    "channel_id": channel_id,
                    "channel_type": "messaging",
                    "message": {
                        "id": f"{prefix}m{n}",
                        "text": f"bench message {n}",
                        "user": {"id": "owner-1"},
                    },
                },
                separators=(",", ":"),
            )
            signature = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
            out.write(f"{prefix}{n}\t{signature}\t{body}\n")


async def loaded(name: str, url: str, pids: list[int], **wrk: Any) -> tuple[WrkResult, list[float]]:
    """wrk's figures and the CPU µs each process in `pids` spent per answer meanwhile.

    CPU per answer does not depend on what else the shared cores run, as req/s does."""
    before = [cpu_seconds(pid) for pid in pids]
    figure = await asyncio.to_thread(
        servers.run_wrk, name, url, seconds=wrk.pop("seconds"), connections=CONNECTIONS, **wrk
    )
    spent = [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
    return figure, [s / max(figure.requests, 1) * 1e6 for s in spent]


@attrs.frozen
class Ingest:
    """One variant's load and what became of the events it sent."""

    figure: WrkResult
    recorded: int
    handled: int
    drain_seconds: float
    # CPU µs per acknowledged event during the load: the serving process, then the worker's.
    cpu_us: list[float]

    @property
    def all_handled(self) -> bool:
        return (
            self.figure.errors == 0
            and self.recorded >= self.figure.requests
            and self.handled == self.recorded
        )


def _metric(text: str, prefix: str) -> int:
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(prefix) and not line.startswith("#")
        )
    )


async def _metrics_counts(base: str) -> tuple[int, int]:
    text = (await asyncio.to_thread(servers.http, "GET", base + "/metrics")).decode()
    # Less the warm-up's events (all recorded; handled before the load's, oldest first).
    return (
        _metric(text, "yc_chat_webhooks_received_total") - WARM_UP,
        _metric(text, "yc_chat_events_processed_total") - WARM_UP,
    )


async def _inbox_counts(url: str) -> tuple[int, int]:
    """(rows, done rows) of the PostgreSQL inbox: what was recorded and what is handled."""
    import sqlalchemy as sa

    from yc_chat.adapters.postgres import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                sa.text(
                    "SELECT count(*), count(*) FILTER (WHERE state = 'done') "
                    "FROM chat_webhook_inbox WHERE id NOT LIKE :warm"
                ),
                {"warm": WARM_PREFIX + "%"},
            )
            total, done = result.one()
    finally:
        await engine.dispose()
    return int(total), int(done)


async def _drain(counts: Any) -> tuple[int, int, float]:
    """(recorded, handled, seconds waited) once every recorded event is handled, or time's up."""
    started = time.perf_counter()
    while True:
        recorded, handled = await counts()
        waited = time.perf_counter() - started
        if recorded == handled or waited > DRAIN_TIMEOUT:
            return recorded, handled, waited
        await asyncio.sleep(0.2)


async def _open_chat(base: str) -> str:
    owner = servers.caller_token("owner-1", JWT_SECRET)
    opened = await asyncio.to_thread(
        servers.http, "POST", base + "/api/chat/channels", b'{"appointmentId": "apt-1"}', owner
    )
    channel: str = json.loads(opened)["channelId"]
    return channel


async def _load(
    name: str, base: str, tmp: Path, prefix: str, pids: list[int], seconds: float
) -> tuple[WrkResult, list[float]]:
    channel = await _open_chat(base)
    await asyncio.to_thread(_warm_up, base, channel)
    events, script = tmp / f"{prefix}events.tsv", tmp / "webhook.lua"
    signed_events(events, channel, int(RATE_CEILING * seconds), prefix)
    script.write_text(WEBHOOK_LUA, "utf-8")
    return await loaded(
        name, base + "/api/webhooks/stream", pids, seconds=seconds, script=script,
        script_args=[str(events)],
    )  # fmt: skip


def _warm_up(base: str, channel: str) -> None:
    """WARM_UP signed events, 16 at a time, each answered 200."""
    secret = STREAM_SECRET.encode()

    def send(n: int) -> None:
        body = json.dumps(
            {"type": "message.new", "channel_id": channel, "message": {"id": f"w{n}",
             "text": "warm", "user": {"id": "owner-1"}}}
        ).encode()  # fmt: skip
        request = urllib.request.Request(  # noqa: S310 - 127.0.0.1
            base + "/api/webhooks/stream", data=body, method="POST"
        )
        request.add_header("Content-Type", "application/json")
        request.add_header("X-Signature", hmac.new(secret, body, hashlib.sha256).hexdigest())
        request.add_header("X-Webhook-Id", f"{WARM_PREFIX}{n}")
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            assert answer.status == 200

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(send, range(WARM_UP)))


@attrs.frozen
class Stack:
    env: dict[str, str]
    tmp: Path
    stream_port: int


async def _variant(
    stack: Stack, name: str, *, database_url: str | None, separate_worker: bool, seconds: float
) -> Ingest:
    port = servers.free_port()
    base = f"http://{HOST}:{port}"
    env = dict(stack.env)
    serve_args = [*servers.yc_chat_command(), "serve", "--host", HOST, "--port", str(port)]
    fixture_file = stack.tmp / "fixture.json"
    if database_url is None:
        serve_args += ["--seed", str(fixture_file)]
    else:
        env["DATABASE_URL"] = database_url
        done = await asyncio.to_thread(
            subprocess.run,
            [*servers.yc_chat_command(), "seed", str(fixture_file)],
            env=env, cwd=servers.ROOT, capture_output=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"yc-chat seed failed: {done.stderr.decode()[-500:]}")
    if separate_worker:
        serve_args.append("--no-worker")
    children: list[subprocess.Popen[bytes]] = []
    try:
        serve = servers.spawn(serve_args, env)
        children.append(serve)
        if separate_worker:
            # At a lower CPU priority: on the bench's 2 shared cores a worker process otherwise
            # takes a core from serve, PostgreSQL and wrk; deployed, it runs on cores of its own.
            worker = [*WORKER_PRIORITY, *servers.yc_chat_command(), "worker"]
            children.append(servers.spawn(worker, env))
        await servers.wait_answering(base + "/healthz", serve, seconds=90)
        prefix = "pw-" if separate_worker else ("pi-" if database_url else "mi-")
        figure, cpu = await _load(name, base, stack.tmp, prefix, [c.pid for c in children], seconds)
        if database_url is None:
            recorded, handled, waited = await _drain(lambda: _metrics_counts(base))
        else:
            url = database_url
            recorded, handled, waited = await _drain(lambda: _inbox_counts(url))
    finally:
        for child in children:
            servers.stop(child)
    return Ingest(figure, recorded, handled, waited, cpu)


async def _hello(env: dict[str, str]) -> tuple[WrkResult, float]:
    port = servers.free_port()
    bare = servers.spawn(
        [sys.executable, "-m", "bench.bare_app", str(port)],
        {**env, "BENCH_JWT_SECRET": JWT_SECRET, "BENCH_STREAM_SECRET": STREAM_SECRET},
    )
    try:
        await servers.wait_answering(f"http://{HOST}:{port}/", bare, seconds=30)
        figure, [cpu] = await loaded(
            "hello (bare Litestar)", f"http://{HOST}:{port}/", [bare.pid], seconds=HELLO_SECONDS
        )
        return figure, cpu
    finally:
        servers.stop(bare)


@attrs.frozen
class Hello:
    figure: WrkResult
    cpu_us: float


async def measure(*, memory: bool) -> tuple[Hello, dict[str, Ingest], str]:
    """Hello, then each variant in turn, each PostgreSQL one on a fresh database."""
    stream_port = servers.free_port()
    env = servers.clean_env(
        {
            "JWT_SECRET": JWT_SECRET,
            "STREAM_API_KEY": STREAM_KEY,
            "STREAM_API_SECRET": STREAM_SECRET,
            "LOG_LEVEL": "INFO",
            "STREAM_BASE_URL": f"http://{HOST}:{stream_port}",
        }
    )
    results: dict[str, Ingest] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "fixture.json").write_text(json.dumps(fixture(datetime.now(UTC))), "utf-8")
        emulator = servers.spawn(
            [*servers.yc_chat_command(), "emulator", "--host", HOST, "--port", str(stream_port)],
            env,
        )
        try:
            await servers.wait_listening(stream_port, emulator, seconds=30)
            stack = Stack(env, tmp, stream_port)
            hello = Hello(*await _hello(env))
            if memory:
                name = "memory, worker in process"
                results[name] = await _variant(
                    stack, name, database_url=None, separate_worker=False, seconds=SECONDS
                )
            skipped = await _postgres_variants(stack, results)
        finally:
            servers.stop(emulator)
    return hello, results, skipped


async def _postgres_variants(stack: Stack, results: dict[str, Ingest]) -> str:
    """Both PostgreSQL variants on one throwaway server; why not, when they cannot run."""
    if os.environ.get("BENCH_POSTGRES", "1") == "0":
        return "BENCH_POSTGRES=0"
    from tests.support import postgres as test_postgres
    from tests.support.postgres_server import HOW, PostgresUnavailable, start_postgres

    try:
        server = await asyncio.to_thread(start_postgres)
    except PostgresUnavailable as exc:
        return f"{exc}; {HOW}"
    try:
        for name, separate in (
            ("postgres, worker in process", False),
            ("postgres, worker in its own process", True),
        ):
            url = await test_postgres.migrated_database(server.url)
            results[name] = await _variant(
                stack, name, database_url=url, separate_worker=separate, seconds=PG_SECONDS
            )
    finally:
        server.stop()
    return ""


def report(hello: Hello, results: dict[str, Ingest], skipped: str) -> str:
    base = hello.figure
    lines = [
        "| variant | req/s | × hello | p50 ms | p99 ms | errors | acknowledged | recorded "
        "| handled | drained after | CPU µs per answer: server (worker) | × hello by CPU "
        "| verdict (≥ 0.5x hello, every event handled) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| hello (bare Litestar) | {base.requests_per_second:,.0f} | 1.00 | "
        f"{base.p50_ms:.2f} | {base.p99_ms:.2f} | {base.errors} | | | | | "
        f"{hello.cpu_us:.0f} | 1.00 | |",
    ]
    for name, ingest in results.items():
        figure = ingest.figure
        ratio = figure.requests_per_second / base.requests_per_second
        met = ratio >= TARGET and ingest.all_handled
        why = "" if ingest.all_handled else " (not every event handled)"
        server_cpu, *worker_cpu = ingest.cpu_us
        cpu = f"{server_cpu:.0f}" + "".join(f" ({w:.0f})" for w in worker_cpu)
        lines.append(
            f"| {name} | {figure.requests_per_second:,.0f} | {ratio:.2f} | {figure.p50_ms:.2f} "
            f"| {figure.p99_ms:.2f} | {figure.errors} | {figure.requests:,} | "
            f"{ingest.recorded:,} | {ingest.handled:,} | {ingest.drain_seconds:.1f} s | {cpu} | "
            f"{hello.cpu_us / server_cpu:.2f} | {'meets' if met else '**misses**'}{why} |"
        )
    lines += [
        "",
        f"- wrk -t1 -c{CONNECTIONS}, distinct signed `message.new` events, each sent once "
        f"({SECONDS:g} s in memory, {PG_SECONDS:g} s on PostgreSQL, after {WARM_UP} signed "
        f"events to warm up, left out of the counts; hello {HELLO_SECONDS:g} s), "
        "keep-alive, 127.0.0.1; access log on (INFO); the Stream emulator in its own "
        "process; PostgreSQL 15 in its own (fsync off, as in the tests), a fresh database "
        "per variant; the worker in process is the one `yc-chat serve` runs, the other "
        "`yc-chat worker` (niced by 10: it would otherwise take a core from serving) beside "
        "`serve --no-worker`; the memory store with the worker in "
        "process is the HTTP section's webhook row",
        "- acknowledged: wrk's answers within its time; recorded: the inbox's events (with "
        "those in flight when wrk stopped); handled: done in the inbox, waited for after "
        "the load (drained after)",
        "- CPU µs per answer: CPU time the serving process (and a separate worker) used "
        "during the load, per acknowledged event, from /proc; × hello by CPU is hello's CPU "
        "per answer over the server's: what the ratio would be if the server's own CPU were "
        "all that limited it (the shared cores make req/s ratios noisy, CPU per answer less)",
    ]
    if skipped:
        lines.append(f"- PostgreSQL variants skipped: {skipped}")
    return "\n".join(lines)


async def run(*, memory: bool = False) -> str:
    """The section. `make bench` leaves the memory variant to the HTTP section's webhook row
    (the same figure); `python -m bench.webhook_bench memory` adds it here."""
    hello, results, skipped = await measure(memory=memory)
    return f"{TITLE}\n\n{report(hello, results, skipped)}"


if __name__ == "__main__":
    print(asyncio.run(run(memory="memory" in sys.argv[1:])))
