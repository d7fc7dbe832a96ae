"""`yc-chat --version`, and usage mistakes answered with the subcommand's own usage."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.support.commands import run

ROOT = Path(__file__).resolve().parents[2]


def test_version_is_the_package_version(tmp_path: Path) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"yc-chat {project['version']}"


@pytest.mark.parametrize(
    ("args", "usage", "option"),
    [
        (["serve", "--bogus"], "usage: yc-chat serve ", "--no-worker"),
        (["worker", "--bogus"], "usage: yc-chat worker ", "--metrics-port"),
        (["events", "retry", "abc", "--bogus"], "usage: yc-chat events retry ", "ID"),
        (["dev-token", "u1", "extra"], "usage: yc-chat dev-token ", "--ttl"),
    ],
)
def test_an_unknown_option_shows_its_subcommands_usage(
    tmp_path: Path, args: list[str], usage: str, option: str
) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(usage), result.stderr
    assert option in result.stderr  # the subcommand's options, not the top level's
    command = usage.removeprefix("usage: ").strip()
    assert f"{command}: error: unrecognized arguments: {args[-1]}" in result.stderr
    assert "Traceback" not in result.stderr
