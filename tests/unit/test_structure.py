"""The source tree's shape: no import cycles, an independent Stream simulation, small files.

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
SIMULATION = "yc_chat.adapters.fake_stream.sim"
SOURCE_ROOT = Path(yc_chat.__file__).parent
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
MAX_LINES = 500


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        PACKAGE, include_external_packages=True, exclude_type_checking_imports=False
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


def own_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """Each yc_chat module and the yc_chat modules it imports directly."""
    modules = {m for m in graph.modules if m == PACKAGE or m.startswith(PACKAGE + ".")}
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


def test_the_stream_simulation_imports_nothing_else_from_yc_chat(
    graph: grimp.ImportGraph,
) -> None:
    simulation = {SIMULATION, *graph.find_descendants(SIMULATION)}
    assert len(simulation) > 5
    outside = {
        (module, imported)
        for module in simulation
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith(PACKAGE + ".") and imported not in simulation
    }
    assert outside == set()


def test_the_import_linter_contract_forbids_every_other_part_of_yc_chat(
    graph: grimp.ImportGraph,
) -> None:
    # The contract names what the simulation may not import; a new package (say a new
    # adapter) must join the list, or the contract would silently stop covering it.
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    (contract,) = [
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c.get("source_modules") == [SIMULATION]
    ]
    ancestors = (PACKAGE, "yc_chat.adapters", "yc_chat.adapters.fake_stream", SIMULATION)
    siblings = {
        child
        for parent in ancestors[:-1]
        for child in graph.find_children(parent)
        if child not in ancestors
    }
    assert "yc_chat.adapters.stream" in siblings
    assert siblings <= set(contract["forbidden_modules"])


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
    assert len(files) > 50
    too_long = {
        str(path.relative_to(SOURCE_ROOT)): count
        for path in files
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}
