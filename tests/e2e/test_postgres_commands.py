"""The commands with DATABASE_URL, run through the real `yc-chat` console script on the real
PostgreSQL: `db upgrade`, and `serve` and `worker` refusing a schema behind theirs."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import asyncpg
import pytest

from tests.support import servers
from tests.support.demo import FIXTURE
from tests.support.postgres import create_database
from tests.support.processes import Process, base_env, request

SECRET = "postgres-cli-secret-" + "x" * 40


def _command() -> list[str]:
    script = Path(sys.executable).with_name("yc-chat")
    if script.exists():
        return [str(script)]
    found = shutil.which("yc-chat")
    return [found] if found else [sys.executable, "-m", "yc_chat"]


def run(
    *args: str, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [*_command(), *args],
        env=base_env(JWT_SECRET=SECRET, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("yc-chat: error: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


@pytest.fixture
def empty_database() -> str:
    return asyncio.run(create_database(servers.postgres_url()))


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_a_schema_behind_and_say_what_to_run(
    empty_database: str, command: str
) -> None:
    args = ["serve", "--port", str(servers.free_port())] if command == "serve" else ["worker"]
    result = run(*args, env={"DATABASE_URL": empty_database})
    assert result.returncode == 1  # the store is not ready, as when it is unreachable
    line = _one_error_line(result)
    assert "PostgreSQL schema is empty" in line and "run `yc-chat db upgrade`" in line


def test_db_upgrade_brings_the_schema_to_head_once_and_then_serve_starts(
    empty_database: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": empty_database}
    first = run("db", "upgrade", env=env)
    assert first.returncode == 0, first.stderr
    assert "upgraded from empty to" in first.stdout
    again = run("db", "upgrade", env=env)
    assert again.returncode == 0 and "already at" in again.stdout
    port = servers.free_port()
    serve = Process(
        "serve", ["serve", "--port", str(port)], base_env(JWT_SECRET=SECRET, **env), tmp_path
    )
    try:
        serve.wait_answering(f"http://127.0.0.1:{port}/healthz")
        status, body = request("GET", f"http://127.0.0.1:{port}/readyz")
        assert status == 200, body
    finally:
        serve.stop()


def test_serve_demo_migrates_by_itself(empty_database: str, tmp_path: Path) -> None:
    port = servers.free_port()
    env = base_env(DATABASE_URL=empty_database)
    serve = Process("demo", ["serve", "--demo", "--port", str(port)], env, tmp_path)
    try:
        serve.wait_answering(f"http://127.0.0.1:{port}/healthz")
        status, body = request("GET", f"http://127.0.0.1:{port}/readyz")
        assert status == 200, body
    finally:
        serve.stop()
    # The demo's clinic is in the database now: a later plain start finds the schema current.
    assert run("db", "upgrade", env={"DATABASE_URL": empty_database}).stdout.startswith(
        "PostgreSQL schema: already at"
    )


def test_both_databases_at_once_is_one_configuration_error() -> None:
    result = run(
        "serve", env={"DATABASE_URL": "postgresql://u@127.0.0.1/db", "MONGODB_URI": "mongodb://x/"}
    )
    assert result.returncode == 2
    assert "set only one of DATABASE_URL (PostgreSQL) and MONGODB_URI" in _one_error_line(result)


def test_db_upgrade_without_database_url_says_what_it_needs() -> None:
    result = run("db", "upgrade", env={})
    assert result.returncode == 2
    assert "DATABASE_URL" in _one_error_line(result)


def test_a_wrong_scheme_is_refused_without_echoing_the_url() -> None:
    result = run("serve", env={"DATABASE_URL": "mysql://root:hunter2@db/x"})
    assert result.returncode == 2
    line = _one_error_line(result)
    assert "DATABASE_URL must be a postgresql://" in line and "hunter2" not in result.stderr


def test_an_unreachable_server_is_one_line_naming_the_host_not_the_password() -> None:
    port = servers.free_port()  # nothing listens there
    result = run("worker", env={"DATABASE_URL": f"postgresql://u:hunter2@127.0.0.1:{port}/x"})
    assert result.returncode == 1
    line = _one_error_line(result)
    assert f"127.0.0.1:{port}" in line and "hunter2" not in result.stderr + result.stdout


def test_seed_and_events_work_on_postgres(empty_database: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": empty_database}
    assert run("db", "upgrade", env=env).returncode == 0
    seed = tmp_path / "clinic.json"
    seed.write_text(json.dumps(FIXTURE), encoding="utf-8")
    for _ in range(2):  # upserts: loading twice changes nothing
        loaded = run("seed", str(seed), env=env)
        assert loaded.returncode == 0, loaded.stderr
        assert "Loaded into PostgreSQL" in loaded.stdout
    counts = asyncio.run(_counts(empty_database))
    assert counts == (len(FIXTURE["users"]), len(FIXTURE["memberships"]))
    events = run("events", env=env)
    assert events.returncode == 0, events.stderr
    assert "inbox: pending 0, processing 0, done 0, parked 0" in events.stdout
    retry = run("events", "retry", "nope", env=env)
    assert retry.returncode == 1 and "no parked event 'nope'" in _one_error_line(retry)


async def _counts(url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        users = await conn.fetchval("SELECT count(*) FROM chat_users")
        members = await conn.fetchval("SELECT count(*) FROM chat_memberships")
    finally:
        await conn.close()
    return int(users), int(members)
