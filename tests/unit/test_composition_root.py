"""One composition root: only `entrypoints.bootstrap` (the package: its `__init__` and the
modules choosing one kind of adapter each) chooses concrete adapters, and its `in_memory()`
(the library's quick start) needs none of the optional extras."""

from __future__ import annotations

import subprocess
import sys

import grimp
import pytest

ROOT = "yc_chat.entrypoints.bootstrap"
ENTRYPOINTS = "yc_chat.entrypoints"
ADAPTERS = "yc_chat.adapters"
EMULATOR = "stream_emulator"
# The top-level packages of the `http`, `stream`, `mongo` and `push` extras.
EXTRAS = {
    "litestar", "uvicorn", "httpx", "redis", "stream_chat", "aiohttp", "beanie", "pymongo",
    "firebase_admin",
}  # fmt: skip


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("yc_chat", EMULATOR, exclude_type_checking_imports=False)


def _is_adapter(module: str) -> bool:
    return module == ADAPTERS or module.startswith(ADAPTERS + ".")


def test_only_the_composition_root_imports_adapters(graph: grimp.ImportGraph) -> None:
    # Whatever modules appear under entrypoints later, this covers them (the import-linter
    # contract says the same for `make test`'s lint step).
    entrypoints = graph.find_descendants(ENTRYPOINTS)
    assert ROOT in entrypoints and len(entrypoints) > 10
    root = {ROOT} | graph.find_descendants(ROOT)
    offenders = {
        (module, imported)
        for module in entrypoints - root
        for imported in graph.find_modules_directly_imported_by(module)
        if _is_adapter(imported)
    }
    assert offenders == set()
    assert any(_is_adapter(m) for m in graph.find_modules_directly_imported_by(ROOT))


def test_yc_chat_meets_the_emulator_only_in_fake_stream_and_where_its_server_starts(
    graph: grimp.ImportGraph,
) -> None:
    users = {
        (module, imported)
        for module in graph.find_descendants("yc_chat")
        for imported in graph.find_modules_directly_imported_by(module)
        if imported == EMULATOR or imported.startswith(EMULATOR + ".")
    }
    assert users == {
        ("yc_chat.adapters.fake_stream", "stream_emulator.state"),
        ("yc_chat.adapters.fake_stream.provider", "stream_emulator.state"),
        (ROOT, "stream_emulator.server"),
        (ROOT + ".chat", "stream_emulator.server"),
        ("yc_chat.entrypoints.runtime", "stream_emulator.server"),
        ("yc_chat.entrypoints.cli_serve", "stream_emulator.server"),
        ("yc_chat.entrypoints.cli_tools", "stream_emulator.server"),
    }


def test_the_library_root_imports_no_adapter(graph: grimp.ImportGraph) -> None:
    assert not any(_is_adapter(m) for m in graph.find_modules_directly_imported_by("yc_chat"))


def test_in_memory_runs_without_any_optional_extra() -> None:
    # The extras' packages are made unimportable: the quick start must not need them.
    probe = (
        "import asyncio, sys\n"
        f"for name in {sorted(EXTRAS)!r}:\n"
        "    sys.modules[name] = None\n"
        "from yc_chat import in_memory, parse_fixture\n"
        "runtime = in_memory()\n"
        "fixture = parse_fixture({'users': [{'id': 'u-1', 'name': 'Ana'}]})\n"
        "asyncio.run(runtime.load(fixture))\n"
        "token = asyncio.run(runtime.service.connect_user(caller='u-1', user_id='u-1'))\n"
        "print(bool(token.token), sorted(runtime.probes))\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True ['chat', 'setup', 'stores']"
