"""Message search as Stream's: `query` text (whole words, any case) and/or
`message_filter_conditions`, within the channels a filter selects; sorted and paged.

Message filters: `text` with `$q` (whole words), `$autocomplete` (word prefixes), `$eq`;
`id`, `user_id` (or `user.id`), `parent_id`, `type`, `cid` and custom fields with `$eq`,
`$ne`, `$in`, `$nin`, `$exists`; `pinned` and `silent` with booleans; `$and`/`$or`. Sorts:
`created_at`, `updated_at`, `id` and `relevance` (newest first by default). Cursors
(`next`, `previous`) are opaque: a page position and its order.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final

from stream_emulator.state import filters
from stream_emulator.state.errors import input_error
from stream_emulator.state.records import StreamMessage

MessagePredicate = Callable[[StreamMessage], bool]
_WORD: Final = re.compile(r"[\w]+", re.UNICODE)
SORTABLE: Final = frozenset({"created_at", "updated_at", "id", "relevance"})


def words(text: str) -> list[str]:
    """The text's words, case-folded."""
    return _WORD.findall(text.casefold())


def matches_query(message: StreamMessage, query: str) -> bool:
    """Every word of the query is a word of the message."""
    found = set(words(message.text))
    return all(word in found for word in words(query))


def _field(message: StreamMessage, field: str) -> object:
    reserved: dict[str, object] = {
        "id": message.id,
        "text": message.text,
        "type": message.type,
        "cid": message.cid,
        "user_id": message.user_id,
        "user.id": message.user_id,
        "parent_id": message.parent_id,
        "pinned": message.pinned_at is not None,
        "silent": message.silent,
    }
    if field in reserved:
        return reserved[field]
    return message.custom.get(field)


def _test(endpoint: str, field: str, operator: str, operand: object) -> MessagePredicate:
    def read(message: StreamMessage) -> object:
        return _field(message, field)

    if operator == "$q":
        if field != "text" or not isinstance(operand, str):
            raise input_error(endpoint, "$q searches text with a string")
        return lambda message: matches_query(message, operand)
    if operator == "$autocomplete":
        if field != "text" or not isinstance(operand, str):
            raise input_error(endpoint, "$autocomplete searches text with a string")
        prefixes = words(operand)
        return lambda message: all(
            any(word.startswith(p) for word in words(message.text)) for p in prefixes
        )
    if operator in ("$eq", "$ne"):
        equal = operator == "$eq"
        return lambda message: filters.json_equal(read(message), operand) == equal
    if operator in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise input_error(endpoint, f"{operator} on {field} needs a list")
        inside = operator == "$in"
        return lambda message: any(filters.json_equal(read(message), o) for o in operand) == inside
    if operator == "$exists":
        return lambda message: (read(message) is not None) == bool(operand)
    raise input_error(endpoint, f"operator {operator} is not supported on {field}")


def compile_message_filter(endpoint: str, conditions: object) -> MessagePredicate:
    """A predicate for `message_filter_conditions` (see the module docstring)."""
    if not isinstance(conditions, Mapping) or not conditions:
        raise input_error(endpoint, "message_filter_conditions must be a non-empty object")
    tests: list[MessagePredicate] = []
    for key, condition in conditions.items():
        if key in ("$and", "$or"):
            if not isinstance(condition, list) or not condition:
                raise input_error(endpoint, f"{key} needs a non-empty list of filters")
            parts = [compile_message_filter(endpoint, item) for item in condition]
            tests.append(functools.partial(_combined, all if key == "$and" else any, parts))
            continue
        if not isinstance(key, str) or key.startswith("$"):
            raise input_error(endpoint, f"operator {key} is not supported")
        operations = condition if isinstance(condition, Mapping) else {"$eq": condition}
        if not operations:
            raise input_error(endpoint, f"filter on {key} has no operator")
        tests.extend(_test(endpoint, key, str(op), operand) for op, operand in operations.items())
    return lambda message: all(test(message) for test in tests)


def _combined(
    combine: Callable[[Iterable[bool]], bool],
    parts: Sequence[MessagePredicate],
    message: StreamMessage,
) -> bool:
    return combine(part(message) for part in parts)


def sort_hits(
    endpoint: str, hits: list[tuple[object, StreamMessage]], sort: object
) -> list[tuple[object, StreamMessage]]:
    """Hits in the asked order (newest first without a sort)."""
    order = sort or [{"field": "created_at", "direction": -1}]
    if not isinstance(order, list):
        raise input_error(endpoint, "sort must be a list of {field, direction}")
    result = list(hits)
    for item in reversed(order):
        field = item.get("field") if isinstance(item, Mapping) else None
        direction = item.get("direction", 1) if isinstance(item, Mapping) else None
        if field not in SORTABLE or direction not in (1, -1):
            raise input_error(endpoint, f"search sorts by {sorted(SORTABLE)}, direction 1 or -1")
        if field == "relevance":
            continue
        result.sort(key=functools.partial(_sort_key, str(field)), reverse=direction == -1)
    return result


def _sort_key(field: str, hit: tuple[object, StreamMessage]) -> str:
    message = hit[1]
    if field == "id":
        return message.id
    value = message.updated_at or message.created_at if field == "updated_at" else None
    return (value or message.created_at).isoformat()


def cursor(offset: int, sort: object) -> str:
    """An opaque cursor: the page position and the order it is a position in."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset, "sort": sort}).encode()).decode()


def from_cursor(endpoint: str, value: object) -> tuple[int, object]:
    """The page position and sort of a cursor this emulator gave out."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(str(value).encode()))
    except (ValueError, UnicodeDecodeError):
        decoded = None
    offset = decoded.get("offset") if isinstance(decoded, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise input_error(endpoint, "next/previous is not a cursor of this search")
    return offset, decoded.get("sort")
