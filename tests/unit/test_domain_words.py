"""The domain speaks its own words: use cases name fields by their own parameters (the HTTP
edge renames them) and depend on the narrow appointment ports they use."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import attrs
import pytest

from yc_chat.domain import usecases

USECASES = Path(usecases.__file__).resolve().parent
# Calls whose first argument, or `field=` keyword, names an input field.
FIELD_NAMING = {
    "add",
    "identifier",
    "identifiers",
    "int_range",
    "channel_id",
    "https_url",
    "display_name",
    "deny_not_caller",
}
DOMAIN_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _field_names(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        called = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if isinstance(node.func, ast.Name):
            called = node.func.id
        arguments = [kw.value for kw in node.keywords if kw.arg == "field"]
        if called in FIELD_NAMING and node.args:
            arguments.append(node.args[0])
        names += [a.value for a in arguments if isinstance(a, ast.Constant)]
    return [name for name in names if isinstance(name, str)]


@pytest.mark.parametrize("path", sorted(USECASES.glob("*.py")), ids=lambda p: p.name)
def test_use_cases_name_fields_in_the_domains_words(path: Path) -> None:
    wire_spelled = [name for name in _field_names(path) if not DOMAIN_NAME.fullmatch(name)]
    assert wire_spelled == []


def test_the_field_scan_sees_the_use_cases_fields() -> None:
    # Guards the test above against passing because it finds nothing.
    assert {"member_ids", "created_by", "appointment_id"} <= set(
        _field_names(USECASES / "groups.py") + _field_names(USECASES / "appointments.py")
    )


def test_use_cases_depend_on_narrow_appointment_ports() -> None:
    wide = [
        f"{name}.{field.name}"
        for name in usecases.__all__
        if attrs.has(cls := getattr(usecases, name))
        for field in attrs.fields(cls)
        if "AppointmentStore" in str(field.type)
    ]
    assert wide == []


@pytest.mark.parametrize("path", sorted(USECASES.glob("*.py")), ids=lambda p: p.name)
def test_no_wire_spelled_word_in_the_use_cases(path: Path) -> None:
    # camelCase is how the wire spells things (HTTP bodies, push payloads): edges own it.
    camel = re.compile(r"[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*")
    strings = [
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert [s for s in strings if camel.fullmatch(s)] == []
