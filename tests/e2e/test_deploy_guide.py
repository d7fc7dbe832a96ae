"""docs/deploy.md's rehearsal runs as written: its shell block, in bash, on FerretDB and Redis.

Only the addresses change (the session's FerretDB and Redis, free ports instead of 8800,
3001, 3002 and 9101). The block starts the emulator, two `serve --no-worker` and one
`worker --metrics-port`, sends a signed webhook to the second server and waits for the
push in the worker's log; the test then checks what each command printed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from tests.support import servers

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
PORTS = ("8800", "3001", "3002", "9101")


def rehearsal_block() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Rehearse it on one machine", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "docs/deploy.md lost its rehearsal block"
    return match.group(1)


def _stop_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM every process the script started (its own process group), then wait."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def database() -> Any:
    name = f"yc_rehearsal_{uuid.uuid4().hex[:10]}"
    yield name
    client: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_uri())
    client.drop_database(name)
    client.close()


def test_the_rehearsal_runs_as_documented(tmp_path: Path, database: str) -> None:
    script = rehearsal_block()
    assert "DATABASE_NAME=yc_rehearsal" in script
    script = script.replace("mongodb://127.0.0.1:27017", servers.mongodb_uri())
    script = script.replace("redis://127.0.0.1:6379/0", servers.redis_url())
    script = script.replace("DATABASE_NAME=yc_rehearsal", f"DATABASE_NAME={database}")
    for port in PORTS:
        script = re.sub(rf"\b{port}\b", str(servers.free_port()), script)
    (tmp_path / "rehearsal.sh").write_text(script, encoding="utf-8")
    prefixes = ("JWT_", "STREAM_", "MONGODB_", "REDIS_", "DATABASE_", "PUSH_", "LOG_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    # `yc-chat` as an operator has it: on PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    process = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "rehearsal.sh"],  # noqa: S607
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        _stop_group(process)
        output, _ = process.communicate()
        logs = {p.name: p.read_text()[-2000:] for p in tmp_path.glob("*.log")}
        raise AssertionError(f"the rehearsal did not finish:\n{output}\n{logs}") from None
    finally:
        _stop_group(process)
    logs = {p.name: p.read_text() for p in tmp_path.glob("*.log")}
    assert process.returncode == 0, f"{output}\n{logs}"
    assert "valid (1 org, 2 users, 2 memberships, 0 appointments)" in output
    assert output.count('"status":"ready"') >= 2, output
    assert '"channelId":"ward"' in output
    assert '{"ok":true}' in output
    pushes = [line for line in output.splitlines() if '"push notification"' in line]
    # JSON log lines: the recipient field, however the encoder spaces it.
    assert len(pushes) == 1 and re.search(r'"recipient":\s*"nurse-1"', pushes[0]), output
    assert "Rex is limping" not in logs["worker.log"]  # message text is never logged
    assert re.search(r"^yc_chat_pushes_sent_total 1\.0$", output, re.M), output
    assert re.search(
        r'^yc_chat_events_processed_total\{kind="message_posted"\} 1\.0$', output, re.M
    ), output
    # Stopped with SIGTERM, as the guide says: every process ended without a traceback.
    for name, log in logs.items():
        assert "Traceback" not in log, (name, log[-3000:])
