"""Each product limit has one home, `yc_chat.domain.limits`; the Stream simulation keeps its
own copy of Stream's rules (it models Stream, not this product)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from yc_chat.domain import limits
from yc_chat.domain.cursors import decode_offset, encode_offset
from yc_chat.domain.errors import InvalidInput

SRC = Path(__file__).resolve().parents[2] / "src" / "yc_chat"
# Places allowed to spell a limit out: its home, and the simulation of Stream's own rules.
HOME = SRC / "domain" / "limits.py"
SIMULATION = SRC / "adapters" / "fake_stream"


def _spelled_in(pattern: str) -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path == HOME or SIMULATION in path.parents:
            continue
        if re.search(pattern, path.read_text(encoding="utf-8")):
            found.append(str(path.relative_to(SRC)))
    return found


@pytest.mark.parametrize(
    "pattern",
    [
        re.escape("[a-z0-9_-]{1,64}"),  # the channel-id rule
        r"timedelta\(hours=24\)",  # the token TTL default
        r"\b(?:MAX_)?OFFSET\w* = 1000\b",  # the list offset cap, outside the adapter's own
        r"MAX_GROUP_\w+ = 100\b",  # group size and name length
    ],
)
def test_a_product_limit_is_written_in_one_place(pattern: str) -> None:
    assert _spelled_in(pattern) == []


def test_the_list_offset_cap_is_the_cursors_bound() -> None:
    assert decode_offset(encode_offset(limits.MAX_LIST_OFFSET)) == limits.MAX_LIST_OFFSET
    with pytest.raises(InvalidInput):
        decode_offset(encode_offset(limits.MAX_LIST_OFFSET + 1))
