"""`python -m stream_emulator`: the emulator runs on its own, as a package beside yc_chat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import httpx
import jwt

from tests.support.commands import free_port

KEY = "cli-emulator-key"
SECRET = "cli-emulator-secret-" + "z" * 32


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("STREAM_")}


def _module(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "stream_emulator", *args],
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextmanager
def running(
    args: Sequence[str], env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The emulator process and the first line it printed; stopped with Ctrl-C afterwards."""
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "stream_emulator", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process, process.stdout.readline().strip()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_served(base_url: str, api_key: str, secret: str) -> httpx.Response:
    token = jwt.encode({"server": True}, secret, algorithm="HS256")
    headers = {"Authorization": token, "Stream-Auth-Type": "jwt"}
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(f"{base_url}/app", params={"api_key": api_key}, headers=headers)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_help_names_every_option() -> None:
    result = _module("--help")
    assert result.returncode == 0, result.stderr
    for option in ("--host", "--port", "--api-key", "--api-secret", "--webhook-url"):
        assert option in result.stdout
    assert "STREAM_API_KEY" in result.stdout


def test_it_serves_stream_with_the_given_credentials_and_stops_on_ctrl_c() -> None:
    port = free_port()
    args = ["--port", str(port), "--api-key", KEY, "--api-secret", SECRET]
    with running(args, _env()) as (process, first_line):
        base_url = f"http://127.0.0.1:{port}"
        assert first_line == f"Stream emulator on {base_url} with STREAM_API_KEY={KEY}"
        response = _wait_until_served(base_url, KEY, SECRET)
        assert response.status_code == 200, response.text
        assert response.json()["app"]["name"]
        refused = _wait_until_served(base_url, KEY, "not-the-secret-" + "q" * 32)
        assert refused.status_code == 401
    assert process.returncode == 0
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def test_without_credentials_it_makes_and_prints_a_throwaway_pair() -> None:
    port = free_port()
    with running(["--port", str(port)], _env()) as (process, first_line):
        assert first_line == f"Stream emulator on http://127.0.0.1:{port}"
        assert process.stdout is not None
        printed = dict(process.stdout.readline().strip().split("=", 1) for _ in range(3))
        assert printed["STREAM_BASE_URL"] == f"http://127.0.0.1:{port}"
        response = _wait_until_served(
            printed["STREAM_BASE_URL"], printed["STREAM_API_KEY"], printed["STREAM_API_SECRET"]
        )
        assert response.status_code == 200


def test_the_environment_gives_the_credentials_too() -> None:
    port = free_port()
    env = {**_env(), "STREAM_API_KEY": KEY, "STREAM_API_SECRET": SECRET}
    with running(["--port", str(port)], env) as (_, first_line):
        assert first_line.endswith(f"with STREAM_API_KEY={KEY}")
        assert _wait_until_served(f"http://127.0.0.1:{port}", KEY, SECRET).status_code == 200


def test_mistakes_are_one_usage_error() -> None:
    half = _module("--api-key", KEY)
    assert half.returncode == 2
    assert "give both the API key and the API secret" in half.stderr
    assert "Traceback" not in half.stderr
    bad_port = _module("--port", "70000", "--api-key", KEY, "--api-secret", SECRET)
    assert bad_port.returncode == 2
    assert "--port must be between 1 and 65535" in bad_port.stderr
