"""The real `yc-chat serve --seed FILE` process, driven over HTTP through the frontend flow."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.support.commands import JWT_SECRET, free_port, token_for, yc_chat_command
from tests.support.demo import fixture_at

STREAM_SECRET = "e2e-stream-" + "w" * 30
STREAM_KEY = "e2e-key"


class Server:
    """The running process and a tiny HTTP client for it."""

    def __init__(self, base: str, process: subprocess.Popen[bytes]) -> None:
        self.base = base
        self.process = process

    def call(
        self,
        method: str,
        path: str,
        user: str | None = None,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(  # noqa: S310 - always our own http://127.0.0.1 base
            self.base + path, data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        if user is not None:
            request.add_header("Authorization", f"Bearer {token_for(user)}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


def assert_stream_accepts(token: dict[str, Any]) -> None:
    """The user's own channel query on the Stream API the token response points at."""
    request = urllib.request.Request(  # noqa: S310 - the emulator on 127.0.0.1
        f"{token['baseUrl']}/channels?api_key={token['apiKey']}",
        data=json.dumps({"filter_conditions": {}}).encode(),
        method="POST",
        headers={
            "Authorization": token["token"],
            "Stream-Auth-Type": "jwt",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 201
        assert json.loads(response.read())["channels"] == []


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            pytest.fail(f"process exited: {log.read_text(encoding='utf-8')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"nothing listened on {port} within 30 s")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _running_emulator(tmp_path: Path) -> Iterator[str]:
    """`yc-chat emulator` on its own, with the credentials the service will be given; its
    base URL while it runs."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("STREAM_")}
    env.update({"STREAM_API_KEY": STREAM_KEY, "STREAM_API_SECRET": STREAM_SECRET})
    log_path = tmp_path / "emulator.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
            [*yc_chat_command(), "emulator", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            _wait_for_port(port, process, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(process)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[str]:
    """The emulator, set up as an operator sets up Stream (`yc-chat stream setup`)."""
    with _running_emulator(tmp_path) as base_url:
        assert _stream_setup(base_url).returncode == 0
        yield base_url


def _stream_setup(base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`yc-chat stream setup` against the emulator at `base_url`, as an operator runs it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("STREAM_")}
    env.update(
        {
            "STREAM_API_KEY": STREAM_KEY,
            "STREAM_API_SECRET": STREAM_SECRET,
            "STREAM_BASE_URL": base_url,
        }
    )
    return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [*yc_chat_command(), "stream", "setup", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_stream_setup_applies_the_grants_once_and_reports_them(tmp_path: Path) -> None:
    with _running_emulator(tmp_path) as base_url:
        check = _stream_setup(base_url, "--check")
        assert check.returncode == 1, check.stdout + check.stderr
        assert "NOT applied" in check.stdout
        first = _stream_setup(base_url)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "applied (grants set for: " in first.stdout
        again = _stream_setup(base_url)
        assert again.returncode == 0
        assert "already applied, nothing changed" in again.stdout
        assert _stream_setup(base_url, "--check").returncode == 0
        assert STREAM_SECRET not in first.stdout + first.stderr + again.stderr


@pytest.fixture
def server(tmp_path: Path, emulator: str) -> Iterator[Server]:
    fixture = tmp_path / "fixture.json"
    fixture.write_text(json.dumps(fixture_at(datetime.now(UTC))), encoding="utf-8")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JWT_", "STREAM_", "MONGODB_", "REDIS_", "TOKEN_RATE"))
    }
    # A real Stream configuration (key, secret and base URL), pointed at the emulator.
    env.update(
        {
            "JWT_SECRET": JWT_SECRET,
            "STREAM_API_KEY": STREAM_KEY,
            "STREAM_API_SECRET": STREAM_SECRET,
            "STREAM_BASE_URL": emulator,
        }
    )
    log = (tmp_path / "server.log").open("wb")
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
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.flush()
                pytest.fail("server exited: " + (tmp_path / "server.log").read_text())
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not become healthy in 30 s")
            time.sleep(0.1)
        yield Server(base, process)
    finally:
        _stop(process)
        log.close()
    output = (tmp_path / "server.log").read_text(encoding="utf-8")
    # SIGTERM stops the server gracefully, the adapters close, and the exit status is 0.
    assert process.returncode == 0, output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    assert "NOT persisted" in output
    assert JWT_SECRET not in output and STREAM_SECRET not in output


def test_frontend_flow_over_http(server: Server) -> None:
    status, ready = server.call("GET", "/readyz")
    assert (status, ready["status"]) == (200, "ready")

    # 1. Stream tokens for the vet and the pet owner.
    for user in ("vet-1", "owner-1"):
        status, token = server.call("POST", "/api/chat/token", user, {"userId": user})
        assert status == 200 and set(token) == {"token", "expiresAt", "apiKey", "baseUrl"}
        claims = jwt.decode(token["token"], STREAM_SECRET, algorithms=["HS256"])
        assert claims["user_id"] == user and claims["exp"] * 1000 == token["expiresAt"]
        # Key and address lead a client to the built-in emulator, which takes the token.
        assert token["baseUrl"].startswith("http://127.0.0.1:")
        assert_stream_accepts(token)

    # 2. The appointment chat, opened by the pet owner, the same for the vet.
    status, chat = server.call("POST", "/api/chat/channels", "owner-1", {"appointmentId": "apt-1"})
    assert status == 200 and chat["members"] == ["owner-1", "vet-1"]
    assert server.call("POST", "/api/chat/channels", "vet-1", {"appointmentId": "apt-1"})[1] == chat

    # 3. A colleague DM.
    dm_body = {"orgId": "org-1", "memberIds": ["vet-1", "nurse-1"], "createdBy": "vet-1"}
    status, dm = server.call("POST", "/api/chat/channels/internal", "vet-1", dm_body)
    assert status == 200 and dm["channelType"] == "messaging"

    # 4. A group, found colleagues by typeahead first.
    status, found = server.call("GET", "/api/orgs/org-1/search?query=pri", "vet-1")
    assert status == 200 and [r["id"] for r in found["results"]] == ["nurse-1"]
    group_body = {"orgId": "org-1", "name": "Surgery", "memberIds": ["nurse-1"],
                  "createdBy": "vet-1"}  # fmt: skip
    status, group = server.call("POST", "/api/chat/channels/group", "vet-1", group_body)
    assert status == 200 and group["members"] == ["vet-1", "nurse-1"]

    # 5. Member edit.
    status, edited = server.call(
        "POST",
        f"/api/chat/channels/group/{group['channelId']}/members",
        "vet-1",
        {"add": ["vet-2"], "addedBy": "vet-1"},
    )
    assert (status, edited) == (200, {"success": True})

    # 6. Lists.
    status, mine = server.call("GET", "/api/chat/channels", "vet-1")
    assert status == 200 and mine["nextCursor"] is None
    assert {c["id"] for c in mine["channels"]} == {
        chat["channelId"],
        dm["channelId"],
        group["channelId"],
    }
    status, groups = server.call("GET", "/api/chat/channels/groups?orgId=org-1", "vet-2")
    assert status == 200 and [g["id"] for g in groups["channels"]] == [group["channelId"]]
    status, members = server.call("GET", "/api/orgs/org-1/members?limit=2", "nurse-1")
    assert status == 200 and len(members["members"]) == 2 and members["nextCursor"]

    # 7. A signed webhook is acknowledged.
    event = json.dumps({"type": "message.new", "channel_id": chat["channelId"],
                        "message": {"text": "hi", "user": {"id": "owner-1"}}}).encode()  # fmt: skip
    signature = hmac.new(STREAM_SECRET.encode(), event, hashlib.sha256).hexdigest()
    status, ack = server.call(
        "POST", "/api/webhooks/stream", raw=event,
        headers={"X-Signature": signature, "X-Webhook-Id": "e2e-1"},
    )  # fmt: skip
    assert (status, ack) == (200, {"ok": True})

    # 8. End the appointment chat; the pet owner sees it closed.
    status, ended = server.call("POST", f"/api/chat/channels/{chat['channelId']}/end", "vet-1")
    assert (status, ended) == (200, {"success": True})
    status, owner_view = server.call("GET", "/api/chat/channels?role=pet-owner", "owner-1")
    assert status == 200
    [closed] = owner_view["channels"]
    assert closed["status"] == "ended" and closed["frozen"] is True

    # And an attacker gets nowhere.
    status, denied = server.call("POST", "/api/chat/token", None, {"userId": "vet-1"})
    assert status == 401 and denied["code"] == "missing_token"
