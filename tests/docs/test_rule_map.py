"""The rule map in docs/architecture.md ("Where each contract rule lives") stays true: every
`file:name` it names exists with that top-level function, class or constant, and every test
file it names exists. Move or rename code and this test names the row to fix."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
HEADING = "## Where each contract rule lives"
_CODE = re.compile(r"`([^`\n]+)`")


def _rows() -> list[tuple[str, list[str], list[str]]]:
    """(rule group, places, tests) for each row of the map's table."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert HEADING in text, f"{ARCHITECTURE.name} lost its section {HEADING!r}"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not line.startswith("|") or set(cells[1]) <= {"-"}:
            continue
        if cells[0] == "contract rule group":
            continue
        rows.append((cells[0], _CODE.findall(cells[1]), _CODE.findall(cells[2])))
    return rows


def _top_level_names(path: Path) -> set[str]:
    """Functions, classes and assigned names at the top of a module."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _problems_of(place: str) -> str | None:
    """What is wrong with one `path` or `path:name` entry, or None."""
    path_text, _, name = place.partition(":")
    path = ROOT / path_text
    if not path_text.startswith("src/") or not path.is_file():
        return f"{path_text} is not a file under src/"
    if name and name not in _top_level_names(path):
        return f"{path_text} has no top-level {name}"
    return None


def test_the_map_covers_the_contract_rule_groups() -> None:
    rows = _rows()
    assert len(rows) >= 15, f"the rule map's table lost rows ({len(rows)} left)"
    groups = " ".join(group.lower() for group, _, _ in rows)
    for topic in (
        "appointment chat",
        "group",
        "limits",
        "token",
        "lifetime",
        "offboarding",
        "webhook",
        "check order",
    ):
        assert topic in groups, f"the rule map has no row about {topic!r}"
    for group, places, tests in rows:
        assert places, f"row {group!r} names no place in src/"
        assert tests, f"row {group!r} names no test file"


def test_every_place_in_the_map_exists() -> None:
    problems = [
        f"row {group!r}: {problem}"
        for group, places, _ in _rows()
        for problem in map(_problems_of, places)
        if problem is not None
    ]
    assert not problems, "\n".join(problems)


def test_every_test_file_in_the_map_exists() -> None:
    missing = [
        f"row {group!r}: {test} does not exist"
        for group, _, tests in _rows()
        for test in tests
        if not (test.startswith("tests/") and test.endswith(".py") and (ROOT / test).is_file())
    ]
    assert not missing, "\n".join(missing)


def test_a_wrong_entry_is_reported() -> None:
    """The checker itself can fail: a missing name, file or non-src path is named."""
    assert _problems_of("src/yc_chat/domain/policies.py:may_open_appointment_chat") is None
    assert _problems_of("src/yc_chat/domain/policies.py") is None
    assert _problems_of("src/yc_chat/domain/policies.py:no_such_rule") is not None
    assert _problems_of("src/yc_chat/domain/nowhere.py:may_open_appointment_chat") is not None
    assert _problems_of("tests/unit/test_policies.py") is not None
