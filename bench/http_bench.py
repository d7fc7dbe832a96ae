"""The HTTP service at its stack's speed: `yc-chat serve` against a bare Litestar app.

Both run on 127.0.0.1, on free ports, on the same server stack (uvicorn, uvloop,
httptools, one process each), with the Stream emulator in a process of its own (as Stream
is not in the service's process in production). wrk (-t1, keep-alive connections, its own
process) loads one route at a time for a bounded time: first the bare app's hello and
crypto-only routes (verify the caller's HS256 JWT, sign a Stream token), then the service's
/healthz, token, typeahead and member pages on seeded 1k- and 100k-member orgs, and signed
webhook ingestion. Access logs stay on (INFO, to /dev/null). Every figure is a ratio to the
hello route of the same run; the token is also a ratio to crypto-only.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import random
import string
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from bench import servers
from bench.directory_bench import FIRST
from bench.servers import HOST, WrkResult

JWT_SECRET = "bench-jwt-secret-" + "j" * 32
STREAM_SECRET = "bench-stream-secret-" + "s" * 24
STREAM_KEY = "bench-key"
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
# Shorter: the worker then needs far longer to handle what was ingested, within the bound.
WEBHOOK_SECONDS = min(SECONDS, 2.0)
CONNECTIONS = 32
SIZES = {"1k": 1_000, "100k": 100_000}
QUERY = "ana"  # a first name a tenth of each org shares: many matches, answer of 10
WEBHOOK_RATE_CEILING = 15_000  # signed events prepared per second of load (never reused)
DRAIN_TIMEOUT = 60.0
FIRST_TYPEAHEAD_TARGET_MS = 50.0


@attrs.frozen
class Target:
    ratio_to_hello: float
    note: str


TARGETS = {
    "GET /healthz": Target(0.6, "≥ 0.6x hello"),
    "POST /api/chat/token": Target(0.3, "≥ 0.3x hello, ≥ 0.8x crypto-only"),
    "typeahead @ 100k": Target(0.3, "≥ 0.3x hello, p99 growth < 1.5x"),
    "members page @ 100k": Target(0.3, "≥ 0.3x hello"),
    "signed webhook ingest": Target(0.5, "≥ 0.5x hello, every event handled"),
}


def _member_id(size: str, i: int) -> str:
    return f"m{size}-{i:06d}"


def _fixture(now: datetime) -> dict[str, Any]:
    """Two orgs (1k and 100k members, names as in directory_bench) and one open chat."""
    rng = random.Random(7)
    users: list[dict[str, Any]] = [{"id": "owner-1", "name": "Sam Lee", "kind": "pet_owner"}]
    memberships: list[dict[str, str]] = []
    orgs = []
    for label, size in SIZES.items():
        org = f"org-{label}"
        orgs.append({"id": org, "name": f"Bench {label}"})
        for i in range(size):
            uid = _member_id(label, i)
            last = "".join(rng.choices(string.ascii_lowercase, k=7)).title()
            users.append(
                {
                    "id": uid,
                    "name": f"{rng.choice(FIRST)} {last}",
                    "email": f"{uid}@bench.example",
                    "kind": "staff",
                }
            )
            memberships.append({"orgId": org, "userId": uid, "role": "vet"})
    appointment = {
        "id": "apt-1",
        "orgId": "org-1k",
        "petOwnerId": "owner-1",
        "vetId": _member_id("1k", 0),
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
        "petName": "Rex",
        "petOwnerName": "Sam Lee",
    }
    return {"orgs": orgs, "users": users, "memberships": memberships, "appointments": [appointment]}


def _bearer(user_id: str) -> str:
    return servers.caller_token(user_id, JWT_SECRET)


_POST_JSON = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
"""

