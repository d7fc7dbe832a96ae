"""Typeahead and member pages as one caller sees them: one statement, one round trip each.

A typeahead used to be three reads through SQLAlchemy (the org, the caller's membership,
the search), about 615 µs of CPU in process at 100k members; the statements here answer
all three at once, on a held connection (read_connections.py), in about 30 µs plus the
rows' records (measured 2026-12-07 under shared load). They are built with SQLAlchemy
Core from the very fragments `PostgresDirectory` searches and pages with, compiled once per
shape for asyncpg, and sent with asyncpg's statement cache; everything else stays on
SQLAlchemy.

No result is cached: the org and the membership are read by the same statement as the
answer, so a member removed a moment ago sees nothing from their next request on, on any
instance.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import asyncpg
import sqlalchemy as sa

from yc_chat.adapters.postgres._sql import prefix_bounds, storable, store_errors
from yc_chat.adapters.postgres.directory import (
    LIMIT,
    MEMBER_COLUMNS,
    PostgresDirectory,
    page_statement,
    param,
    whole_name_hits,
    word_or_email_hits,
)
from yc_chat.adapters.postgres.listing import listing, members_of
from yc_chat.adapters.postgres.read_connections import Compiled, ReadConnections
from yc_chat.adapters.postgres.schema import MEMBERSHIPS, ORGS
from yc_chat.domain.model import Member, Membership, OrgId, User, UserId, UserKind
from yc_chat.domain.queries import CallerView, ListedMembers, MemberKey, MemberPage
from yc_chat.domain.text import SearchQuery
from yc_chat.domain.usecases.org_checks import ReadsThroughDirectory

M = MEMBERSHIPS.c


def _gate() -> sa.CTE:
    """One row: whether the org exists, and the caller's role in it (NULL: not a member)."""
    org_found = sa.exists().where(ORGS.c.id == param("org_id"))
    role = (
        sa.select(M.role)
        .where(M.org_id == param("org_id"), M.user_id == param("caller"))
        .scalar_subquery()
    )
    return sa.select(org_found.label("org_found"), role.label("caller_role")).cte("gate")


def _member_only(gate: sa.CTE) -> sa.ColumnElement[bool]:
    # A scalar subquery of the gate: PostgreSQL evaluates it once, before the ranges, and
    # skips them for a caller who is not a member.
    return sa.select(gate.c.caller_role).scalar_subquery().is_not(None)


@functools.cache
def search_as_statement(bounded: bool) -> sa.Select[Any]:
    """The gate, then the caller's typeahead: rank 0 (whole name), and rank 1 (a word or
    the email) only when rank 0 is short of `limit`, as `PostgresDirectory.search_members`
    runs them; the caller left out. No hit: one row with the gate alone."""
    gate = _gate()
    member = _member_only(gate)
    found = whole_name_hits(bounded, excluding=True).subquery("whole_hits")
    whole = (
        sa.select(found.c.user_id, found.c.sort_name)
        .where(member)
        .order_by(found.c.sort_name, found.c.user_id)
        .limit(LIMIT)
        .cte("whole")
    )
    short = sa.select(sa.func.count()).select_from(whole).scalar_subquery() < LIMIT
    more = word_or_email_hits(bounded, excluding=True).subquery("rest_hits")
    rest = sa.select(more.c.user_id, more.c.sort_name).where(member, short).cte("rest")
    hits = sa.union_all(
        sa.select(sa.literal_column("0").label("rank"), whole.c.user_id, whole.c.sort_name),
        sa.select(sa.literal_column("1").label("rank"), rest.c.user_id, rest.c.sort_name),
    ).subquery("hits")
    in_org = sa.and_(M.org_id == param("org_id"), M.user_id == hits.c.user_id)
    page = (
        sa.select(hits.c.rank, hits.c.sort_name.label("hit_name"), *MEMBER_COLUMNS)
        .select_from(hits.join(MEMBERSHIPS, in_org))
        .subquery("page")
    )
    return (
        sa.select(gate.c.org_found, gate.c.caller_role, *_page_columns(page))
        .select_from(gate.outerjoin(page, sa.true()))
        .order_by(page.c.rank, page.c.hit_name, page.c.user_id)
        .limit(LIMIT)
    )


@functools.cache
def page_as_statement(after: bool) -> sa.Select[Any]:
    """The gate, then the caller's member page written as JSON (listing.py): `limit` rows
    read, one more than the `shown`."""
    gate = _gate()
    page = page_statement(after).add_columns(M.listed).where(_member_only(gate)).subquery("page")
    listed = listing(page)
    return sa.select(gate.c.org_found, gate.c.caller_role, *listed.c).select_from(
        gate.join(listed, sa.true())
    )


def _page_columns(page: sa.Subquery) -> list[sa.ColumnElement[Any]]:
    return [page.c[column.name] for column in MEMBER_COLUMNS]


