"""Name folding and the typeahead matching rule, shared by every Directory adapter."""

from __future__ import annotations

import unicodedata

import attrs

# Typographic and ASCII apostrophes: O'Brien, O’Brien and Oʼbrien all fold to "obrien".
_APOSTROPHES = frozenset("'\u2019\u02bc\u2018`\u00b4")
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100


def fold(text: str) -> str:
    """Case- and accent-insensitive form of `text` (casefold, then strip combining marks)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def _drop_inner_apostrophes(text: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(text):
        if (
            ch in _APOSTROPHES
            and 0 < i < len(text) - 1
            and text[i - 1].isalnum()
            and text[i + 1].isalnum()
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
        if ch.isalnum():
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
        """Trim and fold; raises ValueError when the trimmed length is out of range."""
        trimmed = raw.strip()
        if not MIN_QUERY_LENGTH <= len(trimmed) <= MAX_QUERY_LENGTH:
            raise ValueError(
                f"query must be {MIN_QUERY_LENGTH} to {MAX_QUERY_LENGTH} characters after trimming"
            )
        folded = _collapse_spaces(_drop_inner_apostrophes(fold(trimmed)))
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
