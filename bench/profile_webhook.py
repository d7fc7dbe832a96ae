"""Where a signed webhook's time goes in the serving process (issue 22).

Runs the real app in process (in-memory inbox, the in-process Stream simulation, access
log on at INFO as `serve` writes it, into /dev/null) and drives its ASGI callable directly,
32 requests in flight at a time as wrk does, with no server or client in the profile,
under cProfile:

- `request path`: the worker off (as in `serve --no-worker` with `yc-chat worker` in its
  own process): what acknowledging an event costs;
- `worker in process`: the same load with the app's own worker running beside it, then
  until every event is handled: what the worker takes from the same event loop.

Prints the time per request, the share of each area and the top functions. Compare with
`GET /healthz` (the same pipeline, no body, no work) driven the same way.

    .venv/bin/python -m bench.profile_webhook [N]
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import hashlib
import hmac
import io
import json
import os
import pstats
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import attrs

from bench import servers
from bench.profile_request import _call
from bench.webhook_bench import JWT_SECRET, STREAM_SECRET, fixture
from yc_chat import in_memory
from yc_chat.domain.inbox import InboxState
from yc_chat.entrypoints.fixture import parse_fixture
from yc_chat.entrypoints.http import create_app
from yc_chat.entrypoints.logs import configure_logging
from yc_chat.entrypoints.settings import AuthSettings, HttpSettings, Settings, WorkerSettings

IN_FLIGHT = 32
PENDING, PROCESSING = InboxState.PENDING, InboxState.PROCESSING
# Outermost frames of each area, cumulative time (never counted twice).
AREAS = {
    "signature (HMAC-SHA256, hex compare)": ("signature_valid",),
    "JSON depth check": ("refuse_deep_json",),
    "event type and identity (JSON parse)": ("identify",),
    "durable write (the inbox's record)": ("inbox.py:record",),
    "logging (the access line, the handler's line)": ("logging/__init__.py", "logs.py"),
    "request id (uuid4)": ("uuid.py:uuid4",),
    "worker passes (lease, handle, push, complete)": ("background.py:step",),
}


def _events(n: int, channel_id: str) -> list[tuple[str, bytes, str]]:
    secret = STREAM_SECRET.encode()
    out = []
    for i in range(n):
        body = json.dumps(
            {
                "type": "message.new",
                "channel_id": channel_id,
                "channel_type": "messaging",
                "message": {"id": f"p{i}", "text": f"bench {i}", "user": {"id": "owner-1"}},
            },
            separators=(",", ":"),
        ).encode()
        out.append((f"p-{i}", body, hmac.new(secret, body, hashlib.sha256).hexdigest()))
    return out


def _areas(stats: pstats.Stats) -> dict[str, float]:
    raw = stats.stats  # type: ignore[attr-defined]
    total = dict.fromkeys(AREAS, 0.0)
    for (filename, _, function), (_, _, _, cumulative, callers) in raw.items():
        where = f"{filename}:{function}"
        for name, parts in AREAS.items():
            if any(part in where or part == function for part in parts):
                inside = any(
                    any(part in f"{c[0]}:{c[2]}" or part == c[2] for part in parts) for c in callers
                )
                if not inside:
                    total[name] += cumulative
    return total


@contextlib.asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    """The app's ASGI lifespan run in the current event loop (a test client would run it in a
    thread of its own, and the worker with it, out of the profile)."""
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)
    )
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


async def _get(app: Any, path: str) -> int:
    return await _call(app, "GET", path, b"", [], b"")


async def _answer(app: Any, path: str, body: bytes, headers: list[Any]) -> bytes:
    """The body of one POST answered by the app (200 expected)."""
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "root_path": "",
    }  # fmt: skip
    await app(scope, receive, send)
    return b"".join(chunks)


@attrs.frozen
class Variant:
    label: str
    worker: bool


async def _profile(variant: Variant, n: int) -> str:
    settings = Settings(
        http=HttpSettings(
            auth=AuthSettings(jwt_secret=JWT_SECRET),
            webhook_secret=STREAM_SECRET,
            activation_interval_seconds=0,
        ),
        worker=WorkerSettings(enabled=variant.worker),
    )
    runtime = in_memory(settings)
    await runtime.load(parse_fixture(fixture(datetime.now(UTC))))
    app = create_app(runtime)
    async with _lifespan(app):  # in this event loop, so the worker shares it
        owner = servers.caller_token("owner-1", JWT_SECRET)
        opened = await _answer(
            app,
            "/api/chat/channels",
            b'{"appointmentId": "apt-1"}',
            [(b"authorization", f"Bearer {owner}".encode())],
        )
        events = _events(2 * n, json.loads(opened)["channelId"])

        async def one(event: tuple[str, bytes, str]) -> int:
            event_id, body, signature = event
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
                (b"x-signature", signature.encode()),
                (b"x-webhook-id", event_id.encode()),
            ]
            return await _call(app, "POST", "/api/webhooks/stream", b"", headers, body)

        async def flood(batch: list[tuple[str, bytes, str]]) -> float:
            """CPU seconds of the process until every event of `batch` is acknowledged."""
            began = time.process_time()
            statuses = []
            for at in range(0, len(batch), IN_FLIGHT):
                statuses += await asyncio.gather(*(one(e) for e in batch[at : at + IN_FLIGHT]))
            assert set(statuses) == {200}, set(statuses)
            return time.process_time() - began

        async def drained() -> float:
            began = time.perf_counter()
            while variant.worker:
                counts = await runtime.ports.inbox.counts()
                if not any(counts.get(state, 0) for state in (PENDING, PROCESSING)):
                    break
                await asyncio.sleep(0.05)
            return time.perf_counter() - began

        healthz = [await _get(app, "/healthz") for _ in range(IN_FLIGHT)]
        assert set(healthz) == {200}
        began = time.process_time()
        for _ in range(n // IN_FLIGHT):
            await asyncio.gather(*(_get(app, "/healthz") for _ in range(IN_FLIGHT)))
        healthz_us = (time.process_time() - began) / (n // IN_FLIGHT * IN_FLIGHT) * 1e6
        plain_us = await flood(events[:n]) / n * 1e6
        await drained()
        # CPU time: other processes on a shared machine do not inflate what they preempt.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        await flood(events[n:])
        profiler.disable()
        drain = await drained()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    lines = [
        f"### {variant.label}: {n} webhooks, {IN_FLIGHT} in flight",
        "",
        f"- CPU per acknowledged webhook: {plain_us:.0f} µs without the profiler "
        f"(GET /healthz driven the same way: {healthz_us:.0f} µs)"
        + (
            f"; the rest handled {drain:.2f} s after the last acknowledgement"
            if variant.worker
            else ""
        ),
        "- shares of the profiled acknowledging time:",
    ]
    for name, seconds in _areas(stats).items():
        lines.append(f"  - {name}: {seconds / total:.0%}")
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(14)
    top = [line for line in text.getvalue().splitlines() if line.strip()][-15:]
    lines += ["", "```", *top, "```", ""]
    return "\n".join(lines)


async def profile(n: int) -> str:
    out = []
    for variant in (
        Variant("request path (worker off)", False),
        Variant("worker in process", True),
    ):
        out.append(await _profile(variant, n))
    return "\n".join(out)


def main() -> None:
    # The access log as `yc-chat serve` writes it (JSON lines on its handler), into /dev/null.
    with open(os.devnull, "w") as null:
        stderr, sys.stderr = sys.stderr, null
        try:
            configure_logging(level="INFO")
        finally:
            sys.stderr = stderr
        n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
        print(asyncio.run(profile(n)))


if __name__ == "__main__":
    main()
