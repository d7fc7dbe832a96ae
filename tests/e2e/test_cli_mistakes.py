"""A newcomer's first mistakes, each run through the real `yc-chat` console script.

Every mistake ends with a non-zero exit status and one `yc-chat: error: ...` line saying
what is wrong and what to do, and never a traceback. Stopping a running server with Ctrl-C
is not a mistake: it exits 0, just as quietly.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from tests.support.commands import (
    assert_one_line_error,
    clean_env,
    free_port,
    run,
    yc_chat_command,
)

SECRET = "cli-test-secret-" + "x" * 40


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "fragments"),
    [
        ({"MONGODB_URI": "http://localhost"}, ("MONGODB_URI", "mongodb://")),
        ({"REDIS_URL": "notaurl"}, ("REDIS_URL", "redis://")),
        ({"STREAM_API_SECRET": "only-the-secret"}, ("STREAM_API_KEY", "STREAM_API_SECRET")),
        ({"STREAM_API_KEY": "only-the-key"}, ("STREAM_API_KEY", "STREAM_API_SECRET")),
        ({"STREAM_BASE_URL": "http://127.0.0.1:8800"}, ("STREAM_BASE_URL", "STREAM_API_KEY")),
    ],
)
def test_bad_configuration_is_one_line_before_anything_starts(
    tmp_path: Path, env: dict[str, str], fragments: tuple[str, ...]
) -> None:
    result = run("serve", "--demo", env=env, cwd=tmp_path)
    line = assert_one_line_error(result, "invalid configuration", *fragments)
    assert result.returncode == 2
    assert result.stdout == ""  # nothing started, nothing loaded
    for value in env.values():
        assert value not in line  # URLs may carry passwords; they are never echoed


@pytest.mark.parametrize("command", [["serve", "--demo"], ["seed", "fixture.json"], ["events"]])
def test_every_configuration_problem_is_listed_at_once(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "fixture.json").write_text("{}", encoding="utf-8")
    env = {"MONGODB_URI": "http://localhost", "REDIS_URL": "notaurl", "STREAM_API_SECRET": "s"}
    result = run(*command, env=env, cwd=tmp_path)
    assert_one_line_error(result, "MONGODB_URI", "REDIS_URL", "STREAM_API_KEY")
    assert result.stdout == ""


def test_unreachable_mongodb_is_one_line_without_the_driver_dump(tmp_path: Path) -> None:
    env = {"MONGODB_URI": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"}
    result = run("events", "retry", "abc", env=env, cwd=tmp_path)
    line = assert_one_line_error(result, "MongoDB", "127.0.0.1:1")
    assert "Topology" not in result.stderr and len(line) < 200


def test_events_without_mongodb_is_a_mistake(tmp_path: Path) -> None:
    for command in (["events"], ["events", "retry", "abc"]):
        result = run(*command, cwd=tmp_path)
        assert_one_line_error(result, "MONGODB_URI is not set")
        assert result.returncode == 2


# -- seed: the fixture file ------------------------------------------------------------------

_GOOD = {
    "orgs": [{"id": "org-1", "name": "Happy Paws"}],
    "users": [
        {"id": "vet-1", "name": "Dr. Ana Núñez", "email": "ana@hp.example", "kind": "staff"},
        {"id": "owner-1", "name": "Sam Lee", "kind": "pet_owner"},
    ],
    "memberships": [{"orgId": "org-1", "userId": "vet-1", "role": "vet"}],
    "appointments": [
        {"id": "apt-1", "orgId": "org-1", "petOwnerId": "owner-1", "vetId": "vet-1",
         "startsAt": "2026-01-15T14:00:00Z", "petName": "Rex", "petOwnerName": "Sam Lee"}
    ],
}  # fmt: skip


def _with(section: str, index: int, **changes: object) -> dict[str, object]:
    data = json.loads(json.dumps(_GOOD))
    data[section][index].update(changes)
    return data


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (b"[]", ("JSON object", "not a list")),
        (b"null", ("JSON object", "not null")),
        ('{"orgs": [{"id": "caf\u00e9"}]}'.encode("latin-1"), ("not UTF-8", "0xe9")),
        (b'{"orgs": ', ("not valid JSON", "line 1")),
        (b'{"orgs": "x"}', ("orgs: must be a list of objects, not a string",)),
        (_with("appointments", 0, startsAt="tomorrow"), ("appointments[0].startsAt", "ISO-8601")),
        (_with("users", 1, kind="owner"), ("users[1].kind", "not one of staff, pet_owner")),
        (_with("appointments", 0, chatStatus="open"), ("chatStatus", "pending, active, ended")),
        (_with("memberships", 0, role="adimn"), ("memberships[0].role", "owner, admin, vet")),
        (_with("users", 1, id="vet-1"), ("users[1]", "duplicate user id", "users[0]")),
        (_with("users", 0, id="auth0|abc"), ("users[0].id", "Stream")),
        (_with("users", 0, id=5), ("users[0].id", "must be a string")),
        (_with("memberships", 0, userId="ghost"), ("memberships[0].userId", "ghost")),
        (_with("orgs", 0, colour="blue"), ("orgs[0]", "unknown key", "colour")),
    ],
)
def test_each_malformed_fixture_is_one_line(
    tmp_path: Path, content: bytes | dict[str, object], fragments: tuple[str, ...]
) -> None:
    fixture = tmp_path / "fixture.json"
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    fixture.write_bytes(raw)
    result = run("seed", str(fixture), cwd=tmp_path)
    line = assert_one_line_error(result, str(fixture), *fragments)
    assert result.returncode == 2 and result.stdout == ""
    assert "starts_at" not in line and "pet_owner_id" not in line  # the file's words only


def test_seed_names_every_problem_at_once_and_counts_in_words(tmp_path: Path) -> None:
    bad = _with("users", 1, kind="owner")
    bad["appointments"][0]["startsAt"] = "tomorrow"  # type: ignore[index]
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    line = assert_one_line_error(run("seed", "bad.json", cwd=tmp_path), "(2 problems)")
    assert "users[1].kind" in line and "appointments[0].startsAt" in line
    one = {
        "orgs": [_GOOD["orgs"][0]],
        "users": [_GOOD["users"][0]],
        "roles": ["technician"],  # a role beyond the contract's, declared
        "memberships": [{"orgId": "org-1", "userId": "vet-1", "role": "technician"}],
    }
    (tmp_path / "one.json").write_text(json.dumps(one), encoding="utf-8")
    result = run("seed", "one.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "(1 org, 1 user, 1 membership, 0 appointments)" in result.stdout
    assert "MONGODB_URI" in result.stdout


# -- dev-token -------------------------------------------------------------------------------


def test_dev_token_takes_the_same_durations_as_chat_token_ttl(tmp_path: Path) -> None:
    result = run("dev-token", "vet-1", "--ttl", "24h", env={"JWT_SECRET": SECRET}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 24 * 3600
    bad = run("dev-token", "vet-1", "--ttl", "forever", env={"JWT_SECRET": SECRET}, cwd=tmp_path)
    assert_one_line_error(bad, "--ttl", "24h")
    assert_one_line_error(run("dev-token", "vet-1", cwd=tmp_path), "JWT_SECRET")


# -- help, packaging -------------------------------------------------------------------------


def test_every_command_has_a_description(tmp_path: Path) -> None:
    top = run("--help", cwd=tmp_path)
    assert top.returncode == 0
    for command, words in {
        "serve": ("HTTP service", "--reload", "--demo"),
        "worker": ("MONGODB_URI",),
        "events": ("MONGODB_URI", "parked"),
        "dev-token": ("JWT_SECRET", "24h"),
        "seed": ("orgs", "memberships", "appointments", "MONGODB_URI", "Fixture format"),
        "emulator": ("STREAM_BASE_URL",),
    }.items():
        assert command in top.stdout
        result = run(command, "--help", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        text = " ".join(result.stdout.split())  # argparse wraps lines
        for word in words:
            assert word in text, (command, word)


def test_python_dash_m_runs_the_same_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "yc_chat", "--help"],
        env=clean_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and "usage: yc-chat" in result.stdout


# Modules of the optional extras; None in sys.modules makes an import of them fail as if
# they were not installed, like after a bare `pip install yc-chat`.
_BARE_INSTALL = """
import sys
import threading
for name in ("litestar", "uvicorn", "redis", "httpx", "stream_chat", "aiohttp", "beanie",
             "pymongo", "firebase_admin"):
    sys.modules[name] = None
