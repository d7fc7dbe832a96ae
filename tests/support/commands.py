"""Running the real `yc-chat` console script: the command, a clean environment, a free port,
and the bearer tokens of a server started with `JWT_SECRET`."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
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
