"""The offboarding walk's cursor (CreationCursor) and its job payload.

The rule: walking a query ordered by creation time, reading from `created_from` at offset
`passed`, and moving the cursor past each channel looked at, sees every channel exactly
once and always ends, whichever channels leave the query as it goes (the ones the walk
takes the person out of) and however many share a creation time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yc_chat.domain.events import ChatEvent, MemberLeftOrg
from yc_chat.domain.model import OrgId, UserId
from yc_chat.domain.queries import CreationCursor
from yc_chat.domain.usecases.inbox import UndecodableEvent
from yc_chat.domain.usecases.offboarding import inbox_payload_decoder, offboard_job

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@attrs.frozen
class _Row:
    index: int  # creation order among equal times, as the provider keeps it
    created_at: datetime
    leaves: bool  # the walk takes the person out of it


def _page(query: list[_Row], cursor: CreationCursor, size: int) -> list[_Row]:
    rows = sorted(query, key=lambda r: (r.created_at, r.index))
    if cursor.created_from is not None:
        rows = [r for r in rows if r.created_at >= cursor.created_from]
    return rows[cursor.passed : cursor.passed + size]


@given(
    gaps=st.lists(st.sampled_from([0, 0, 1, 5]), min_size=0, max_size=60),
    leaves=st.lists(st.booleans(), min_size=60, max_size=60),
    size=st.integers(min_value=1, max_value=7),
)
def test_the_walk_sees_every_channel_once_and_ends(
    gaps: list[int], leaves: list[bool], size: int
) -> None:
    at, rows = T0, []
    for index, gap in enumerate(gaps):
        at += timedelta(microseconds=gap)
        rows.append(_Row(index=index, created_at=at, leaves=leaves[index]))
    query = list(rows)
    cursor, seen = CreationCursor(), []
    for _ in range(len(rows) + 1):
        page = _page(query, cursor, size)
        if not page:
            break
        for row in page:
            seen.append(row.index)
            if row.leaves:
                query.remove(row)
            cursor = cursor.past(row.created_at, stays=not row.leaves)
    else:
        pytest.fail("the walk did not end")
    assert seen == [row.index for row in rows]


def test_a_channel_without_a_time_counts_where_the_walk_is() -> None:
    cursor = CreationCursor(created_from=T0, passed=2)
    assert cursor.past(None, stays=True) == CreationCursor(created_from=T0, passed=3)
    assert cursor.past(None, stays=False) == cursor
    later = T0 + timedelta(seconds=1)
    assert cursor.past(later, stays=False) == CreationCursor(created_from=later, passed=0)
    assert cursor.past(later, stays=True) == CreationCursor(created_from=later, passed=1)


def decode(raw: bytes) -> ChatEvent:
    # Built per call, not once at import: the decoder is what these tests pin.
    return inbox_payload_decoder(lambda _: pytest.fail("not a job"))(raw)


@pytest.mark.parametrize(
    "resume",
    [None, CreationCursor(), CreationCursor(created_from=T0, passed=3)],
)
def test_a_job_carries_its_removal_time_and_place(resume: CreationCursor | None) -> None:
    job = offboard_job(OrgId("org-1"), UserId("vet-2"), removed_at=T0, resume=resume)
    assert decode(job) == MemberLeftOrg(
        org_id=OrgId("org-1"), user_id=UserId("vet-2"), removed_at=T0, resume=resume
    )


def test_a_job_without_a_removal_time_keeps_none_as_it_continues() -> None:
    """Jobs from before removal times were kept carry none; the one continuing such a job
    (events.py) writes none again rather than failing."""
    place = CreationCursor(created_from=T0, passed=1)
    job = offboard_job(OrgId("org-1"), UserId("vet-2"), resume=place)
    assert decode(job) == MemberLeftOrg(
        org_id=OrgId("org-1"), user_id=UserId("vet-2"), removed_at=None, resume=place
    )


def test_a_job_recorded_before_places_existed_starts_from_the_beginning() -> None:
    assert decode(b'yc-offboard:{"org_id": "org-1", "user_id": "vet-2"}') == MemberLeftOrg(
        org_id=OrgId("org-1"), user_id=UserId("vet-2")
    )


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"org_id": "o", "user_id": "u", "resume": {"passed": -1}}', "place is a count"),
        (b'{"org_id": "o", "user_id": "u", "resume": {"passed": true}}', "place is a count"),
        (b'{"org_id": "o", "user_id": "u", "resume": {"passed": "1"}}', "place is a count"),
        (b'{"org_id": "o", "user_id": "u", "resume": 3}', "place is an object"),
        (
            b'{"org_id": "o", "user_id": "u", "removed_at": "2026-01-15T12:00:00"}',
            "times carry a zone",
        ),
        (b'{"org_id": "o", "user_id": "u", "removed_at": 5}', "times are ISO-8601 text"),
    ],
)
def test_a_malformed_job_is_refused_saying_why(body: bytes, why: str) -> None:
    # The reason is what `yc-chat events` shows for the parked job: all of it, as written.
    with pytest.raises(
        (ValueError, UndecodableEvent), match=f"^an offboarding job's {re.escape(why)}$"
    ):
        decode(b"yc-offboard:" + body)