from yc_chat.entrypoints.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_extras_help_works_and_commands_name_the_extra(tmp_path: Path) -> None:
    def bare(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-c", _BARE_INSTALL, *args],
            env=clean_env({"JWT_SECRET": SECRET}),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert bare("--help").returncode == 0
    assert bare("serve", "--help").returncode == 0
    assert_one_line_error(bare("serve", "--demo"), "pip install 'yc-chat[http,stream")
    # Checking a fixture needs no extra at all.
    fixture = tmp_path / "fixture.json"
    fixture.write_text('{"orgs": [{"id": "org-1", "name": "Happy Paws"}]}', encoding="utf-8")
    checked = bare("seed", str(fixture))
    assert checked.returncode == 0, checked.stderr
    assert "(1 org, 0 users, 0 memberships, 0 appointments)" in checked.stdout


# -- .env ------------------------------------------------------------------------------------


def test_dot_env_is_read_and_the_real_environment_wins(tmp_path: Path) -> None:
    other = "dotenv-secret-" + "y" * 40
    (tmp_path / ".env").write_text(
        f"# local settings\nJWT_SECRET='{other}'\nexport JWT_AUDIENCE=from-dotenv\n",
        encoding="utf-8",
    )
    from_file = run("dev-token", "u1", cwd=tmp_path)
    assert from_file.returncode == 0, from_file.stderr
    claims = jwt.decode(
        from_file.stdout.strip(), other, algorithms=["HS256"], audience="from-dotenv"
    )
    assert claims["sub"] == "u1"
    wins = run("dev-token", "u1", env={"JWT_SECRET": SECRET}, cwd=tmp_path)
    jwt.decode(wins.stdout.strip(), SECRET, algorithms=["HS256"], audience="from-dotenv")
    missing = run("--env-file", "nope.env", "dev-token", "u1", cwd=tmp_path)
    assert_one_line_error(missing, "nope.env")


# -- serve: the port, Ctrl-C -----------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_port_in_use_is_one_line(tmp_path: Path, busy_port: int) -> None:
    result = run("serve", "--demo", "--port", str(busy_port), cwd=tmp_path)
    assert_one_line_error(result, f"port {busy_port}", "already in use", "--port")
    assert result.returncode == 1
    assert result.stdout == ""  # no demo banner: nothing started
    emulator = run("emulator", "--port", str(busy_port), cwd=tmp_path)
    assert_one_line_error(emulator, "already in use")


class Terminal:
    """A pseudo-terminal for the child's stderr (it then logs text), read on a thread."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self.chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.chunks.append(chunk)

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")

    def close(self) -> None:
        os.close(self.slave)
        self._reader.join(timeout=5)
        os.close(self.master)


def test_ctrl_c_stops_the_demo_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "out.log"
    terminal = Terminal()
    process = subprocess.Popen(  # noqa: S603
        [*yc_chat_command(), "serve", "--demo", "--port", str(free_port())],
        env=clean_env(),
        cwd=tmp_path,
        stdout=out.open("w"),
        stderr=terminal.slave,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "yc-chat demo" not in out.read_text(encoding="utf-8"):
            assert process.poll() is None, terminal.text()
            assert time.monotonic() < deadline, "the demo did not start in 60 s"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
        terminal.close()
    stderr = terminal.text()
    assert "Traceback" not in stderr and "CancelledError" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert "Application shutdown complete" in stderr
    # In a terminal the log is text lines, not JSON.
    assert "INFO    yc_chat.cli: stopped  [signal=SIGINT]" in stderr
    assert '{"time"' not in stderr
    # One server announces itself: the built-in emulator's own start is not logged.
    assert stderr.count("Application startup complete") == 1
    assert out.read_text(encoding="utf-8").count("yc-chat demo clinic is up") == 1
