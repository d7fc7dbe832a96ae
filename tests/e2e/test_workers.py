"""`yc-chat serve --workers N`: N processes on one port, refused with in-memory stores."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import servers
from tests.support.postgres import migrated_database
from yc_chat.entrypoints import cli

SECRET = "workers-secret-" + "w" * 40


def test_workers_with_in_memory_stores_are_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["serve", "--workers", "2"], env={"JWT_SECRET": SECRET}) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("yc-chat: error: --workers 2 needs MONGODB_URI")


def test_zero_workers_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--workers", "0"], env={"JWT_SECRET": SECRET}) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = next(line for line in status.splitlines() if line.startswith("PPid:"))
        # Spawned workers, not multiprocessing's resource tracker.
        if int(ppid.split()[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").exists(), reason="counts processes through /proc")
@pytest.mark.parametrize("store", ["mongodb", "postgres"])
def test_two_workers_serve_one_port_on_a_database(tmp_path: Path, store: str) -> None:
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JWT_", "STREAM_", "MONGODB_", "REDIS_", "DATABASE_"))
    }
    env["JWT_SECRET"] = SECRET
    if store == "postgres":
        env["DATABASE_URL"] = asyncio.run(migrated_database())
    else:
        env.update({"MONGODB_URI": servers.mongodb_uri(),
                    "DATABASE_NAME": f"yc_workers_{os.getpid()}_{port}"})  # fmt: skip
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "yc_chat.entrypoints.cli", "serve", "--port", str(port),
         "--workers", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        answered = 0
        while time.monotonic() < deadline and answered < 20:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    assert json.loads(r.read()) == {"status": "ok"}
                    answered += 1
            except OSError:
                time.sleep(0.2)
        assert answered == 20
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as ready:
            assert ready.status == 200  # the database answers the workers' probe
        # The second worker starts once the first answers; give it until the deadline.
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _children(process.pid)
        assert len(workers) == 2, (tmp_path / "serve.log").read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
