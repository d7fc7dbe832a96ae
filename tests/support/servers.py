"""Real servers for the suites: FerretDB (MongoDB's wire protocol over SQLite) and Redis.

Each starts once per pytest session, on the first test that asks for it, on a free
loopback port, with its data under `.build/`; the session's end stops it. Where a server
cannot be had (no binary), the tests that need it skip, and the run's summary shows one
line per missing server saying what was skipped and how to get it. Under `CI=true` they
fail instead: CI installs everything (`.ci/run`), so a missing server there is a bug.

`MONGODB_URI` names a real MongoDB (or any MongoDB-wire server) to use instead of starting
FerretDB; each test then works in its own throwaway database there.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".build"
FERRETDB_BINARY = Path(os.environ.get("FERRETDB_BINARY", BUILD / "bin" / "ferretdb"))
MONGODB_URI_VARIABLE = "MONGODB_URI"

FERRETDB_HOW = "install Go (1.22 or later) and run `make ferretdb` (or just `make test`)"
REDIS_HOW = "install Redis (`apt-get install redis-server`, `brew install redis`)"


class ServerUnavailable(Exception):
    """This server cannot be had here; the message says why and how to get it."""


@attrs.define
class RunningServer:
    """A server process this session started, with where its log goes."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)


# What this session has: a running server, or why it has none. Filled lazily.
_servers: dict[str, RunningServer | ServerUnavailable] = {}
# Why each missing server's tests skipped (their skip reason), for the one-line summary.
skipped: dict[str, str] = {}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(server: RunningServer, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    server.stop()
    tail = server.log_path.read_text(errors="replace")[-2000:] if server.log_path.exists() else ""
    raise ServerUnavailable(
        f"{server.name} did not start listening on 127.0.0.1:{port} within {timeout:.0f} s "
        f"(exit status {server.process.poll()}); its log ends:\n{tail}"
    )


def start_ferretdb() -> RunningServer:
    if not FERRETDB_BINARY.is_file():
        raise ServerUnavailable(f"FerretDB is not built ({FERRETDB_BINARY} is missing)")
    BUILD.mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="ferretdb-", dir=BUILD))
    port = free_port()
    log_path = data_dir / "ferretdb.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own build of FerretDB, fixed arguments
            [
                str(FERRETDB_BINARY),
                "--handler=sqlite",
                f"--sqlite-url=file:{data_dir}/",
                f"--state-dir={data_dir}",
                f"--listen-addr=127.0.0.1:{port}",
                "--debug-addr=127.0.0.1:0",
                "--telemetry=disable",
                os.environ.get("FERRETDB_LOG_LEVEL", "--log-level=warn"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(
        "FerretDB", f"mongodb://127.0.0.1:{port}/", process, log_path, data_dir=data_dir
    )
    _wait_for_port(server, port, timeout=30)
    return server


def _start_redis() -> RunningServer:
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerUnavailable("redis-server is not installed")
    BUILD.mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="redis-", dir=BUILD))
    port = free_port()
    log_path = data_dir / "redis.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the installed redis-server, fixed arguments
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no", "--dir", str(data_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = RunningServer(
        "Redis", f"redis://127.0.0.1:{port}/0", process, log_path, data_dir=data_dir
    )
    _wait_for_port(server, port, timeout=15)
    return server


def _start_postgres() -> RunningServer:
    from tests.support.postgres_server import PostgresUnavailable, start_postgres

    try:
        return start_postgres()  # type: ignore[return-value]
    except PostgresUnavailable as exc:
        raise ServerUnavailable(str(exc)) from exc


def start_redis() -> RunningServer:
    """A Redis server of the caller's own (to stop and resume, say); stop it after."""
    return _start_redis()


def _get(name: str) -> str:
    if name not in _servers:
        starters = {"ferretdb": start_ferretdb, "redis": _start_redis, "postgres": _start_postgres}
        try:
            _servers[name] = starters[name]()
        except ServerUnavailable as exc:
            _servers[name] = exc
    found = _servers[name]
    if isinstance(found, ServerUnavailable):
        raise found
    return found.url


def _require(name: str, label: str, how: str) -> str:
    try:
        return _get(name)
    except ServerUnavailable as exc:
        reason = f"{label}: {exc}; {how}"
        if in_ci():
            pytest.fail(f"CI=true and no {reason}", pytrace=False)
        skipped[label] = reason
        pytest.skip(reason)


def mongodb_uri() -> str:
    """A MongoDB-wire server for this test: `MONGODB_URI` if set, else this session's FerretDB.

    Skips the test (fails it under CI=true) when neither can be had.
    """
    return os.environ.get(MONGODB_URI_VARIABLE) or _require(
        "ferretdb", "real-server MongoDB suites (FerretDB)", FERRETDB_HOW
    )


def mongodb_server_name() -> str:
    """'mongodb' when MONGODB_URI names the server, else 'ferretdb'."""
    return "mongodb" if os.environ.get(MONGODB_URI_VARIABLE) else "ferretdb"


def redis_url() -> str:
    """This session's Redis server; skips the test (fails it under CI=true) without one."""
    return _require("redis", "Redis suites", REDIS_HOW)


def postgres_url() -> str:
    """A PostgreSQL server: `POSTGRES_URL` if set, else this session's throwaway cluster.

    Skips the test (fails it under CI=true) when neither can be had.
    """
    from tests.support.postgres_server import HOW

    return os.environ.get("POSTGRES_URL") or _require("postgres", "PostgreSQL suites", HOW)


def stop_all() -> None:
    """Stop every server this session started (the session's end; also at exit)."""
    for found in list(_servers.values()):
        if not isinstance(found, ServerUnavailable):
            found.stop()
    _servers.clear()


atexit.register(stop_all)


def is_missing_server_reason(reason: str) -> bool:
    """Whether a skip's reason is one of ours (to fold them into one line per server)."""
    return any(reason.endswith(why) for why in skipped.values())
