"""One composition root: only `entrypoints.bootstrap` chooses concrete adapters, and its
`in_memory()` (the library's quick start) needs none of the optional extras."""

from __future__ import annotations

import subprocess
import sys

import grimp
import pytest

ROOT = "yc_chat.entrypoints.bootstrap"
ENTRYPOINTS = "yc_chat.entrypoints"
ADAPTERS = "yc_chat.adapters"
EMULATOR = "yc_chat.entrypoints.stream_emulator"
SIMULATION = "yc_chat.adapters.fake_stream.sim"
# The top-level packages of the `http`, `stream`, `mongo` and `push` extras.
EXTRAS = {
    "litestar", "uvicorn", "httpx", "redis", "stream_chat", "aiohttp", "beanie", "pymongo",
    "firebase_admin",
}  # fmt: skip


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("yc_chat", exclude_type_checking_imports=False)


def _is_adapter(module: str) -> bool:
    return module == ADAPTERS or module.startswith(ADAPTERS + ".")


def test_only_the_composition_root_imports_adapters(graph: grimp.ImportGraph) -> None:
    # Whatever modules appear under entrypoints later, this covers them (the import-linter
    # contract says the same for `make test`'s lint step).
    entrypoints = graph.find_descendants(ENTRYPOINTS)
    assert ROOT in entrypoints and len(entrypoints) > 10
    offenders = {
        (module, imported)
        for module in entrypoints - {ROOT}
        for imported in graph.find_modules_directly_imported_by(module)
        if _is_adapter(imported)
        # The emulator serves the Stream simulation over HTTP: it is that simulation's own
        # entrypoint, not a chooser of the service's adapters.
        and not (module.startswith(EMULATOR) and imported.startswith(SIMULATION))
    }
    assert offenders == set()
    assert any(_is_adapter(m) for m in graph.find_modules_directly_imported_by(ROOT))


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
    assert result.stdout.strip() == "True ['chat', 'stores']"
