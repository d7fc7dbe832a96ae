"""docs/api.md is the served OpenAPI document, rendered: it cannot drift from the service."""

from __future__ import annotations

from pathlib import Path

from yc_chat.entrypoints.api_reference import render, served_document

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_docs_api_md_is_the_served_document_rendered() -> None:
    expected = render(served_document())
    actual = API_MD.read_text(encoding="utf-8")
    assert actual == expected, "docs/api.md is out of date: run `make docs` and commit it"


def test_the_reference_names_every_operation_and_schema() -> None:
    document = served_document()
    text = render(document)
    for path, item in document["paths"].items():
        for method in item:
            assert f"### {method.upper()} {path}" in text
    for name in document["components"]["schemas"]:
        assert f"### {name}" in text
    assert "Request fulfilled" not in text
