"""Webhook ingestion: signed `POST /api/webhooks/stream` against a trivial endpoint, same run.

A real `yc-chat serve` process (in-memory stores, its worker draining the inbox in
parallel) on 127.0.0.1, talking to the Stream emulator in a process of its own (`yc-chat
emulator`), as it would talk to Stream: the emulator's own work does not count against the
service, as Stream's does not in production. Keep-alive connections send requests for a
bounded time: first `GET /healthz` (the "hello" baseline: the same stack, no work), then
signed `message.new` events with unique ids. Afterwards the run waits for the worker to
finish and checks from `/metrics` that every acknowledged event was recorded and handled.
Target: ingestion at least 0.3x the baseline's throughput, p99 far below Stream's timeout.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from bench.harness import Figure, report

HOST = "127.0.0.1"
JWT_SECRET = "bench-jwt-secret-" + "j" * 32
STREAM_SECRET = "bench-stream-secret-" + "s" * 24
STREAM_KEY = "bench-key"
CONCURRENCY = 16
SECONDS = 3.0
CAP = 30_000  # requests per phase, whatever the speed: the run stays bounded
DRAIN_TIMEOUT = 120.0
TARGET_RATIO = 0.3


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _fixture(now: datetime) -> dict[str, object]:
    return {
        "orgs": [{"id": "org-1", "name": "Bench Clinic"}],
        "users": [
            {"id": "vet-1", "name": "Dr. Ana Núñez", "kind": "staff"},
            {"id": "owner-1", "name": "Sam Lee", "kind": "pet_owner"},
        ],
        "memberships": [{"orgId": "org-1", "userId": "vet-1", "role": "vet"}],
        "appointments": [
            {"id": "apt-1", "orgId": "org-1", "petOwnerId": "owner-1", "vetId": "vet-1",
             "startsAt": (now - timedelta(minutes=1)).isoformat(), "petName": "Rex",
             "petOwnerName": "Sam Lee"},
        ],
    }  # fmt: skip


def _command() -> list[str]:
    script = Path(sys.executable).with_name("yc-chat")
    return [str(script)] if script.exists() else [sys.executable, "-m", "yc_chat.entrypoints.cli"]


def _http(method: str, url: str, body: bytes | None = None, token: str | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - 127.0.0.1
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        data: bytes = response.read()
        return data


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    await reader.readexactly(length)
    return status


async def _phase(port: int, name: str, request_for: Callable[[int], bytes]) -> tuple[Figure, int]:
    """Requests on CONCURRENCY keep-alive connections for SECONDS (at most CAP)."""
    latencies: list[float] = []
    numbers = itertools.count()
    failures = 0
    deadline = time.perf_counter() + SECONDS

    async def connection() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.perf_counter() < deadline:
                number = next(numbers)
                if number >= CAP:
                    return
                started = time.perf_counter()
                writer.write(request_for(number))
                await writer.drain()
                if await _read_response(reader) != 200:
                    failures += 1
                latencies.append(time.perf_counter() - started)
        finally:
            writer.close()
            await writer.wait_closed()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    figure = Figure(
        name=name,
        ops_per_second=len(ordered) / elapsed,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )
    if failures:
        raise RuntimeError(f"{name}: {failures} requests did not answer 200")
    return figure, len(ordered)


def _hello(port: int) -> Callable[[int], bytes]:
    request = f"GET /healthz HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
    return lambda _: request


def _webhook(port: int, channel_id: str) -> Callable[[int], bytes]:
    def request_for(number: int) -> bytes:
        body = json.dumps(
            {"type": "message.new", "channel_id": channel_id,
             "message": {"id": f"m{number}", "text": f"bench message {number}",
                         "user": {"id": "owner-1"}}}
        ).encode()  # fmt: skip
        signature = hmac.new(STREAM_SECRET.encode(), body, hashlib.sha256).hexdigest()
        head = (
            f"POST /api/webhooks/stream HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Content-Type: application/json\r\nX-Signature: {signature}\r\n"
            f"X-Webhook-Id: bench-{number}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    return request_for


def _metric(text: str, prefix: str) -> float:
    """The sum of every sample whose series starts with `prefix`."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefix) and not line.startswith("#")
    )


