"""A member page written as JSON by PostgreSQL, in the statement that reads it.

Decoding a page of 100 members from 100 rows and making a User and a Member of each cost
the serving process about 155 µs of CPU per page at 100k members (measured 2026-12-07,
in process, under shared load): more than the rest of the request. Each membership row
holds its member as listed to other members, as JSON (`chat_memberships.listed`, which
PostgreSQL computes on every write: schema.MEMBER_JSON, byte for byte what msgspec writes
for the HTTP answer's MemberOut), and the page's one statement joins those of the page
into one text value, `ListedMembers.json`, which an HTTP answer copies. The Member records
are made from it only if someone reads them (tests, other callers).

Building that JSON in the statement instead (`to_json` of each field, per request) cost
PostgreSQL about 100 µs per page, as much as the rest of the statement; joining the stored
objects costs it a few.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from yc_chat.domain.model import Member, User, UserId, UserKind

# Rows shown (the page's limit); the page statement reads one more to know there are more.
SHOWN = sa.bindparam("shown", type_=sa.Integer)


def _sql_text(literal: str) -> sa.ColumnElement[str]:
    return sa.literal_column("'" + literal.replace("'", "''") + "'", sa.Text)


def listing(page: sa.Subquery) -> sa.Subquery:
    """One row over `page` (its members' MEMBER_COLUMNS and `listed`, in (sort_name,
    user_id) order; `limit` rows, one more than SHOWN): the first SHOWN members' JSON
    objects joined into an array (`listed`), the kinds other than staff and their
    positions (1-based: `others`, `other_at`), how many rows the page had
    (`found`) and the key of the last one shown (`last_name`, `last_id`)."""
    n = sa.func.row_number().over(order_by=(page.c.sort_name, page.c.user_id)).label("n")
    numbered = sa.select(*page.c, n).subquery("numbered")
    shown = numbered.c.n <= SHOWN
    last = numbered.c.n == SHOWN
    objects = sa.func.string_agg(
        numbered.c.listed, aggregate_order_by(_sql_text(","), numbered.c.n)
    ).filter(shown)
    # Kinds other than staff, by position (members are mostly staff: collecting every
    # kind cost as much as the rest of the aggregate).
    other = sa.and_(shown, numbered.c.kind != _sql_text(UserKind.STAFF.value))
    return sa.select(
        (_sql_text("[") + sa.func.coalesce(objects, _sql_text("")) + _sql_text("]")).label(
            "listed"
        ),
        sa.func.array_agg(numbered.c.n, type_=ARRAY(sa.Integer)).filter(other).label("other_at"),
        sa.func.array_agg(numbered.c.kind, type_=ARRAY(sa.Text)).filter(other).label("others"),
        sa.func.count().label("found"),
        sa.func.max(numbered.c.sort_name).filter(last).label("last_name"),
        sa.func.max(numbered.c.user_id).filter(last).label("last_id"),
    ).subquery("listing")


_KINDS = {kind.value: kind for kind in UserKind}


def members_of(
    listed: str, other_at: list[int] | None, others: list[str] | None
) -> tuple[Member, ...]:
    """The Member records of a listing written by `listing` (read back when asked for)."""
    objects = json.loads(listed)
    kinds = [UserKind.STAFF.value] * len(objects)
    for n, kind in zip(other_at or (), others or (), strict=True):
        kinds[n - 1] = kind
    return tuple(
        Member(
            user=User(
                id=UserId(item["id"]),
                name=item["name"],
                kind=_KINDS[kind],
                email=item["email"],
                image=item["image"],
            ),
            role=item["role"],
        )
        for item, kind in zip(objects, kinds, strict=True)
    )
