"""No test module imports another test module: what suites share lives in tests/support/
(or a conftest), so a test file can be moved, renamed or deleted without breaking another."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def imported_test_modules(source: str) -> set[str]:
    """The `test_*` modules an import in `source` names (as `import` or `from ... import`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {n for n in names if any(p.startswith("test_") for p in n.split("."))}
    return found


def test_the_check_finds_both_import_forms() -> None:
    assert imported_test_modules("from tests.http.test_fuzz import _build_app") == {
        "tests.http.test_fuzz",
        "tests.http.test_fuzz._build_app",
    }
    assert imported_test_modules("from tests.e2e import test_serve") == {"tests.e2e.test_serve"}
    assert imported_test_modules("import tests.unit.test_policies as p") == {
        "tests.unit.test_policies"
    }
    assert imported_test_modules("from tests.support.world import World") == set()


def test_no_test_module_imports_another_test_module() -> None:
    files = sorted(TESTS.rglob("test_*.py"))
    assert len(files) > 50
    offenders = {
        str(path.relative_to(TESTS)): sorted(found)
        for path in files
        if (found := imported_test_modules(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
