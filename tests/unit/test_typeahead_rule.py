"""The typeahead rule: folded prefix on words, whole name or email; query always literal."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from yc_chat.domain.text import SearchKeys, SearchQuery, fold, folded_name, name_words

letters = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzéüñçøåß"))
word = st.text(letters, min_size=1, max_size=10)
names = st.lists(word, min_size=1, max_size=4).map(" ".join)
ACCENTS = {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "n": "ñ", "c": "ç"}


def accent_and_case(text: str, data: st.DataObject) -> str:
    out = []
    for ch in text:
        if ch in ACCENTS and data.draw(st.booleans()):
            ch = ACCENTS[ch]
        out.append(ch.upper() if data.draw(st.booleans()) else ch)
    return "".join(out)


@given(names, st.data())
def test_every_word_prefix_matches_whatever_the_case_and_accents(
    name: str, data: st.DataObject
) -> None:
    words = name_words(name)
    target = data.draw(st.sampled_from(words))
    cut = data.draw(st.integers(min_value=1, max_value=len(target)))
    prefix = target[:cut]
    assume(len(prefix) >= 2)
    typed = accent_and_case(prefix, data)
    assert SearchKeys.of(name, None).matches(SearchQuery.parse(typed))
    shown = accent_and_case(name, data)
    assert SearchKeys.of(shown, None).matches(SearchQuery.parse(prefix))


@given(names, st.text(min_size=2, max_size=12))
def test_a_match_is_always_a_literal_prefix(name: str, query: str) -> None:
    assume(query.strip() and 2 <= len(query.strip()) <= 100)
    try:
        parsed = SearchQuery.parse(query)
    except ValueError:
        assume(False)  # under 2 characters once folded ("0¯"): refused, nothing to match
        raise
    keys = SearchKeys.of(name, None)
    if keys.matches(parsed):
        assert any(
            form.startswith(parsed.folded) for form in (*keys.words, keys.joined, keys.spelled)
        )


@pytest.mark.parametrize("pattern", [".*", "a.*", "^a", "(a|b)", "[a-z]+", "a%", "\\w+", "a_"])
def test_pattern_syntax_is_literal(pattern: str) -> None:
    keys = SearchKeys.of("Ana Abbot", "ana@example.com")
    assert not keys.matches(SearchQuery.parse(pattern))


def test_folding_examples() -> None:
    assert fold("Núñez") == "nunez"
    assert fold("STRASSE") == fold("Straße")
    assert name_words("Liam O'Brien") == ("liam", "obrien")
    assert name_words("Liam O’Brien-Smith") == ("liam", "obrien", "smith")
    assert name_words("  'quoted' ") == ("quoted",)
    assert folded_name("Dr. Ana  Núñez") == "dr ana nunez"
    assert unicodedata.is_normalized("NFC", fold("e\u0301"))


def test_query_length_is_checked_after_trimming() -> None:
    with pytest.raises(ValueError, match="2 to 100"):
        SearchQuery.parse("  a  ")
    with pytest.raises(ValueError, match="2 to 100"):
        SearchQuery.parse("x" * 101)
    assert SearchQuery.parse("  ab ").raw == "ab"


def test_email_and_full_name_matching() -> None:
    keys = SearchKeys.of("Dr. Ana Núñez", "Ana.Nunez@HappyPaws.example")
    assert keys.matches(SearchQuery.parse("ana.nu"))
    assert keys.matches(SearchQuery.parse("dr. ana"))
    assert keys.matches(SearchQuery.parse("dr ana nú"))
    assert not keys.matches(SearchQuery.parse("happypaws"))
    assert keys.full_name_starts_with(SearchQuery.parse("DR A"))
    assert not keys.full_name_starts_with(SearchQuery.parse("ana"))


def test_marks_that_change_the_letter_are_kept_and_stay_in_the_word() -> None:
    keys = SearchKeys.of("प्रिया शर्मा", None)
    assert keys.words == ("प्रिया", "शर्मा")
    assert keys.matches(SearchQuery.parse("शर्मा"))
    assert keys.matches(SearchQuery.parse("प्रि"))
    assert fold("Ångström Łukasz Ελένη") == "angstrom łukasz ελενη"


def test_a_half_typed_apostrophe_still_matches() -> None:
    keys = SearchKeys.of("Tom O'Brien", None)
    assert keys.matches(SearchQuery.parse("o'"))
    assert keys.matches(SearchQuery.parse("tom o'"))
    assert keys.matches(SearchQuery.parse("O’B"))
    assert not keys.matches(SearchQuery.parse("'o"))
