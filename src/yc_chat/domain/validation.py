"""Collecting field problems so a request is rejected once, with every reason listed."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from urllib.parse import urlsplit

from yc_chat.domain.channel_ids import is_reserved_channel_id, is_valid_channel_id
from yc_chat.domain.errors import FieldProblem, InvalidInput
from yc_chat.domain.limits import CHANNEL_ID_RULE, MAX_ID_LENGTH, MAX_URL_LENGTH

# Cc: controls; Cf: format characters (bidi overrides and isolates, zero-width spaces and
# joiners); Cs: lone surrogates; Zl/Zp: line and paragraph separators, which break lines.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Letters, numbers, punctuation and symbols show something; marks and separators alone do not.
_VISIBLE_CLASSES = frozenset("LNPS")


class Problems:
    """Accumulates field problems; `check()` raises InvalidInput if there are any.

    Fields are named in the domain's words (the use case's parameter names).
    """

    def __init__(self) -> None:
        self._items: list[FieldProblem] = []

    def add(self, field: str, message: str) -> None:
        self._items.append(FieldProblem(field=field, message=message))

    def check(self) -> None:
        if self._items:
            first = self._items[0]
            raise InvalidInput(
                f"{first.field}: {first.message}", details=self._items, field=first.field
            )

    def identifier(self, field: str, value: str | None, *, required: bool = True) -> None:
        """An id: non-blank, at most MAX_ID_LENGTH characters, no control characters."""
        if value is None:
            if required:
                self.add(field, "is required")
            return
        if not value.strip():
            self.add(field, "must not be blank")
        elif len(value) > MAX_ID_LENGTH:
            self.add(field, f"must be at most {MAX_ID_LENGTH} characters")
        elif any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            self.add(field, "must not contain control characters")

    def display_name(self, field: str, value: str, *, max_length: int) -> None:
        """A name shown to people: 1..max_length characters after trimming, at least one
        visible, and no control or format characters (bidi overrides, zero-width ones),
        which would disguise or reorder what others see."""
        trimmed = value.strip()
        if not 1 <= len(trimmed) <= max_length:
            self.add(field, f"must be 1 to {max_length} characters after trimming")
        elif any(unicodedata.category(ch) in _HIDDEN_CATEGORIES for ch in trimmed):
            self.add(field, "must not contain control, bidirectional-override or format characters")
        elif not any(unicodedata.category(ch)[0] in _VISIBLE_CLASSES for ch in trimmed):
            self.add(field, "must contain at least one visible character")

    def identifiers(
        self, field: str, values: Sequence[str], *, max_items: int, min_items: int = 0
    ) -> None:
        if len(values) < min_items:
            self.add(field, f"must list at least {min_items} ids")
        if len(values) > max_items:
            self.add(field, f"must list at most {max_items} ids")
            return
        for index, value in enumerate(values):
            self.identifier(f"{field}[{index}]", value)

    def int_range(self, field: str, value: int | None, low: int, high: int) -> None:
        if value is not None and not low <= value <= high:
            self.add(field, f"must be between {low} and {high}")

    def channel_id(self, field: str, value: str | None, *, client_chosen: bool = False) -> None:
        if value is None:
            return
        if not is_valid_channel_id(value):
            self.add(field, f"must match {CHANNEL_ID_RULE}")
        elif client_chosen and is_reserved_channel_id(value):
            self.add(field, "uses a prefix reserved for appointment and colleague chats")

    def https_url(self, field: str, value: str | None) -> None:
        if value is None:
            return
        if len(value) > MAX_URL_LENGTH:
            self.add(field, f"must be at most {MAX_URL_LENGTH} characters")
            return
        try:
            parts = urlsplit(value)
        except ValueError:
            self.add(field, "must be an https URL")
            return
        if parts.scheme != "https" or not parts.hostname or any(ch.isspace() for ch in value):
            self.add(field, "must be an https URL")
