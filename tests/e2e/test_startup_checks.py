"""An operator's configuration mistakes, caught at start through the real console script.

Each is one `yc-chat: error: ...` line and a non-zero exit, never a traceback: a Stream
base URL with a path, secrets too short for their algorithm, the `.env.example`
placeholder, and a Stream that does not answer or refuses the credentials (`serve` asks
Stream before it listens; `--no-check` skips that, `--check-timeout` bounds the waiting).
"""

from __future__ import annotations

import http.server
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stream_emulator import start_in_background
from tests.support.commands import (
    answers,
    assert_one_line_error,
    clean_env,
    free_port,
    run,
    wait_serving,
    yc_chat_command,
)

ROOT = Path(__file__).resolve().parents[2]
STREAM_KEY = "startup-check-key"
STREAM_SECRET = "startup-check-secret-" + "c" * 32
SECRET = "startup-check-jwt-secret-" + "j" * 32


def _stream_env(base_url: str, secret: str = STREAM_SECRET) -> dict[str, str]:
    return {
        "JWT_SECRET": SECRET,
        "STREAM_API_KEY": STREAM_KEY,
        "STREAM_API_SECRET": secret,
        "STREAM_BASE_URL": base_url,
    }


# -- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "fragments"),
    [
        (_stream_env("http://127.0.0.1:8800/stream"), ("STREAM_BASE_URL", "no path")),
        (_stream_env("http://127.0.0.1:8800", secret="short"), ("STREAM_API_SECRET", "32 bytes")),
        ({"JWT_SECRET": "x" * 31}, ("JWT_SECRET", "32 bytes")),
    ],
)
def test_settings_mistakes_are_one_line(
    tmp_path: Path, env: dict[str, str], fragments: tuple[str, ...]
) -> None:
    result = run("serve", env=env, cwd=tmp_path)
    line = assert_one_line_error(result, "invalid configuration", *fragments)
    assert result.returncode == 2 and result.stdout == ""
    assert "short" not in line and "x" * 31 not in line  # secrets are never echoed


def test_the_env_example_placeholder_is_refused_as_a_secret(tmp_path: Path) -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    match = re.search(r"^#\s*JWT_SECRET=(\S+)", example, re.M)
    assert match, ".env.example lost its JWT_SECRET line"
    # Copied as told ("copy to .env and uncomment"), the placeholder is refused.
    (tmp_path / ".env").write_text(f"JWT_SECRET={match.group(1)}\n", encoding="utf-8")
    for command in (["serve"], ["dev-token", "vet-1"]):
        line = assert_one_line_error(run(*command, cwd=tmp_path), "JWT_SECRET", ".env.example")
        assert match.group(1) not in line


# -- serve asks Stream before it listens -----------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[str]:
    with start_in_background(api_key=STREAM_KEY, api_secret=STREAM_SECRET) as running:
        yield running.base_url


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"]])
def test_wrong_stream_credentials_stop_serve_and_worker_at_once(
    tmp_path: Path, emulator: str, command: list[str]
) -> None:
    env = _stream_env(emulator, secret="not-the-secret-of-this-stream-app-at-all")
    if command[0] == "serve":
        command = ["serve", "--port", str(free_port())]
    result = run(*command, env=env, cwd=tmp_path)
    line = assert_one_line_error(result, "refused STREAM_API_KEY/STREAM_API_SECRET", "--no-check")
    assert result.returncode == 1 and result.stdout == ""
    assert "retried" not in line  # a refusal is final: no waiting
    assert "not-the-secret" not in line


def test_an_address_nobody_answers_is_one_line_after_the_bounded_retry(tmp_path: Path) -> None:
    env = _stream_env(f"http://127.0.0.1:{free_port()}")
    result = run("serve", "--check-timeout", "1", env=env, cwd=tmp_path)
    assert_one_line_error(result, "could not be reached", "retried for 1 s", "--no-check")
    assert result.returncode == 1


class _NotStream(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>a web site</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return


def test_an_address_that_is_not_stream_is_one_line(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotStream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = _stream_env(f"http://127.0.0.1:{server.server_address[1]}")
        result = run("serve", env=env, cwd=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert_one_line_error(result, "not as Stream's API does", "STREAM_BASE_URL")


def _start_serve(
    tmp_path: Path, env: dict[str, str], *args: str
) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [*yc_chat_command(), "serve", "--port", str(port), *args],
        env=clean_env({**env, "LOG_LEVEL": "WARNING"}),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, f"http://127.0.0.1:{port}"


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    output, _ = process.communicate(timeout=30)
    return output


def test_serve_waits_for_a_stream_that_is_still_starting(tmp_path: Path) -> None:
    stream_port = free_port()
    process, url = _start_serve(tmp_path, _stream_env(f"http://127.0.0.1:{stream_port}"))
    try:
        # Nothing answers yet: serve keeps asking and does not listen meanwhile.
        time.sleep(1.5)
        assert process.poll() is None
        assert not answers(url + "/healthz")
        with start_in_background(api_key=STREAM_KEY, api_secret=STREAM_SECRET, port=stream_port):
            wait_serving(process, url)
            # A fresh Stream app has Stream's default grants: ready once the operator's
            # `yc-chat stream setup` has run against it (issue 19), not before.
            assert not answers(url + "/readyz")
            stream_env = _stream_env(f"http://127.0.0.1:{stream_port}")
            setup = run("stream", "setup", env=stream_env, cwd=tmp_path)
            assert setup.returncode == 0, setup.stderr
            assert answers(url + "/readyz")
            output = _stop(process)
    finally:
        if process.poll() is None:
            _stop(process)
    assert process.returncode == 0 and "Traceback" not in output


def test_no_check_starts_anyway_and_readiness_says_what_is_wrong(
    tmp_path: Path, emulator: str
) -> None:
    env = _stream_env(emulator, secret="not-the-secret-of-this-stream-app-at-all")
    process, url = _start_serve(tmp_path, env, "--no-check")
    try:
        wait_serving(process, url)
        assert not answers(url + "/readyz")  # 503: the provider refuses us
    finally:
        _stop(process)


def test_a_busy_metrics_port_stops_the_worker_in_one_line(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(
            "worker", "--metrics-port", str(port), env={"JWT_SECRET": SECRET}, cwd=tmp_path
        )
    line = assert_one_line_error(result, f"port {port}", "already in use", "--metrics-port")
    assert "make serve" not in line
    assert result.returncode == 1
    bad = run("worker", "--metrics-port", "70000", cwd=tmp_path)
    assert_one_line_error(bad, "--metrics-port")
