"""SIGTERM stops `serve` and `worker` within their grace period, whatever the worker is
doing (issue 19, finding 2: the process ignored SIGTERM while offboarding spun).

Here the worker holds a job that waits on Stream, which accepts connections and never
answers; the job would hold the worker far longer than the grace period (the adapter's
timeout and retries). SIGTERM must still end the process, cleanly, within the grace
period (10 s) and a margin for start-up of the shutdown. (`serve --no-check`: its start-up
check would refuse a Stream that does not answer.)
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import servers
from tests.support.processes import (
    JWT_SECRET,
    STREAM_KEY,
    STREAM_SECRET,
    Process,
    base_env,
    request,
    signed_webhook,
)

GRACE_SECONDS = 10.0
# Shutdown may take the grace period plus the time to notice the signal and close.
DEADLINE_SECONDS = GRACE_SECONDS + 15.0


class SilentServer:
    """Accepts TCP connections and never answers: a Stream that hangs."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.accepted = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._run, name="silent-stream", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            self._held.append(connection)
            self.accepted.set()

    def close(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()
        self._thread.join(timeout=5)


@pytest.fixture
def silent_stream() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


def _message_webhook() -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "type": "message.new",
            "cid": "messaging:rota",
            "channel_id": "rota",
            "message": {"id": uuid.uuid4().hex, "text": "hello", "user": {"id": "vet-1"}},
            "user": {"id": "vet-1"},
            "created_at": "2026-01-15T12:00:00Z",
        }
    ).encode()
    return body, signed_webhook(body, uuid.uuid4().hex)


def _env(silent: SilentServer) -> dict[str, str]:
    return base_env(
        JWT_SECRET=JWT_SECRET,
        STREAM_API_KEY=STREAM_KEY,
        STREAM_API_SECRET=STREAM_SECRET,
        STREAM_BASE_URL=silent.url,
        WORKER_POLL_SECONDS="0.1",
        LOG_LEVEL="INFO",
    )


def _stopped_in_time(process: Process) -> int:
    """SIGTERM, then the exit status; fails if the process outlives the deadline."""
    process.process.terminate()
    try:
        return process.process.wait(timeout=DEADLINE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"{process.name} ignored SIGTERM:\n{process.log()[-3000:]}")


def test_serve_stops_on_sigterm_while_its_worker_waits_on_stream(
    tmp_path: Path, silent_stream: SilentServer
) -> None:
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    process = Process(
        "serve",
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-check"],
        _env(silent_stream),
        tmp_path,
    )
    try:
        process.wait_answering(url + "/healthz")
        body, headers = _message_webhook()
        status, answer = request("POST", url + "/api/webhooks/stream", raw=body, headers=headers)
        assert (status, answer) == (200, {"ok": True})
        # The worker took the event and is now waiting on the silent Stream.
        assert silent_stream.accepted.wait(timeout=30), process.log()
        assert process.process.poll() is None
        returncode = _stopped_in_time(process)
    finally:
        process.stop()
    assert returncode == 0, process.log()


def test_worker_stops_on_sigterm_while_it_holds_a_job(
    tmp_path: Path, silent_stream: SilentServer
) -> None:
    """A separate `yc-chat worker` over a shared MongoDB inbox, fed by a `serve` without
    its own worker."""
    database = f"yc_sigterm_{uuid.uuid4().hex[:10]}"
    env = {**_env(silent_stream), "MONGODB_URI": servers.mongodb_uri(), "DATABASE_NAME": database}
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    serve = Process(
        "serve",
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker", "--no-check"],
        env,
        tmp_path,
    )
    worker: Process | None = None
    try:
        serve.wait_answering(url + "/healthz")
        body, headers = _message_webhook()
        status, _ = request("POST", url + "/api/webhooks/stream", raw=body, headers=headers)
        assert status == 200
        worker = Process("worker", ["worker", "--no-check"], env, tmp_path)
        assert silent_stream.accepted.wait(timeout=60), worker.log()
        time.sleep(0.2)  # let it settle into the wait; the bound below is what matters
        assert worker.process.poll() is None, worker.log()
        returncode = _stopped_in_time(worker)
        assert returncode == 0, worker.log()
        assert _stopped_in_time(serve) == 0, serve.log()
    finally:
        if worker is not None:
            worker.stop()
        serve.stop()
