"""Strict request-body decoding, plugged into Litestar as a DTO.

Litestar's own body handling coerces loosely ("5" becomes 5, "true" becomes True). The
contract says a known field with a wrong type is a 400, so bodies are decoded here with
msgspec in strict mode instead. Being a DTO keeps two properties of Litestar's pipeline:
the body is parsed only after the middleware chain (413, 401, 429: pipeline.py) has run,
and the OpenAPI document still describes the request body from the same Struct.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from litestar.dto import AbstractDTO, DTOFieldDefinition
from litestar.typing import FieldDefinition

from yc_chat.domain.errors import FieldProblem, InvalidInput
from yc_chat.domain.limits import MAX_JSON_DEPTH

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.dto._backend import DTOBackend
    from litestar.openapi.spec import Reference, Schema

T = TypeVar("T")
_MISSING = re.compile(r"Object missing required field `([^`]+)`")


def _field_of(path: str) -> str:
    # msgspec reports `$.memberIds[0]`; clients know the field as `memberIds[0]`.
    if path.startswith("$."):
        return path[2:]
    return "body" if path in ("$", "") else path.lstrip("$")


def problem_from(error: msgspec.ValidationError) -> InvalidInput:
    """An InvalidInput naming the field msgspec complained about."""
    text = str(error)
    message, sep, path = text.rpartition(" - at `")
    if not sep:
        message, path = text, "$"
    field = _field_of(path.rstrip("`"))
    missing = _MISSING.fullmatch(message)
    if missing is not None:
        # Name the missing field itself, as clients know it.
        name = missing.group(1)
        field = name if field == "body" else f"{field}.{name}"
        message = "is required"
    return InvalidInput(f"{field}: {message}", details=[FieldProblem(field=field, message=message)])


# A JSON string (escapes included): brackets inside strings do not nest anything.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(raw: bytes, *, stop_after: int | None = None) -> int:
    """How deeply arrays and objects nest in `raw` (0 for a scalar), counted without
    parsing, so a hostile body cannot exhaust a recursive parser's stack first. Counting
    stops once the depth passes `stop_after`."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub(b"", raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_after is not None and deepest > stop_after:
                    break
        else:
            depth -= 1
    return deepest


def refuse_deep_json(raw: bytes) -> None:
    """400 for JSON nested deeper than the contract allows."""
    # Nothing nests deeper than its opening brackets number (those inside strings only add
    # to the count), so a body with few of them needs no scan: most bodies, every webhook.
    if raw.count(b"{") + raw.count(b"[") <= MAX_JSON_DEPTH:
        return
    if json_depth(raw, stop_after=MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise InvalidInput(
            f"The request body nests deeper than {MAX_JSON_DEPTH} levels",
            code="json_too_deep",
            details=[FieldProblem(field="body", message=f"nests deeper than {MAX_JSON_DEPTH}")],
        )


def decode_strict(raw: bytes, model: type[T]) -> T:
    """Decode a JSON body into `model`; raises InvalidInput on malformed JSON or wrong types."""
    if not raw.strip():
        raise InvalidInput(
            "A JSON request body is required",
            code="missing_body",
            details=[FieldProblem(field="body", message="is required")],
        )
    refuse_deep_json(raw)
    try:
        return msgspec.json.decode(raw, type=model, strict=True)
    except msgspec.ValidationError as exc:
        raise problem_from(exc) from None
    except msgspec.DecodeError:
        raise InvalidInput(
            "The request body is not valid JSON",
            code="malformed_json",
            details=[FieldProblem(field="body", message="is not valid JSON")],
        ) from None


class StrictBody(AbstractDTO[T]):
    """`dto=StrictBody[Model]`: decode the body strictly into a msgspec Struct."""

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(
        cls,
        field_definition: FieldDefinition,
        handler_id: str,
        backend_cls: type[DTOBackend] | None = None,
    ) -> None:
        # No transfer model: the Struct itself is the wire format.
        return None

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator
    ) -> Reference | Schema:
        return schema_creator.for_field_definition(FieldDefinition.from_annotation(cls.model_type))

    def decode_bytes(self, value: bytes) -> Any:
        return decode_strict(value, self.model_type)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        # Form bodies are not part of the contract; treat them as JSON would be treated.
        return decode_strict(msgspec.json.encode(value), self.model_type)
