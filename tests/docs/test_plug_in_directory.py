"""The README's "Plug in your own directory": its SQLite adapter passes the shipped
Directory contract suite, run as a host would, in a project of its own (pytest-asyncio in
its default strict mode, no yc-chat test configuration)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _block(first_line: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    found = [block for block in blocks if block.startswith(first_line)]
    assert len(found) == 1, f"README lost its block starting {first_line!r}"
    return found[0]


def test_the_sqlite_example_passes_the_shipped_directory_suite(tmp_path: Path) -> None:
    (tmp_path / "sqlite_directory.py").write_text(_block("# sqlite_directory.py"))
    (tmp_path / "test_sqlite_directory.py").write_text(_block("# test_sqlite_directory.py"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(  # noqa: S603 - the running interpreter, fixed arguments
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-o", "asyncio_default_fixture_loop_scope=function", "--rootdir", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b11 passed\b", result.stdout), result.stdout


def test_a_broken_adapter_fails_the_shipped_suite(tmp_path: Path) -> None:
    # The suite can fail: an adapter whose search ignores accents' folding is caught.
    adapter = _block("# sqlite_directory.py").replace(
        "keys.matches(query)", "user.name.lower().startswith(query.raw.lower())"
    )
    (tmp_path / "sqlite_directory.py").write_text(adapter)
    (tmp_path / "test_sqlite_directory.py").write_text(_block("# test_sqlite_directory.py"))
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "search",
         "-o", "asyncio_default_fixture_loop_scope=function", "--rootdir", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "test_search_is_case_and_accent_insensitive_prefix_on_any_word" in result.stdout


def test_an_overridden_directory_serves_the_use_cases(tmp_path: Path) -> None:
    script = (
        _block("# sqlite_directory.py")
        + """
import asyncio
from yc_chat import in_memory
from yc_chat.domain.model import Membership, Org, User

async def main():
    directory = SqliteDirectory("clinic.db")
    await directory.put_org(Org(id="org-1", name="Happy Paws"))
    for uid, name in (("vet-1", "Dr. Ana Núñez"), ("nurse-1", "Nia Park")):
        await directory.put_user(User(id=uid, name=name))
        await directory.put_membership(Membership(org_id="org-1", user_id=uid, role="vet"))
    runtime = in_memory(directory=directory)
    hits = await runtime.service.search_colleagues(caller="vet-1", org_id="org-1", query="nia")
    print([m.user.name for m in hits], runtime.ports.directory is directory)

asyncio.run(main())
"""
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['Nia Park'] True"