@functools.cache
def _compiled_search(bounded: bool) -> Compiled:
    return Compiled.of(search_as_statement(bounded))


@functools.cache
def _compiled_page(after: bool) -> Compiled:
    return Compiled.of(page_as_statement(after))


def _search_values(caller: str, org_id: str, q: str, limit: int) -> tuple[bool, dict[str, object]]:
    low, high = prefix_bounds(q)
    values: dict[str, object] = {
        "org_id": org_id, "caller": caller, "exclude": caller, "low": low, "limit": limit,
    }  # fmt: skip
    if high is not None:
        values["high"] = high
    return high is not None, values


def _page_values(
    caller: str, org_id: str, after: MemberKey | None, limit: int
) -> dict[str, object]:
    # One row more than shown: it says whether there is a next page.
    values: dict[str, object] = {
        "org_id": org_id, "caller": caller, "limit": limit + 1, "shown": limit,
    }  # fmt: skip
    if after is not None:
        values |= {"after_name": after.sort_name, "after_id": after.user_id}
    return values


def search_as_query(caller: str, org_id: str, q: str, limit: int) -> sa.Select[Any]:
    """The statement a typeahead by `caller` sends, with its values (for EXPLAIN)."""
    bounded, values = _search_values(caller, org_id, q, limit)
    return search_as_statement(bounded).params(values)


def page_as_query(caller: str, org_id: str, after: MemberKey | None, limit: int) -> sa.Select[Any]:
    """The statement a member page of `limit` seen by `caller` sends, with its values (for
    EXPLAIN)."""
    return page_as_statement(after is not None).params(_page_values(caller, org_id, after, limit))


def _view(
    org_id: OrgId, caller: UserId, rows: Sequence[asyncpg.Record]
) -> tuple[bool, Membership | None, list[asyncpg.Record]]:
    gate = rows[0]
    role = gate["caller_role"]
    membership = None if role is None else Membership(org_id=org_id, user_id=caller, role=role)
    # The outer join gives either the hits, each beside the gate's columns, or one row of
    # the gate alone (no user_id) when there is none.
    hits = list(rows) if gate["user_id"] is not None else []
    return bool(gate["org_found"]), membership, hits


_KINDS = {kind.value: kind for kind in UserKind}


def _member(row: asyncpg.Record) -> Member:
    # Columns by position (gate's two, then MEMBER_COLUMNS: user_id, role, sort_name, name,
    # kind, email, image): a page builds a hundred of these per request.
    user = User(id=row[2], name=row[5], kind=_KINDS[row[6]], email=row[7], image=row[8])
    return Member(user=user, role=row[3])


class PostgresMemberReads:
    """MemberReads on PostgreSQL: each typeahead or member page in one statement."""

    def __init__(self, directory: PostgresDirectory, connections: ReadConnections) -> None:
        self._connections = connections
        # Inputs no stored row can hold (a NUL, a lone surrogate) or an empty limit: the
        # directory's own reads answer those, as they always did.
        self._composed = ReadsThroughDirectory(directory)

    @store_errors
    async def search_as(
        self, caller: UserId, org_id: OrgId, query: SearchQuery, *, limit: int
    ) -> CallerView[Sequence[Member]]:
        if limit < 1 or not all(map(storable, (caller, org_id, query.folded))):
            return await self._composed.search_as(caller, org_id, query, limit=limit)
        bounded, values = _search_values(caller, org_id, query.folded, limit)
        compiled = _compiled_search(bounded)
        rows = await self._connections.fetch(compiled.sql, compiled.args(values))
        org_found, membership, hits = _view(org_id, caller, rows)
        answer = None if membership is None else [_member(row) for row in hits]
        return CallerView(org_found=org_found, membership=membership, answer=answer)

    @store_errors
    async def page_as(
        self, caller: UserId, org_id: OrgId, *, limit: int, after: MemberKey | None
    ) -> CallerView[MemberPage]:
        plain = after is None or (storable(after.sort_name) and storable(after.user_id))
        if limit < 1 or not (plain and storable(caller) and storable(org_id)):
            return await self._composed.page_as(caller, org_id, limit=limit, after=after)
        values = _page_values(caller, org_id, after, limit)
        compiled = _compiled_page(after is not None)
        (row,) = await self._connections.fetch(compiled.sql, compiled.args(values))
        role = row["caller_role"]
        membership = None if role is None else Membership(org_id=org_id, user_id=caller, role=role)
        answer = None
        if membership is not None:
            listed = row["listed"]
            load = functools.partial(members_of, listed, row["other_at"], row["others"])
            next_after = (
                MemberKey(sort_name=row["last_name"], user_id=UserId(row["last_id"]))
                if row["found"] > limit
                else None
            )
            answer = MemberPage(members=ListedMembers(listed.encode(), load), next_after=next_after)
        return CallerView(org_found=bool(row["org_found"]), membership=membership, answer=answer)
