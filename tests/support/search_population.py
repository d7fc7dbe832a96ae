"""Populations and queries for the search parity properties (the in-memory directory against
each indexed one): names that fold together, share prefixes, hold apostrophes or pattern
syntax, in one or two orgs."""

from __future__ import annotations

from hypothesis import strategies as st

from yc_chat.domain.model import OrgId

ORGS = (OrgId("org-a"), OrgId("org-b"))
# Words that fold together (é/e, Ö/o, ß/ss), share prefixes, hold apostrophes or pattern
# syntax; names join one to three of them with separators, so matches on the first word
# (ranked first) and on later words or the email (ranked after) are both common.
WORDS = [
    "ana",
    "Anabel",
    "ÁNA",
    "anders",
    "Bob",
    "o'brien",
    "Öbi",
    "st.ar",
    "a*b",
    "[ab]",
    "$gt",
    "back\\",
    "Éve",
    "eve",
    "straße",
    "ab",
]
SEPARATORS = [" ", "  ", "-", ". ", " '"]
names = st.builds(
    lambda words, seps: (
        "".join(w + s for w, s in zip(words, seps, strict=False)).strip() or words[0]
    ),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    st.lists(st.sampled_from(SEPARATORS), min_size=3, max_size=3),
)
emails = st.none() | st.builds(lambda w: f"{w}@x.example", st.sampled_from(WORDS))
people = st.lists(
    st.tuples(names, emails, st.sets(st.sampled_from(ORGS), min_size=1, max_size=2)),
    min_size=1,
    max_size=14,
)
queries = (
    st.builds(lambda w, n: w[:n], st.sampled_from(WORDS), st.integers(2, 8))
    | st.builds(lambda a, b: f"{a} {b[:2]}", st.sampled_from(WORDS), st.sampled_from(WORDS))
    | st.text(st.sampled_from("abeEéÖoßñ'’. -*[]$^\\|("), min_size=2, max_size=5)
).filter(lambda q: len(q.strip()) >= 2)
