"""The group-name rule as properties (issue 13): a name shown to people has something
visible and nothing that hides or reorders text (controls, bidi overrides, zero-width and
other format characters), whatever else it contains."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from yc_chat.domain.errors import InvalidInput
from yc_chat.domain.limits import MAX_GROUP_NAME
from yc_chat.domain.validation import Problems

HIDDEN = st.characters(categories=["Cc", "Cf", "Zl", "Zp"])
VISIBLE = st.characters(categories=["L", "N", "P", "S"])
ANY = st.characters(codec="utf-8")


def _problems(name: str) -> list[str]:
    problems = Problems()
    problems.display_name("name", name, max_length=MAX_GROUP_NAME)
    try:
        problems.check()
    except InvalidInput as exc:
        return [d.field for d in exc.details]
    return []


@given(before=st.text(ANY, max_size=40), hidden=HIDDEN, after=st.text(ANY, max_size=40))
def test_a_hidden_character_anywhere_inside_is_refused(
    before: str, hidden: str, after: str
) -> None:
    name = "Rota" + before + hidden + after + "Rota"
    assert _problems(name) == ["name"]


@given(st.text(st.characters(categories=["M", "Zs"]), min_size=1, max_size=40))
def test_marks_and_spaces_alone_are_refused(name: str) -> None:
    assert _problems(name) == ["name"]


@given(
    visible=VISIBLE,
    rest=st.text(st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), max_size=90),
)
def test_visible_text_without_hidden_characters_is_accepted(visible: str, rest: str) -> None:
    name = visible + rest
    trimmed = name.strip()
    assume(any(unicodedata.category(c)[0] in "LNPS" for c in trimmed))
    assert _problems(name) == ([] if len(trimmed) <= MAX_GROUP_NAME else ["name"])


@pytest.mark.parametrize("name", ["\u200b" * 3, "a\u202eb", "a\u2066b\u2069", "x\x00", " \u00a0 "])
def test_the_reported_attacks_are_refused(name: str) -> None:
    assert _problems(name) == ["name"]
