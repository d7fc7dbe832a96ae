"""The README's library example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_embed_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "README lost its library example"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", blocks[0]], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "apt_" in result.stdout
    assert "('owner-1', 'vet-1')" in result.stdout
    assert "['Nia Park']" in result.stdout


def test_readme_names_the_two_commands_first() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    assert first_block.splitlines()[0].startswith("make serve")
    assert first_block.splitlines()[1].startswith("make test")
