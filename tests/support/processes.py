"""Real `yc-chat` processes for the end-to-end suites: serve, worker and emulator, each a
subprocess with its own log file, over the session's real servers (tests/support/servers.py)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import jwt
from pymongo import MongoClient

from tests.support import servers
from tests.support.postgres import create_database, drop_database

JWT_SECRET = "e2e-processes-secret-" + "e" * 40
STREAM_KEY = "e2e-stream-key"
STREAM_SECRET = "e2e-stream-secret-" + "s" * 30
# Push devices of two demo-clinic colleagues (tests/support/demo.py), for the push checks.
DEVICES = {"vet-2": "ExponentPushToken[vet2]", "nurse-1": "ExponentPushToken[nurse1]"}


def bearer(user_id: str) -> dict[str, str]:
    now = datetime.now(UTC)
    claims = {"sub": user_id, "iat": now, "exp": now + timedelta(minutes=30)}
    return {"Authorization": "Bearer " + jwt.encode(claims, JWT_SECRET, algorithm="HS256")}


def signed_webhook(body: bytes, webhook_id: str) -> dict[str, str]:
    signature = hmac.new(STREAM_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Signature": signature, "X-Webhook-Id": webhook_id}


def request(
    method: str,
    url: str,
    *,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, Any]:
    """(status, JSON body) of one HTTP call; raises OSError when nothing answers."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    call = urllib.request.Request(  # noqa: S310 - 127.0.0.1 only
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except http.client.HTTPException as error:
        # A process killed mid-answer cuts the response short (IncompleteRead, a bad
        # status line): for the caller that is the same as no answer at all.
        raise ConnectionError(f"cut-off answer from {url}: {error!r}") from error


def register_devices(base_url: str) -> None:
    """Each of DEVICES' push tokens registered over HTTP by its own user."""
    for user, token in DEVICES.items():
        status, _ = request(
            "POST", base_url + "/api/devices", body={"token": token, "platform": "ios"},
            headers=bearer(user),
        )  # fmt: skip
        assert status == 200


def staff_group(base_url: str, name: str = "Ward") -> str:
    """A group vet-1 makes over HTTP in org-1 with vet-2 and nurse-1: its channel id."""
    status, group = request(
        "POST", base_url + "/api/chat/channels/group",
        body={"orgId": "org-1", "name": name, "memberIds": ["vet-2", "nurse-1"],
              "createdBy": "vet-1"},
        headers=bearer("vet-1"),
    )  # fmt: skip
    assert status == 200, group
    return str(group["channelId"])


def message_new(channel_id: str, message_id: str, text: str, created_at: str) -> bytes:
    """Stream's `message.new` webhook body: vet-1's regular message in a messaging channel."""
    return json.dumps(
        {"type": "message.new", "cid": f"messaging:{channel_id}", "channel_id": channel_id,
         "channel_type": "messaging", "created_at": created_at,
         "message": {"id": message_id, "text": text, "type": "regular",
                     "user": {"id": "vet-1"}}}
    ).encode()  # fmt: skip


def base_env(**extra: str) -> dict[str, str]:
    """The machine's environment without any yc-chat setting, plus `extra`."""
    prefixes = ("JWT_", "STREAM_", "MONGODB_", "REDIS_", "DATABASE_", "PUSH_", "EXPO_",
                "FCM_", "WORKER_", "WEBHOOK_", "TOKEN_RATE", "WRITE_RATE", "LOG_")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update({"LOG_LEVEL": "WARNING", "LOG_FORMAT": "json", **extra})
    return env


