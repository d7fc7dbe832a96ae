"""Issue 13, finding 3, over a real `yc-chat serve` process and raw sockets: the server
stack decides these, so the in-process test client cannot show them.

Each test replays the attack as found and shows what happens now.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.commands import JWT_SECRET, free_port, token_for, yc_chat_command
from tests.support.demo import fixture_at

READ_TIMEOUT = 1.0  # REQUEST_READ_TIMEOUT for this server: short, so slow clients end soon


class Serve:
    def __init__(self, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.port, self.process, self.log = port, process, log

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                lines.append({"raw": line})
        return lines


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    tmp = tmp_path_factory.mktemp("limits")
    fixture = tmp / "fixture.json"
    fixture.write_text(json.dumps(fixture_at(datetime.now(UTC))), encoding="utf-8")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JWT_", "STREAM_", "MONGODB_", "REDIS_", "TOKEN_RATE", "WRITE_"))
    }
    env.update(
        {
            "JWT_SECRET": JWT_SECRET,
            "REQUEST_READ_TIMEOUT": str(READ_TIMEOUT),
            "LOG_FORMAT": "json",
        }
    )
    log_path = tmp / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [
            *yc_chat_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--seed",
            str(fixture),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail("server exited: " + log_path.read_text())
            try:
                url = f"http://127.0.0.1:{port}/healthz"
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not start: " + log_path.read_text())
            time.sleep(0.1)
        yield Serve(port, process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response (status, headers, body) read until the server closes or the body ends."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    if not data:
        return 0, {}, b""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
    length = int(headers.get("content-length", "-1"))
    while length >= 0 and len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed the connection (EOF or reset), waiting up to 10 s."""
    sock.settimeout(10)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def _head(method: str, path: str, user: str | None, extra: list[str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if user is not None:
        lines.append(f"Authorization: Bearer {token_for(user)}")
    return ("\r\n".join([*lines, *extra]) + "\r\n\r\n").encode()


def test_content_length_with_transfer_encoding_is_400_not_a_token(serve: Serve) -> None:
    """Found: `Content-Length: 10` plus chunked and a 1 MB body got a token."""
    body = json.dumps({"userId": "vet-1", "pad": "x" * 1_000_000}).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    with serve.connect() as sock:
        head = _head(
            "POST",
            "/api/chat/token",
            "vet-1",
            ["Content-Length: 10", "Transfer-Encoding: chunked"],
        )
        # The server may refuse before reading it all.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head + chunked)
        status, _, answer = _read_response(sock)
        assert status == 400
        assert b"token" not in answer.lower() or b'"code"' in answer
        assert _closed_by_server(sock)


def test_a_chunked_body_over_the_limit_is_413_counting_bytes_received(serve: Serve) -> None:
    """No Content-Length to check: the bytes that arrive are counted."""
    with serve.connect() as sock:
        sock.sendall(_head("POST", "/api/chat/token", "vet-1", ["Transfer-Encoding: chunked"]))
        piece = b"x" * 65536
        status = 0
        try:
            for _ in range(8):  # 512 KiB, twice the 256 KiB limit
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, _, answer = _read_response(sock)
        assert status == 413
        assert json.loads(answer)["code"] == "payload_too_large"


def test_a_slow_header_block_is_ended(serve: Serve) -> None:
    """Found: connections trickling their request were held for over 65 s."""
    with serve.connect() as sock:
        sock.sendall(b"POST /api/webhooks/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        status, _, answer = _read_response(sock)  # no more bytes come from us
        assert status == 408
        assert json.loads(answer)["code"] == "request_timeout"
        assert _closed_by_server(sock)


def test_a_slow_chunked_webhook_body_is_ended(serve: Serve) -> None:
    """Found: 400 unauthenticated connections each sent 1 MB of a chunked webhook body and
    never finished; the process grew from 101 to 493 MB."""
    with serve.connect() as sock:
        sock.sendall(
            _head("POST", "/api/webhooks/stream", None, ["Transfer-Encoding: chunked"])
            + b"10000\r\n"
            + b"x" * 4096
        )
        status, _, answer = _read_response(sock)
        assert status == 408
        assert json.loads(answer)["code"] == "request_timeout"
        assert _closed_by_server(sock)


def test_an_aborted_request_is_one_info_line_without_traceback(serve: Serve) -> None:
    """Found: 1,000 aborted chunked requests wrote 2.3 MB of ERROR tracebacks, as 500s."""
    marker = f"abort-{time.time_ns()}"
    # Chunked, and with a declared length the body never reaches: both cut off mid-body.
    framings = [["Transfer-Encoding: chunked"], ["Content-Length: 4000"]] * 3
    for framing in framings:
        with serve.connect() as sock:
            sock.sendall(
                _head(
                    "POST",
                    "/api/chat/channels/group",
                    "vet-1",
                    [*framing, f"X-Request-ID: {marker}"],
                )
                + b'100\r\n{"orgId": '
            )
            time.sleep(0.05)
    time.sleep(0.5)
    lines = [line for line in serve.log_lines() if line.get("request_id") == marker]
    assert len(lines) == len(framings), lines
    assert all(line["level"] == "INFO" for line in lines)
    assert all("disconnected" in line["message"] for line in lines)
    text = serve.log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in text
    assert '"status": 500' not in text and "ERROR" not in text


def test_deep_json_is_400_not_a_recursion_error(serve: Serve) -> None:
    """Found: JSON nested 1,000 levels deep gave 500 with a RecursionError traceback."""
    body = b'{"userId": "vet-1", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    with serve.connect() as sock:
        sock.sendall(
            _head("POST", "/api/chat/token", "vet-1", [f"Content-Length: {len(body)}"]) + body
        )
        status, _, answer = _read_response(sock)
    assert status == 400
    assert json.loads(answer)["code"] == "json_too_deep"
    assert "RecursionError" not in serve.log.read_text(encoding="utf-8", errors="replace")