# Pre-signed events, one per line (id TAB signature TAB body), each sent once.
_WEBHOOK_LUA = """
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


def _signed_events(path: Path, channel_id: str, count: int) -> None:
    secret = STREAM_SECRET.encode()
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            body = json.dumps(
                {
                    "type": "message.new",
                    "channel_id": channel_id,
                    "channel_type": "messaging",
                    "message": {
                        "id": f"m{n}",
                        "text": f"bench message {n}",
                        "user": {"id": "owner-1"},
                    },
                },
                separators=(",", ":"),
            )
            signature = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
            out.write(f"bench-{n}\t{signature}\t{body}\n")


def _metric(text: str, prefix: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefix) and not line.startswith("#")
    )


async def _drained(base: str) -> tuple[float, float, float]:
    """(events recorded, handled, seconds waited) once all are handled or time is up."""
    started = time.perf_counter()
    while True:
        text = (await asyncio.to_thread(servers.http, "GET", base + "/metrics")).decode()
        received = _metric(text, "yc_chat_webhooks_received_total")
        processed = _metric(text, "yc_chat_events_processed_total")
        waited = time.perf_counter() - started
        if received == processed or waited > DRAIN_TIMEOUT:
            return received, processed, waited
        await asyncio.sleep(0.2)


@attrs.frozen
class Run:
    figures: dict[str, WrkResult]
    webhook_sent: int
    webhook_recorded: float
    webhook_handled: float
    drain_seconds: float
    first_typeahead_ms: float


async def measure() -> Run:
    """Start everything, load every route in turn, stop everything."""
    bare_port, serve_port, stream_port = (servers.free_port() for _ in range(3))
    base = f"http://{HOST}:{serve_port}"
    bare = f"http://{HOST}:{bare_port}"
    env = servers.clean_env(
        {
            "JWT_SECRET": JWT_SECRET,
            "STREAM_API_KEY": STREAM_KEY,
            "STREAM_API_SECRET": STREAM_SECRET,
            "LOG_LEVEL": "INFO",
            # A budget no run reaches: the check itself still runs on every token request.
            "TOKEN_RATE_LIMIT": "100000000/minute",
            "STREAM_BASE_URL": f"http://{HOST}:{stream_port}",
        }
    )
    figures: dict[str, WrkResult] = {}
    children = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "fixture.json").write_text(json.dumps(_fixture(datetime.now(UTC))), "utf-8")
        try:
            bare_app = servers.spawn(
                [sys.executable, "-m", "bench.bare_app", str(bare_port)],
                {**env, "BENCH_JWT_SECRET": JWT_SECRET, "BENCH_STREAM_SECRET": STREAM_SECRET},
            )
            emulator = servers.spawn(
                [
                    *servers.yc_chat_command(),
                    "emulator",
                    "--host",
                    HOST,
                    "--port",
                    str(stream_port),
                ],
                env,
            )
            serve = servers.spawn(
                [
                    *servers.yc_chat_command(),
                    "serve",
                    "--host",
                    HOST,
                    "--port",
                    str(serve_port),
                    "--seed",
                    str(tmp / "fixture.json"),
                ],
                env,
            )
            children = [bare_app, emulator, serve]
            await servers.wait_listening(stream_port, emulator, seconds=30)
            await servers.wait_answering(bare + "/", bare_app, seconds=30)
            await servers.wait_answering(base + "/healthz", serve, seconds=90)
            first_ms = await _first_typeahead_ms(base)
            figures.update(await _load_all(tmp, bare, base))
            sent = figures["signed webhook ingest"].requests
            recorded, handled, drain = await _drained(base)
        finally:
            for child in children:
                servers.stop(child)
    return Run(
        figures,
        webhook_sent=sent,
        webhook_recorded=recorded,
        webhook_handled=handled,
        drain_seconds=drain,
        first_typeahead_ms=first_ms,
    )


async def _first_typeahead_ms(base: str) -> float:
    """The very first search of the freshly started 100k-member org, one request, in ms."""
    url = f"{base}/api/orgs/org-100k/search?query={QUERY}&limit=10"
    token = _bearer(_member_id("100k", 0))
    began = time.perf_counter()
    await asyncio.to_thread(servers.http, "GET", url, None, token)
    return (time.perf_counter() - began) * 1000


async def _load_all(tmp: Path, bare: str, base: str) -> dict[str, WrkResult]:
    caller = {label: _member_id(label, 0) for label in SIZES}
    token_1k = _bearer(caller["1k"])
    auth = {"Authorization": f"Bearer {token_1k}"}
    post_token = tmp / "token.lua"
    post_token.write_text(_POST_JSON.format(body=json.dumps({"userId": caller["1k"]})), "utf-8")
    figures: dict[str, WrkResult] = {}

    def load(name: str, url: str, seconds: float = SECONDS, **kw: Any) -> Callable[[], WrkResult]:
        return lambda: servers.run_wrk(name, url, seconds=seconds, connections=CONNECTIONS, **kw)

    # Warm every route once (lazy indexes, the first token's profile upsert).
    servers.http(
        "POST", base + "/api/chat/token", json.dumps({"userId": caller["1k"]}).encode(), token_1k
    )
    owner = _bearer("owner-1")
    opened = servers.http("POST", base + "/api/chat/channels", b'{"appointmentId": "apt-1"}', owner)
    chat = json.loads(opened)
    plan: list[Callable[[], WrkResult]] = [
        load("hello (bare Litestar)", bare + "/"),
        load("crypto-only (bare Litestar)", bare + "/crypto", script=post_token, headers=auth),
        load("GET /healthz", base + "/healthz"),
        load("POST /api/chat/token", base + "/api/chat/token", script=post_token, headers=auth),
    ]
    for label in SIZES:
        headers = {"Authorization": f"Bearer {_bearer(caller[label])}"}
        search = f"{base}/api/orgs/org-{label}/search?query={QUERY}&limit=10"
        members = f"{base}/api/orgs/org-{label}/members?limit=100"
        for url in (search, members):
            servers.http("GET", url, token=_bearer(caller[label]))
        plan.append(load(f"typeahead @ {label}", search, headers=headers))
        plan.append(load(f"members page @ {label}", members, headers=headers))
    events = tmp / "events.tsv"
    _signed_events(events, chat["channelId"], int(WEBHOOK_RATE_CEILING * WEBHOOK_SECONDS))
    webhook_lua = tmp / "webhook.lua"
    webhook_lua.write_text(_WEBHOOK_LUA, "utf-8")
    plan.append(
        load(
            "signed webhook ingest",
            base + "/api/webhooks/stream",
            seconds=WEBHOOK_SECONDS,
            script=webhook_lua,
            script_args=[str(events)],
        )
    )
    for step in plan:
        result = await asyncio.to_thread(step)
        figures[result.name] = result
    return figures


def report(run: Run) -> str:
    """The markdown section: every figure, its ratio, the targets and verdicts."""
    figures = run.figures
    hello = figures["hello (bare Litestar)"].requests_per_second
    lines = [
        "| route | req/s | × hello | p50 ms | p99 ms | errors | target | verdict |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    verdicts = {}
    growth = figures["typeahead @ 100k"].p99_ms / figures["typeahead @ 1k"].p99_ms
    token_to_crypto = (
        figures["POST /api/chat/token"].requests_per_second
        / figures["crypto-only (bare Litestar)"].requests_per_second
    )
    # wrk counts the answers that arrived within its time; requests still in flight when
    # it stops may be recorded too, so recorded >= acknowledged, and all of them handled.
    events_ok = (
        run.webhook_recorded >= run.webhook_sent
        and run.webhook_handled == run.webhook_recorded
        and figures["signed webhook ingest"].errors == 0
    )
    for name, figure in figures.items():
        ratio = figure.requests_per_second / hello
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            met = ratio >= target.ratio_to_hello
            if name == "POST /api/chat/token":
                met = met and token_to_crypto >= 0.8
            if name == "typeahead @ 100k":
                met = met and growth < 1.5
            if name == "signed webhook ingest":
                met = met and events_ok
            verdict = "meets" if met else "**misses**"
            verdicts[name] = met
        lines.append(
            f"| {name} | {figure.requests_per_second:,.0f} | {ratio:.2f} | "
            f"{figure.p50_ms:.2f} | {figure.p99_ms:.2f} | {figure.errors} | "
            f"{target.note if target else ''} | {verdict} |"
        )
    lines += [
        "",
        f"- first typeahead of the freshly started 100k-member org (one request, before "
        f"any other): **{run.first_typeahead_ms:.1f} ms** (target ≤ 50 ms: "
        f"{'meets' if run.first_typeahead_ms <= FIRST_TYPEAHEAD_TARGET_MS else '**misses**'})",
        f"- token ÷ crypto-only: **{token_to_crypto:.2f}** (target ≥ 0.8)",
        f"- typeahead p99 growth 1k → 100k members: **{growth:.2f}x** (target < 1.5x); "
        f"query `{QUERY}` matches about a tenth of each org, limit 10",
        f"- webhooks: {run.webhook_sent:,} acknowledged within the run, "
        f"{run.webhook_recorded:,.0f} recorded (with those in flight at its end), "
        f"{run.webhook_handled:,.0f} handled {run.drain_seconds:.1f} s after the load ended",
        f"- wrk -t1 -c{CONNECTIONS}, {SECONDS:g} s per route ({WEBHOOK_SECONDS:g} s of "
        "webhooks, so that handling them all fits the bound), keep-alive, 127.0.0.1; one "
        "server process each; access log on (INFO)",
    ]
    return "\n".join(lines)


async def run() -> str:
    return "## HTTP: `yc-chat serve` against a bare Litestar app (same stack, same run)\n\n" + (
        report(await measure())
    )
