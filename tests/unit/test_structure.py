"""The source tree's shape: no import cycles, an independent Stream emulator, small files.

The import graph is grimp's (the library import-linter is built on), with imports under
TYPE_CHECKING included unless a test says otherwise: a cycle through an annotation-only
import is still a cycle for whoever reads or moves the code.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

import yc_chat

PACKAGE = "yc_chat"
EMULATOR = "stream_emulator"
PACKAGES = (PACKAGE, EMULATOR)
SOURCE_ROOT = Path(yc_chat.__file__).parents[1]
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
MAX_LINES = 500


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        *PACKAGES, include_external_packages=True, exclude_type_checking_imports=False
    )


@pytest.fixture(scope="module")
def runtime_graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, exclude_type_checking_imports=True)


def import_cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a long import chain cannot hit the recursion limit.
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return cycles


def _ours(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in PACKAGES)


def own_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """Each module of yc_chat and the emulator, and the modules of both it imports directly."""
    modules = {m for m in graph.modules if _ours(m)}
    return {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}


def test_the_cycle_finder_finds_cycles_and_only_cycles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": set()}
    assert import_cycles(edges) == [["a", "b", "c"]]
    assert import_cycles({"x": {"y"}, "y": set()}) == []


def test_no_import_cycles_among_source_modules(graph: grimp.ImportGraph) -> None:
    edges = own_edges(graph)
    assert len(edges) > 50  # the graph really covers the source tree
    assert import_cycles(edges) == []


def test_the_domain_imports_ports_only_for_type_checking(
    runtime_graph: grimp.ImportGraph,
) -> None:
    # import-linter's layers contract lets domain name ports (annotations under
    # TYPE_CHECKING); at run time the domain must import nothing above it.
    assert not runtime_graph.chain_exists("yc_chat.domain", "yc_chat.ports", as_packages=True)
    for upper in ("yc_chat.adapters", "yc_chat.entrypoints"):
        assert not runtime_graph.chain_exists("yc_chat.domain", upper, as_packages=True)


def test_the_stream_emulator_imports_nothing_from_yc_chat(graph: grimp.ImportGraph) -> None:
    emulator = {EMULATOR, *graph.find_descendants(EMULATOR)}
    assert {f"{EMULATOR}.state", f"{EMULATOR}.api", f"{EMULATOR}.server"} <= emulator
    into_yc_chat = {
        (module, imported)
        for module in emulator
        for imported in graph.find_modules_directly_imported_by(module)
        if imported == PACKAGE or imported.startswith(PACKAGE + ".")
    }
    assert into_yc_chat == set()
    assert not graph.chain_exists(EMULATOR, PACKAGE, as_packages=True)


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_the_import_linter_contract_forbids_the_whole_of_yc_chat_to_the_emulator() -> None:
    # The whole package, not a list of its parts: a new part of yc_chat is covered at once.
    (contract,) = [c for c in _contracts() if c.get("source_modules") == [EMULATOR]]
    assert contract["type"] == "forbidden"
    assert contract["forbidden_modules"] == [PACKAGE]
    assert "ignore_imports" not in contract


def test_import_linter_sees_both_packages_and_keeps_six_contracts() -> None:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert config["tool"]["importlinter"]["root_packages"] == list(PACKAGES)
    assert len(_contracts()) >= 6


def test_the_fake_provider_and_stream_mapping_load_without_the_stream_sdk() -> None:
    # Embedding yc_chat with the fake provider (or decoding webhooks) must not need the
    # `stream` extra; the SDK-backed provider is imported on first use only.
    probe = (
        "import sys\n"
        "import yc_chat.adapters.fake_stream, yc_chat.adapters.stream.events\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'stream_chat', 'aiohttp'}))\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_the_stream_package_still_offers_the_sdk_provider() -> None:
    from yc_chat.adapters import stream
    from yc_chat.adapters.stream.provider import StreamChatProvider

    assert stream.StreamChatProvider is StreamChatProvider
    with pytest.raises(AttributeError):
        _ = stream.NoSuchThing  # type: ignore[attr-defined]


def test_no_source_file_is_over_500_lines() -> None:
    files = sorted(SOURCE_ROOT.rglob("*.py"))
    assert {path.relative_to(SOURCE_ROOT).parts[0] for path in files} == set(PACKAGES)
    assert len(files) > 50
    too_long = {
        str(path.relative_to(SOURCE_ROOT)): count
        for path in files
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}
