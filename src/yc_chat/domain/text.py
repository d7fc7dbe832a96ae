"""Name folding and the typeahead matching rule, shared by every Directory adapter."""

from __future__ import annotations

import re
import unicodedata

import attrs

from yc_chat.domain.limits import MAX_QUERY_LENGTH, MIN_QUERY_LENGTH

# A Python string holds a surrogate code point only when it came in unpaired (JSON's
# "\ud800"): no encoder can write it, so it would fail the whole response it is in.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str, *, limit: int) -> str:
    """Untrusted text made safe to show: cut to `limit` characters, and every lone surrogate
    replaced with U+FFFD, as Stream itself does."""
    return _LONE_SURROGATE.sub("\ufffd", text[:limit])


def is_clean(text: str) -> bool:
    """Whether `text` has no lone surrogate (it can be encoded as it is)."""
    return _LONE_SURROGATE.search(text) is None


# Typographic and ASCII apostrophes: O'Brien, O’Brien and Oʼbrien all fold to "obrien".
_APOSTROPHES = frozenset("'\u2019\u02bc\u2018`\u00b4")


def _takes_accents(base: str) -> bool:
    # Latin, Greek and Cyrillic (and their extended blocks), where marks are accents a
    # person may leave out. In other scripts (Devanagari viramas, vowel signs) a mark
    # changes the letter, so it is kept.
    code = ord(base)
    return code < 0x0530 or 0x1D00 <= code <= 0x1FFF or 0x2C60 <= code <= 0x2C7F


def fold(text: str) -> str:
    """Case- and accent-insensitive form of `text` (casefold, then strip accents)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept: list[str] = []
    base = ""
    for ch in decomposed:
        if unicodedata.combining(ch):
            if base and _takes_accents(base):
                continue
        else:
            base = ch
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def _is_word_char(ch: str) -> bool:
    # Marks kept by fold (vowel signs, viramas) are part of the letter they follow.
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def _drop_inner_apostrophes(text: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(text):
        if (
            ch in _APOSTROPHES
            and 0 < i < len(text) - 1
            and _is_word_char(text[i - 1])
            and _is_word_char(text[i + 1])
        ):
            continue
        out.append(ch)
    return "".join(out)


def _collapse_spaces(text: str) -> str:
    return " ".join(text.split())


def name_words(name: str) -> tuple[str, ...]:
    """Runs of letters and digits of the folded name; inner apostrophes are dropped."""
    folded = _drop_inner_apostrophes(fold(name))
    words: list[str] = []
    current: list[str] = []
    for ch in folded:
        if _is_word_char(ch):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return tuple(words)


def folded_name(name: str) -> str:
    """The sort and ranking form of a name: its folded words joined by single spaces."""
    return " ".join(name_words(name))


@attrs.frozen(kw_only=True)
class SearchQuery:
    """A validated typeahead query, folded once. Every character stays literal."""

    raw: str
    folded: str

    @classmethod
    def parse(cls, raw: str) -> SearchQuery:
        """Trim and fold; raises ValueError when the trimmed or folded length is out of range."""
        trimmed = raw.strip()
        if not MIN_QUERY_LENGTH <= len(trimmed) <= MAX_QUERY_LENGTH:
            raise ValueError(
                f"query must be {MIN_QUERY_LENGTH} to {MAX_QUERY_LENGTH} characters after trimming"
            )
        spelled = _collapse_spaces(fold(trimmed))
        # A query of marks or symbols folds to (almost) nothing and would match everyone.
        if len(spelled) < MIN_QUERY_LENGTH:
            raise ValueError(f"query must be at least {MIN_QUERY_LENGTH} characters after folding")
        folded = _collapse_spaces(_drop_inner_apostrophes(spelled))
        # "O'" is O'Brien half typed: an apostrophe ending a word is inside it, so dropped.
        if len(folded) > 1 and folded[-1] in _APOSTROPHES and _is_word_char(folded[-2]):
            folded = folded[:-1]
        return cls(raw=trimmed, folded=folded)


@attrs.frozen(kw_only=True)
class SearchKeys:
    """The folded forms of one user that the matching rule compares a query with.

    Adapters that index (MongoDB) store these fields and query them by anchored prefix.
    """

    words: tuple[str, ...]
    joined: str
    spelled: str
    email: str

    @classmethod
    def of(cls, name: str, email: str | None) -> SearchKeys:
        words = name_words(name)
        return cls(
            words=words,
            joined=" ".join(words),
            spelled=_collapse_spaces(_drop_inner_apostrophes(fold(name))),
            email=fold(email or ""),
        )

    def full_name_starts_with(self, query: SearchQuery) -> bool:
        return self.joined.startswith(query.folded) or self.spelled.startswith(query.folded)

    def matches(self, query: SearchQuery) -> bool:
        """Prefix match on any name word, on the whole folded name, or on the email."""
        q = query.folded
        return (
            any(word.startswith(q) for word in self.words)
            or self.full_name_starts_with(query)
            or (bool(self.email) and self.email.startswith(q))
        )

    def rank(self, query: SearchQuery, user_id: str) -> tuple[int, str, str]:
        """Sort key: whole-name prefix matches first, then alphabetical by folded name."""
        return (0 if self.full_name_starts_with(query) else 1, self.joined, user_id)
