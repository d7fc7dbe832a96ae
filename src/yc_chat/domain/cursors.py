"""Opaque pagination cursors. Clients pass them back verbatim; we never trust their content."""

from __future__ import annotations

import base64
import binascii
import json

from yc_chat.domain.errors import FieldProblem, InvalidInput
from yc_chat.domain.limits import MAX_CURSOR_LENGTH, MAX_LIST_OFFSET
from yc_chat.domain.model import UserId
from yc_chat.domain.queries import MemberKey


def _bad_cursor() -> InvalidInput:
    message = "is not a cursor this service issued"
    return InvalidInput(
        f"cursor: {message}", details=[FieldProblem(field="cursor", message=message)]
    )


def _encode(payload: object) -> str:
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode(cursor: str) -> object:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _bad_cursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise _bad_cursor() from exc


def encode_offset(offset: int) -> str:
    return _encode({"o": offset})


def decode_offset(cursor: str | None) -> int:
    """The offset in `cursor`; 0 for no cursor."""
    if cursor is None:
        return 0
    payload = _decode(cursor)
    offset = payload.get("o") if isinstance(payload, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise _bad_cursor()
    if not 0 <= offset <= MAX_LIST_OFFSET:
        raise _bad_cursor()
    return offset


def encode_key(key: MemberKey) -> str:
    return _encode({"k": [key.sort_name, key.user_id]})


def decode_key(cursor: str | None) -> MemberKey | None:
    """The keyset position in `cursor`; None for no cursor."""
    if cursor is None:
        return None
    payload = _decode(cursor)
    key = payload.get("k") if isinstance(payload, dict) else None
    if not isinstance(key, list) or len(key) != 2 or not all(isinstance(part, str) for part in key):
        raise _bad_cursor()
    return MemberKey(sort_name=key[0], user_id=UserId(key[1]))
