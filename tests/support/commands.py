"""Running the real `yc-chat` console script: the command, a clean environment, a free port,
and the bearer tokens of a server started with `JWT_SECRET`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import jwt

JWT_SECRET = "e2e-secret-" + "k" * 40


def yc_chat_command() -> list[str]:
    """The installed `yc-chat` script beside this interpreter (or `python -m yc_chat`)."""
    script = Path(sys.executable).with_name("yc-chat")
    if script.exists():
        return [str(script)]
    found = shutil.which("yc-chat")
    return [found] if found else [sys.executable, "-m", "yc_chat"]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without any yc-chat configuration, plus `extra`."""
    prefixes = (
        "JWT_", "STREAM_", "MONGODB_", "REDIS_", "DATABASE_", "TOKEN_", "CHAT_", "LOG_",
        "PUSH_", "FCM_", "EXPO_", "WEBHOOK_", "WORKER_", "CORS_", "TRUSTED_", "ACTIVATION_",
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def token_for(user: str) -> str:
    """A bearer token for `user`, signed with `JWT_SECRET`, valid for 10 minutes."""
    now = int(time.time())
    return jwt.encode({"sub": user, "iat": now, "exp": now + 600}, JWT_SECRET, algorithm="HS256")


def run(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [*yc_chat_command(), *args],
        env=clean_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Non-zero exit, no traceback, and stderr is exactly one error line naming `fragments`."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("yc-chat: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def answers(url: str) -> bool:
    """Whether GET `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except OSError:
        return False


def wait_serving(process: subprocess.Popen[str], base_url: str, timeout: float = 60) -> None:
    """Until `base_url/healthz` answers; fails when the process exits first."""
    deadline = time.monotonic() + timeout
    while not answers(base_url + "/healthz"):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"serve did not answer in {timeout} s"
        time.sleep(0.1)
