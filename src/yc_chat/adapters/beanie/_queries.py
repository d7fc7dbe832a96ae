"""Small helpers shared by the stores: literal values in filters, prefix patterns, upserts."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from beanie import Document, SortDirection
from pymongo.errors import DuplicateKeyError

# The sort of every member query and of the keyset: (folded name, user id), ascending.
# MongoDB compares strings by UTF-8 bytes, which is code-point order, like Python's `<`.
MEMBER_ORDER = [("sortName", SortDirection.ASCENDING), ("userId", SortDirection.ASCENDING)]


def literal(value: object) -> str:
    """`value` when it is a string; anything else is refused before it reaches a filter.

    A filter value that is a mapping would be read as operators (`{"$gt": ""}` matches
    every string), so ids and keys are checked here even though the types say `str`.
    """
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def literals(values: Collection[object]) -> list[str]:
    """Distinct string values for an `$in`, each checked by `literal`."""
    return list(dict.fromkeys(literal(v) for v in values))


def storable(text: str) -> bool:
    """Whether `text` can be a BSON string: UTF-8 encodable (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def prefix_regex(folded: str) -> dict[str, str]:
    """A `$regex` matching strings that start with `folded`, every character literal.

    Anchored (`^`) so MongoDB scans only the index range of the prefix; no `i` option
    because the stored fields and the query are both folded already. `re.escape` puts a
    backslash before every ASCII character that means something in a pattern, and PCRE,
    like Python, reads a backslash before a non-alphanumeric character as that character.
    NUL cannot appear raw in a BSON pattern, so it is spelled `\\x00`.
    """
    return {"$regex": "^" + re.escape(literal(folded)).replace("\x00", "\\x00")}


def to_millis(moment: datetime) -> datetime:
    """`moment` in UTC, cut to the millisecond: what a BSON date keeps."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times stored in MongoDB must carry a UTC offset")
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def from_mongo(moment: datetime) -> datetime:
    """A BSON date read back, as an aware UTC datetime whatever the client's `tz_aware`."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


async def upsert_one(
    document: type[Document], key: Mapping[str, str], changes: Mapping[str, Any]
) -> None:
    """Set `changes` on the one document matching the equality `key`, creating it if absent.

    One `update_one(upsert=True)`: atomic, unlike a find followed by an insert. Two
    concurrent upserts of a new key can still race to the unique index on it; the loser
    gets DuplicateKeyError, and trying once more then finds the winner's document.
    """
    collection = document.get_pymongo_collection()
    try:
        await collection.update_one(dict(key), {"$set": dict(changes)}, upsert=True)
    except DuplicateKeyError:
        await collection.update_one(dict(key), {"$set": dict(changes)}, upsert=True)
