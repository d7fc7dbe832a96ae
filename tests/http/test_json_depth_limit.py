"""The JSON depth limit: a body is refused exactly when it nests deeper than the contract's
limit, whether or not its strings are full of brackets (the count of opening brackets is
only a shortcut for bodies that cannot nest that deep)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yc_chat.domain.errors import InvalidInput
from yc_chat.domain.limits import MAX_JSON_DEPTH
from yc_chat.entrypoints.http.body import refuse_deep_json

BRACKETY = st.text(alphabet='[]{}"\\ab', max_size=40)


def _nest(depth: int, bottom: Any, arrays: list[bool]) -> Any:
    value = bottom
    for index in range(depth):
        value = [value] if arrays[index % len(arrays)] else {"k": value}
    return value


def _refused(raw: bytes) -> bool:
    try:
        refuse_deep_json(raw)
    except InvalidInput as exc:
        assert exc.code == "json_too_deep"
        return True
    return False


@given(
    depth=st.integers(min_value=0, max_value=2 * MAX_JSON_DEPTH),
    text=BRACKETY,
    arrays=st.lists(st.booleans(), min_size=1, max_size=5),
    padding=st.lists(BRACKETY, max_size=30),
)
def test_refused_exactly_when_deeper_than_the_limit(
    depth: int, text: str, arrays: list[bool], padding: list[str]
) -> None:
    # Strings full of brackets beside the nesting: they must neither hide nor add depth.
    raw = json.dumps({"pad": padding, "v": _nest(depth, text, arrays)}).encode()
    real_depth = max(2, depth + 1)  # the outer object holds the `pad` list and the nesting
    assert _refused(raw) == (real_depth > MAX_JSON_DEPTH)


@pytest.mark.parametrize(
    ("depth", "refused"), [(MAX_JSON_DEPTH, False), (MAX_JSON_DEPTH + 1, True)]
)
def test_the_limit_itself(depth: int, refused: bool) -> None:
    raw = b"[" * depth + b"]" * depth
    assert _refused(raw) == refused
    # The same depth with many more brackets inside a string: the same answer.
    padded = b'{"s": "' + b"[{" * 200 + b'", "v": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
    assert _refused(padded) == refused
