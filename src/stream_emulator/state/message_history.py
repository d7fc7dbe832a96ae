"""Message history, as Stream's QueryMessageHistory answers it: every earlier version of an
edited message (text, attachments, custom fields), who set it and when.

An edit that changes a message's content keeps the version it replaces; pins and other
flags are not edits. A hard delete forgets the message's history. The query selects one
message's versions (`message_id` with `$eq` or `$in`, narrowed by `message_updated_by_id`
and `message_updated_at`), sorted by `message_updated_at` (newest first by default), and
pages with opaque `next`/`prev` cursors.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Final

import attrs

from stream_emulator.state import message_search, payloads
from stream_emulator.state.errors import input_error
from stream_emulator.state.message_fields import parse_time
from stream_emulator.state.records import StreamMessage

ENDPOINT: Final = "QueryMessageHistory"
DEFAULT_LIMIT: Final = 10
MAX_LIMIT: Final = 100
_TIME_OPERATORS: Final[Mapping[str, Callable[[datetime, datetime], bool]]] = {
    "$eq": lambda a, b: a == b,
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One earlier version of a message."""

    message_id: str
    text: str
    attachments: tuple[Mapping[str, object], ...]
    custom: Mapping[str, object]
    is_deleted: bool
    updated_at: datetime
    updated_by: str
    # Versions set in the same instant keep their order.
    sequence: int

    def as_json(self) -> dict[str, object]:
        """Stream's `MessageHistoryEntryResponse`, custom fields flattened beside."""
        return {
            **self.custom,
            "message_id": self.message_id,
            "text": self.text,
            "attachments": [dict(a) for a in self.attachments],
            "custom": dict(self.custom),
            "is_deleted": self.is_deleted,
            "message_updated_at": payloads.format_time(self.updated_at),
            "message_updated_by_id": self.updated_by,
        }


class MessageHistory:
    """Every edited message's earlier versions, and who set each message's current one."""

    def __init__(self) -> None:
        self._entries: dict[str, list[HistoryEntry]] = {}
        self._editors: dict[str, str] = {}
        self._sequence = itertools.count()

    def record(self, before: StreamMessage, after: StreamMessage, editor: str) -> None:
        """Keep `before` if `after` (set by `editor`) changed its content."""
        content = (before.text, before.attachments, dict(before.custom))
        if content == (after.text, after.attachments, dict(after.custom)):
            return
        self._entries.setdefault(before.id, []).append(
            HistoryEntry(
                message_id=before.id,
                text=before.text,
                attachments=before.attachments,
                custom=dict(before.custom),
                is_deleted=before.deleted_at is not None,
                updated_at=before.updated_at or before.created_at,
                updated_by=self._editors.get(before.id, before.user_id),
                sequence=next(self._sequence),
            )
        )
        self._editors[before.id] = editor

    def forget(self, message_id: str) -> None:
        """A hard-deleted message leaves no history."""
        self._entries.pop(message_id, None)
        self._editors.pop(message_id, None)

    def query(
        self, conditions: object, sort: object, *, limit: int, offset: int
    ) -> tuple[list[HistoryEntry], bool]:
        """The page of matching versions and whether more follow."""
        if not 0 <= limit <= MAX_LIMIT:
            raise input_error(ENDPOINT, f"limit must be 0 to {MAX_LIMIT}")
        wanted = _compile(conditions)
        ids = _message_ids(conditions)
        found = [e for mid in ids for e in self._entries.get(mid, []) if wanted(e)]
        newest_first = _newest_first(sort)
        found.sort(key=lambda e: (e.updated_at, e.sequence), reverse=newest_first)
        page = found[offset : offset + (limit or DEFAULT_LIMIT)]
        return page, offset + len(page) < len(found)


def page_cursors(offset: int, limit: int, more: bool, sort: object) -> dict[str, str]:
    """`next` and `prev` for the page at `offset` (absent at the ends)."""
    size = limit or DEFAULT_LIMIT
    cursors: dict[str, str] = {}
    if more:
        cursors["next"] = message_search.cursor(offset + size, sort)
    if offset:
        cursors["prev"] = message_search.cursor(max(offset - size, 0), sort)
    return cursors


def _message_ids(conditions: object) -> list[str]:
    if not isinstance(conditions, Mapping) or "message_id" not in conditions:
        raise input_error(ENDPOINT, "filter must name message_id ($eq or $in)")
    value = conditions["message_id"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping) and len(value) == 1:
        ((operator, operand),) = value.items()
        if operator == "$eq" and isinstance(operand, str):
            return [operand]
        if (
            operator == "$in"
            and isinstance(operand, list)
            and all(isinstance(i, str) for i in operand)
        ):
            return list(dict.fromkeys(operand))
    raise input_error(ENDPOINT, "message_id takes $eq (a string) or $in (strings)")


def _compile(conditions: object) -> Callable[[HistoryEntry], bool]:
    if not isinstance(conditions, Mapping):
        raise input_error(ENDPOINT, "filter must be an object")
    tests: list[Callable[[HistoryEntry], bool]] = []
    for field, value in conditions.items():
        if field == "message_id":
            continue
        if field == "message_updated_by_id":
            tests.append(_by(_strings(value, field)))
        elif field == "message_updated_at":
            tests.extend(_time_tests(value))
        else:
            raise input_error(ENDPOINT, f"the emulator does not filter message history by {field}")
    return lambda entry: all(test(entry) for test in tests)


def _strings(value: object, field: str) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, Mapping) and len(value) == 1:
        ((operator, operand),) = value.items()
        if operator == "$eq" and isinstance(operand, str):
            return frozenset({operand})
        if (
            operator == "$in"
            and isinstance(operand, list)
            and all(isinstance(i, str) for i in operand)
        ):
            return frozenset(operand)
    raise input_error(ENDPOINT, f"{field} takes $eq (a string) or $in (strings)")


def _time_tests(value: object) -> Sequence[Callable[[HistoryEntry], bool]]:
    if not isinstance(value, Mapping) or not value:
        value = {"$eq": value}
    tests: list[Callable[[HistoryEntry], bool]] = []
    for operator, operand in value.items():
        compare = _TIME_OPERATORS.get(str(operator))
        when = parse_time(ENDPOINT, "message_updated_at", operand)
        if compare is None or when is None:
            raise input_error(ENDPOINT, f"message_updated_at takes {sorted(_TIME_OPERATORS)}")
        tests.append(_at(compare, when))
    return tests


def _by(users: frozenset[str]) -> Callable[[HistoryEntry], bool]:
    return lambda entry: entry.updated_by in users


def _at(
    compare: Callable[[datetime, datetime], bool], when: datetime
) -> Callable[[HistoryEntry], bool]:
    return lambda entry: compare(entry.updated_at, when)


def _newest_first(sort: object) -> bool:
    if sort is None or sort == []:
        return True
    if not isinstance(sort, list) or len(sort) != 1 or not isinstance(sort[0], Mapping):
        raise input_error(ENDPOINT, "sort takes one {field: message_updated_at, direction}")
    field, direction = sort[0].get("field"), sort[0].get("direction", 1)
    if field != "message_updated_at" or direction not in (1, -1):
        raise input_error(ENDPOINT, "history sorts by message_updated_at, direction 1 or -1")
    return bool(direction == -1)
