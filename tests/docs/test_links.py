"""Every internal link in the README and docs/ points at something in this repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return "".join(c for c in text if c.isalnum() or c in " -_").replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    text = _FENCE.sub("", document.read_text(encoding="utf-8"))
    return {_slug(h) for h in re.findall(r"^#{1,6} +(.+?) *$", text, re.M)}


def _links(document: Path) -> list[str]:
    text = _CODE.sub("", _FENCE.sub("", document.read_text(encoding="utf-8")))
    return [target for target in _LINK.findall(text) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_internal_links_resolve_inside_the_repository(document: Path) -> None:
    links = _links(document)
    for target in links:
        path, _, anchor = target.partition("#")
        resolved = (document.parent / path).resolve() if path else document
        assert resolved.is_relative_to(ROOT), f"{target} leaves the repository"
        assert resolved.exists(), f"{document.name}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in _anchors(resolved), f"{document.name}: no heading for {target}"


def test_docs_exist_and_the_readme_links_them() -> None:
    readme_links = {link.partition("#")[0] for link in _links(ROOT / "README.md")}
    for document in DOCUMENTS[1:]:
        assert str(document.relative_to(ROOT)) in readme_links, f"README does not link {document}"
    assert "docs/api.md" in readme_links
    assert "../shared" not in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_checker_catches_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n[ok](#title) [gone](missing.md) `[code](x.md)`\n", encoding="utf-8")
    assert _links(page) == ["#title", "missing.md"]
    assert "title" in _anchors(page)
    assert not (tmp_path / "missing.md").exists()
