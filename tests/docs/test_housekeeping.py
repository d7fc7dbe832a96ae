"""The tools a contributor expects: `make fmt`, pre-commit hooks, the changelog."""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _hooks() -> dict[str, dict[str, str]]:
    """The hooks of .pre-commit-config.yaml by id (its flat `key: value` lines; no YAML
    library needed for a file this simple)."""
    hooks: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    text = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    for line in text.splitlines():
        match = re.match(r"\s+(?:- )?(id|name|entry|language|pass_filenames): (.+)$", line)
        if match is None:
            continue
        key, value = match.groups()
        if key == "id":
            current = hooks[value] = {}
        elif current is not None:
            current[key] = value
    return hooks


def test_make_fmt_formats_and_fixes_what_make_lint_checks() -> None:
    result = subprocess.run(
        ["make", "-n", "fmt"],  # noqa: S607 - make from PATH, as a contributor runs it
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert ".venv/bin/ruff format src tests bench" in result.stdout
    assert ".venv/bin/ruff check --fix src tests bench" in result.stdout


def test_pre_commit_runs_ruff_mypy_and_import_linter_from_the_venv() -> None:
    hooks = _hooks()
    assert {"ruff-format", "ruff-check", "mypy", "import-linter"} <= set(hooks)
    for hook in hooks.values():
        assert hook["language"] == "system"
        executable = shlex.split(str(hook["entry"]))[0]
        assert (ROOT / executable).is_file(), executable


def test_the_ruff_hooks_fix_a_file(tmp_path: Path) -> None:
    hooks = _hooks()
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nx=1\n", encoding="utf-8")
    for hook_id in ("ruff-check", "ruff-format"):
        command = [str(ROOT / part) if part.startswith(".venv/") else part
                   for part in shlex.split(str(hooks[hook_id]["entry"]))]  # fmt: skip
        subprocess.run(  # noqa: S603 - the hook's own command on a scratch file
            [*command, "--config", str(ROOT / "pyproject.toml"), str(bad)],
            cwd=tmp_path, capture_output=True, timeout=60, check=False,
        )  # fmt: skip
    assert bad.read_text(encoding="utf-8") == "x = 1\n"


def test_the_changelog_has_this_release() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {version}" in changelog


def test_contributing_names_real_targets_and_where_code_goes() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"`make ([a-z]+)`", text))
    assert {"fmt", "lint", "types", "imports", "unit", "suite", "js", "test"} <= targets
    for target in targets:
        assert re.search(rf"^{target}:", makefile, re.M), f"no make target {target}"
    for place in ("**A use case**", "**An adapter**", "**An emulator endpoint**"):
        assert place in text
    for path in re.findall(r"`((?:src|tests)/[\w/]+/)`", text):
        assert (ROOT / path).is_dir(), path
