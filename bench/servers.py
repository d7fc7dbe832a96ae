"""Processes for the HTTP benchmarks: free loopback ports, start, wait, stop; wrk runs."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import jwt

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def yc_chat_command() -> list[str]:
    script = Path(sys.executable).with_name("yc-chat")
    return [str(script)] if script.exists() else [sys.executable, "-m", "yc_chat.entrypoints.cli"]


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without the service's settings, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("JWT_", "STREAM_", "MONGODB_", "REDIS_", "PUSH_", "TOKEN_RATE", "LOG_")
        )
    }
    env.update(extra)
    return env


def spawn(arguments: list[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """A background process, its output discarded (the access log goes there too)."""
    return subprocess.Popen(  # noqa: S603 - our own commands, fixed arguments
        arguments, env=dict(env), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def http(method: str, url: str, body: bytes | None = None, token: str | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - 127.0.0.1
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        data: bytes = response.read()
        return data


async def wait_answering(url: str, process: subprocess.Popen[bytes], *, seconds: float) -> None:
    """Until `url` answers (any status), or raise when the process exits or time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited during start-up")
        try:
            await asyncio.to_thread(http, "GET", url)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            await asyncio.sleep(0.2)
    stop(process)
    raise RuntimeError(f"{url} did not answer in {seconds:g} s")


async def wait_listening(port: int, process: subprocess.Popen[bytes], *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited during start-up")
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    stop(process)
    raise RuntimeError(f"port {port} did not listen in {seconds:g} s")


@attrs.frozen
class WrkResult:
    name: str
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers plus socket errors


def wrk_table(figures: Mapping[str, WrkResult], baseline: str) -> list[str]:
    """A markdown table of wrk figures, each also as a ratio to the `baseline` route."""
    base = figures[baseline].requests_per_second
    lines = [
        "| route | answers | req/s | × hello | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, figure in figures.items():
        if figure.requests == 0:
            lines.append(f"| {name} | 0 | no answer within the run | | | | {figure.errors} |")
            continue
        lines.append(
            f"| {name} | {figure.requests:,} | {figure.requests_per_second:,.2f} | "
            f"{figure.requests_per_second / base:.4f} | {figure.p50_ms:.2f} | "
            f"{figure.p99_ms:.2f} | {figure.errors} |"
        )
    return lines


def caller_token(user_id: str, secret: str) -> str:
    """A caller's HS256 bearer token for an hour, as the service's JWT_SECRET verifies it."""
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + 3600}, secret, "HS256")


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it with apt-get")
    return found


def run_wrk(
    name: str,
    url: str,
    *,
    seconds: float,
    connections: int,
    script: Path | None = None,
    headers: Mapping[str, str] | None = None,
    script_args: Sequence[str] = (),
    timeout: float = 10.0,
) -> WrkResult:
    """wrk -t1 in its own process against `url`; its summary parsed."""
    command = [
        wrk_path(), "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency",
        "--timeout", f"{timeout:g}s",
    ]  # fmt: skip
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    done = subprocess.run(  # noqa: S603 - wrk, fixed arguments, 127.0.0.1 only
        command, capture_output=True, text=True, timeout=seconds + timeout + 60, check=True
    )
    return parse_wrk(name, done.stdout)


def parse_wrk(name: str, out: str) -> WrkResult:
    def number(pattern: str) -> str:
        match = re.search(pattern, out)
        if match is None:
            raise RuntimeError(f"{name}: unexpected wrk output:\n{out}")
        return match.group(1)

    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    ):
        errors += sum(int(g) for g in match.groups())
    return WrkResult(
        name=name,
        requests=int(number(r"(\d+) requests in")),
        requests_per_second=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(number(r"50%\s+([\d.]+\w+)")),
        p99_ms=_ms(number(r"99%\s+([\d.]+\w+)")),
        errors=errors,
    )


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise RuntimeError(f"unexpected wrk latency {text!r}")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]