class Process:
    """One `yc-chat` subcommand in a subprocess, logging to `log_path`."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
            [sys.executable, "-m", "yc_chat", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_answering(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.name} exited:\n{self.log()[-3000:]}"
            try:
                request("GET", url, timeout=2)
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"{self.name} did not answer {url} in {timeout} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


# The databases a Cluster can share: the MongoDB-wire server, or PostgreSQL.
STORES = ("mongo", "postgres")


class Cluster:
    """An emulator process and the settings every serve/worker of one test shares, over a
    fresh database on `store`: the MongoDB-wire server, or PostgreSQL (a new database,
    migrated with `yc-chat db upgrade` as an operator would)."""

    def __init__(
        self, log_dir: Path, database: str, *, store: str = "mongo", **settings: str
    ) -> None:
        self.log_dir = log_dir
        self.processes: list[Process] = []
        self.store = store
        self.database = database
        port = servers.free_port()
        self.emulator_port = port
        self.emulator_url = f"http://127.0.0.1:{port}"
        if store == "postgres":
            self.database_url = asyncio.run(create_database(servers.postgres_url(), database))
            where = {"DATABASE_URL": self.database_url}
        else:
            # A test may bring its own database server (one it stops and resumes, say).
            mongodb_uri = settings.pop("MONGODB_URI", None) or servers.mongodb_uri()
            where = {"MONGODB_URI": mongodb_uri, "DATABASE_NAME": database}
        self.env = base_env(
            JWT_SECRET=JWT_SECRET,
            STREAM_API_KEY=STREAM_KEY,
            STREAM_API_SECRET=STREAM_SECRET,
            STREAM_BASE_URL=self.emulator_url,
            **where,
            **{"TOKEN_RATE_LIMIT": "off", "WRITE_RATE_LIMIT": "off", **settings},
        )
        if store == "postgres":
            upgrade = self.start("db-upgrade", ["db", "upgrade"])
            assert upgrade.process.wait(timeout=60) == 0, upgrade.log()
        emulator = self.start("emulator", ["emulator", "--host", "127.0.0.1", "--port", str(port)])
        emulator.wait_answering(self.emulator_url + "/")
        # As an operator sets up a Stream app before the service serves it.
        setup = subprocess.run(
            [sys.executable, "-m", "yc_chat", "stream", "setup"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert setup.returncode == 0, setup.stdout + setup.stderr

    def query(self, sql: str, *args: Any) -> list[Any]:
        """Rows of one SQL query on this cluster's PostgreSQL database."""
        return asyncio.run(_fetch(self.database_url, sql, *args))

    def inbox_states(self) -> dict[str, str]:
        """Every recorded webhook's state, by webhook id, read from the database."""
        if self.store == "postgres":
            rows = self.query("SELECT id, state FROM chat_webhook_inbox")
            return {row["id"]: row["state"] for row in rows}
        client: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_uri())
        try:
            inbox = client[self.database]["chat_webhook_inbox"]
            return {d["_id"]: d["state"] for d in inbox.find({}, {"state": 1})}
        finally:
            client.close()

    def drop_database(self) -> None:
        if self.store == "postgres":
            asyncio.run(drop_database(servers.postgres_url(), self.database))
            return
        client: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_uri())
        client.drop_database(self.database)
        client.close()

    def start(self, name: str, args: list[str]) -> Process:
        process = Process(name, args, self.env, self.log_dir)
        self.processes.append(process)
        return process

    def serve(self, *extra: str, seed: Path | None = None) -> tuple[Process, str]:
        port = servers.free_port()
        args = ["serve", "--host", "127.0.0.1", "--port", str(port), *extra]
        if seed is not None:
            args += ["--seed", str(seed)]
        process = self.start(f"serve-{port}", args)
        url = f"http://127.0.0.1:{port}"
        process.wait_answering(url + "/healthz")
        return process, url

    def logs(self) -> str:
        """Every process's log, for a failing assertion's message."""
        return "\n".join(f"--- {p.name}\n{p.log()[-4000:]}" for p in self.processes)

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def metric_samples(text: str) -> dict[str, float]:
    """Series (name with labels) to value, from the Prometheus text format."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            found[key] = float(value)
    return found


async def _fetch(url: str, sql: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()