async def _drained(base: str, sent: int) -> float:
    """Seconds until every sent event is handled; raises if one is missing."""
    started = time.perf_counter()
    while True:
        text = (await asyncio.to_thread(_http, "GET", base + "/metrics")).decode()
        received = _metric(text, "yc_chat_webhooks_received_total")
        processed = _metric(text, "yc_chat_events_processed_total")
        if received != sent:
            raise RuntimeError(f"sent {sent} events, the server recorded {received:.0f}")
        if processed == sent:
            return time.perf_counter() - started
        if time.perf_counter() - started > DRAIN_TIMEOUT:
            raise RuntimeError(f"only {processed:.0f} of {sent} events handled")
        await asyncio.sleep(0.2)


async def run() -> str:
    """Serve, measure both phases, check the count, stop."""
    port, stream_port = _free_port(), _free_port()
    base = f"http://{HOST}:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JWT_", "STREAM_", "MONGODB_", "REDIS_", "PUSH_", "TOKEN_RATE"))
    }
    # Warnings only: the per-request INFO lines would measure the log sink, for both phases.
    env.update({"JWT_SECRET": JWT_SECRET, "STREAM_API_KEY": STREAM_KEY,
                "STREAM_API_SECRET": STREAM_SECRET, "LOG_LEVEL": "WARNING"})  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        fixture = Path(tmp) / "fixture.json"
        fixture.write_text(json.dumps(_fixture(datetime.now(UTC))), encoding="utf-8")
        emulator = _spawn(["emulator", "--host", HOST, "--port", str(stream_port)], env)
        await _wait_listening(stream_port, emulator)
        env["STREAM_BASE_URL"] = f"http://{HOST}:{stream_port}"
        process = _spawn(
            ["serve", "--host", HOST, "--port", str(port), "--seed", str(fixture)], env
        )
        try:
            await _wait_healthy(base, process)
            token = jwt.encode(
                {"sub": "owner-1", "iat": int(time.time()), "exp": int(time.time()) + 600},
                JWT_SECRET,
                algorithm="HS256",
            )
            chat = json.loads(
                _http("POST", base + "/api/chat/channels", b'{"appointmentId": "apt-1"}', token)
            )
            hello, _ = await _phase(port, "GET /healthz (hello baseline)", _hello(port))
            ingest, sent = await _phase(
                port, "signed POST /api/webhooks/stream", _webhook(port, chat["channelId"])
            )
            drain = await _drained(base, sent)
        finally:
            for child in (process, emulator):
                _stop(child)
    ratio = ingest.ops_per_second / hello.ops_per_second
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    return "\n".join(
        [
            report(
                "Webhook ingestion (baseline: GET /healthz, same server, same run)",
                hello,
                [ingest],
            ),
            "",
            f"- {CONCURRENCY} keep-alive connections, {SECONDS:g} s per phase, 127.0.0.1; "
            "the worker drains in parallel (in-memory inbox; the Stream emulator in its own "
            "process).",
            f"- {sent:,} events acknowledged; all {sent:,} recorded and handled "
            f"({drain:.1f} s after the last request). Ingestion {ratio:.2f}x baseline: "
            f"{verdict} the {TARGET_RATIO}x target.",
        ]
    )


def _spawn(arguments: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`yc-chat ARGUMENTS` in the background, its output discarded."""
    return subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [*_command(), *arguments], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("yc-chat emulator exited during start-up")
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    _stop(process)
    raise RuntimeError("yc-chat emulator did not listen in 30 s")


async def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("yc-chat serve exited during start-up")
        try:
            await asyncio.to_thread(_http, "GET", base + "/healthz")
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("yc-chat serve did not become healthy in 30 s")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(asyncio.run(run()))
