"""Channel id derivation: always valid for Stream, deterministic, collision-free."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import assume, given
from hypothesis import strategies as st

from yc_chat.domain.channel_ids import (
    appointment_channel_id,
    colleague_dm_channel_id,
    is_reserved_channel_id,
    is_valid_channel_id,
    random_group_channel_id,
)
from yc_chat.domain.model import AppointmentId, OrgId, UserId

any_id = st.text(min_size=1, max_size=400)


@given(any_id)
def test_appointment_ids_are_valid_for_any_source_id(source: str) -> None:
    derived = appointment_channel_id(AppointmentId(source))
    assert is_valid_channel_id(derived)
    assert len(derived) <= 64
    assert derived == appointment_channel_id(AppointmentId(source))
    assert is_reserved_channel_id(derived)


@given(any_id, any_id, any_id)
def test_dm_ids_are_valid_and_order_insensitive(org: str, a: str, b: str) -> None:
    forward = colleague_dm_channel_id(OrgId(org), UserId(a), UserId(b))
    backward = colleague_dm_channel_id(OrgId(org), UserId(b), UserId(a))
    assert forward == backward
    assert is_valid_channel_id(forward)
    assert len(forward) <= 64
    assert is_reserved_channel_id(forward)


@given(any_id, any_id)
def test_distinct_appointments_get_distinct_ids(x: str, y: str) -> None:
    assume(x != y)
    assert appointment_channel_id(AppointmentId(x)) != appointment_channel_id(AppointmentId(y))


@given(st.tuples(any_id, any_id, any_id), st.tuples(any_id, any_id, any_id))
def test_distinct_dm_pairs_get_distinct_ids(
    first: tuple[str, str, str], second: tuple[str, str, str]
) -> None:
    assume((first[0], frozenset(first[1:])) != (second[0], frozenset(second[1:])))
    ids = [colleague_dm_channel_id(OrgId(o), UserId(a), UserId(b)) for o, a, b in (first, second)]
    assert ids[0] != ids[1]


def test_separator_ambiguity_does_not_collide() -> None:
    # Naive concatenation would map both of these to "org-a-b-c".
    one = colleague_dm_channel_id(OrgId("org"), UserId("a-b"), UserId("c"))
    two = colleague_dm_channel_id(OrgId("org"), UserId("a"), UserId("b-c"))
    assert one != two
    assert appointment_channel_id(AppointmentId("x" * 1000)) != appointment_channel_id(
        AppointmentId("x" * 999)
    )


def test_ids_are_stable_across_processes() -> None:
    # Python's str hash is salted per process; our derivation must not depend on it.
    code = "from yc_chat.domain.channel_ids import appointment_channel_id as f;print(f('Ápt/42 ✓'))"
    runs = {
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    }
    assert runs == {appointment_channel_id(AppointmentId("Ápt/42 ✓")) + "\n"}


def test_random_group_ids_are_valid_unreserved_and_fresh() -> None:
    ids = {random_group_channel_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(is_valid_channel_id(i) and not is_reserved_channel_id(i) for i in ids)


@given(st.text(max_size=80))
def test_validity_matches_streams_rule(candidate: str) -> None:
    expected = 1 <= len(candidate) <= 64 and all(
        c in "abcdefghijklmnopqrstuvwxyz0123456789_-" for c in candidate
    )
    assert is_valid_channel_id(candidate) == expected


def test_validity_rejects_trailing_newline_and_65_chars() -> None:
    assert not is_valid_channel_id("abc\n")
    assert not is_valid_channel_id("a" * 65)
    assert is_valid_channel_id("a" * 64)
