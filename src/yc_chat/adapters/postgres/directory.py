"""The directory on PostgreSQL: users, orgs, memberships; index-backed typeahead and pages."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from yc_chat.adapters.postgres._sql import (
    in_range,
    prefix_bounds,
    storable,
    storable_all,
    store_errors,
)
from yc_chat.adapters.postgres.read_connections import Compiled, ReadConnections
from yc_chat.adapters.postgres.records import AnyRow, membership_of, user_of
from yc_chat.adapters.postgres.schema import MEMBER_WORDS, MEMBERSHIPS, ORGS, USERS
from yc_chat.domain.model import Member, Membership, Org, OrgId, User, UserId
from yc_chat.domain.queries import MemberKey, MemberPage
from yc_chat.domain.text import SearchKeys, SearchQuery

M, W, U = MEMBERSHIPS.c, MEMBER_WORDS.c, USERS.c
# The member as listed, from the membership alone (it carries its user's profile).
MEMBER_COLUMNS = (M.user_id, M.role, M.sort_name, M.name, M.kind, M.email, M.image)
_MEMBER_ORDER = (M.sort_name, M.user_id)


def profile(user: User) -> dict[str, str | None]:
    """The user's profile columns, in chat_users and in each of their memberships."""
    return {"name": user.name, "kind": user.kind.value, "email": user.email, "image": user.image}


def search_keys(user: User) -> tuple[dict[str, str | None], list[str]]:
    """The membership columns carrying `user`'s folded SearchKeys, and the distinct words of
    the name (one `chat_member_words` row each); bulk loaders use it too.

    `search_spelled` only where it differs from `sort_name` (see the schema).
    """
    keys = SearchKeys.of(user.name, user.email)
    spelled = keys.spelled if keys.spelled != keys.joined else None
    columns = {"sort_name": keys.joined, "search_spelled": spelled, "search_email": keys.email}
    return columns, sorted(set(keys.words))


def _member(row: AnyRow) -> Member:
    return Member(user=user_of(row, id_column="user_id"), role=row.role)


class PostgresDirectory:
    """Directory and DirectoryWriter on chat_users, chat_orgs, chat_memberships and words.

    Typeahead is two queries in `SearchKeys.rank` order: whole-name prefix matches (ranges
    of the sort_name and search_spelled indexes), then word or email prefix matches (ranges
    of the words key and the email index); each in (folded name, id) order.
    """

    def __init__(self, engine: AsyncEngine, connections: ReadConnections) -> None:
        self._engine = engine
        self._connections = connections
        # One statement per read, so no transaction around it: no BEGIN/COMMIT round trips.
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")

    # -- writer -------------------------------------------------------------------------

    @store_errors
    async def put_org(self, org: Org) -> None:
        statement = insert(ORGS).values(id=org.id, name=org.name)
        async with self._engine.begin() as conn:
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[ORGS.c.id], set_={"name": statement.excluded.name}
                )
            )

    @store_errors
    async def put_user(self, user: User) -> None:
        """Write the user, and the search keys and profile of every membership they hold, in
        one transaction; the user row's lock makes a concurrent put_membership wait for it."""
        values = profile(user)
        statement = insert(USERS).values(id=user.id, **values)
        async with self._engine.begin() as conn:
            await conn.execute(statement.on_conflict_do_update(index_elements=[U.id], set_=values))
            orgs = (
                (
                    await conn.execute(
                        sa.update(MEMBERSHIPS)
                        .where(M.user_id == user.id)
                        .values(**search_keys(user)[0], **values)
                        .returning(M.org_id)
                    )
                )
                .scalars()
                .all()
            )
            if orgs:
                await conn.execute(sa.delete(MEMBER_WORDS).where(W.user_id == user.id))
                await _insert_words(conn, user, list(orgs))

    @store_errors
    async def put_membership(self, membership: Membership) -> None:
        org_id, user_id = membership.org_id, membership.user_id
        async with self._engine.begin() as conn:
            if (
                not storable(org_id)
                or (await conn.execute(sa.select(ORGS.c.id).where(ORGS.c.id == org_id))).first()
                is None
            ):
                raise KeyError(f"unknown org {org_id!r}")
            # FOR SHARE: a put_user of this user commits before (keys read here are its) or
            # waits until this membership exists (and then rewrites its keys).
            row = (
                await conn.execute(
                    sa.select(USERS).where(U.id == user_id).with_for_update(read=True)
                )
                if storable(user_id)
                else None
            )
            found = row.first() if row is not None else None
            if found is None:
                raise KeyError(f"unknown user {user_id!r}")
            user = user_of(found)
            columns = {"role": membership.role, **search_keys(user)[0], **profile(user)}
            statement = insert(MEMBERSHIPS).values(org_id=org_id, user_id=user_id, **columns)
            await conn.execute(
                statement.on_conflict_do_update(index_elements=[M.org_id, M.user_id], set_=columns)
            )
            await conn.execute(
                sa.delete(MEMBER_WORDS).where(W.org_id == org_id, W.user_id == user_id)
            )
            await _insert_words(conn, user, [org_id])

    @store_errors
    async def remove_membership(self, org_id: OrgId, user_id: UserId) -> None:
        if not (storable(org_id) and storable(user_id)):
            return
        async with self._engine.begin() as conn:
            # Its words go with it (ON DELETE CASCADE).
            await conn.execute(
                sa.delete(MEMBERSHIPS).where(M.org_id == org_id, M.user_id == user_id)
            )

    # -- reader -------------------------------------------------------------------------

    # The single-row reads the worker and the write paths make per event or request: each
    # compiled once and sent on a held connection (read_connections.py), as the hot reads.

    @store_errors
    async def get_user(self, user_id: UserId) -> User | None:
        if not storable(user_id):
            return None
        rows = await self._connections.fetch(_USER.sql, _USER.args({"user_id": user_id}))
        return user_of(rows[0]) if rows else None

    @store_errors
    async def get_users(self, user_ids: Collection[UserId]) -> Mapping[UserId, User]:
        ids = storable_all(user_ids)
        if not ids:
            return {}
        rows = await self._connections.fetch(_USERS.sql, _USERS.args({"ids": ids}))
        return {UserId(row["id"]): user_of(row) for row in rows}

    @store_errors
    async def get_org(self, org_id: OrgId) -> Org | None:
        if not storable(org_id):
            return None
        rows = await self._connections.fetch(_ORG.sql, _ORG.args({"org_id": org_id}))
        return Org(id=OrgId(rows[0]["id"]), name=rows[0]["name"]) if rows else None

    @store_errors
    async def get_membership(self, org_id: OrgId, user_id: UserId) -> Membership | None:
        if not (storable(org_id) and storable(user_id)):
            return None
        values = {"org_id": org_id, "user_id": user_id}
        rows = await self._connections.fetch(_MEMBERSHIP.sql, _MEMBERSHIP.args(values))
        return membership_of(rows[0]) if rows else None

    @store_errors
    async def get_memberships(
        self, org_id: OrgId, user_ids: Collection[UserId]
    ) -> Mapping[UserId, Membership]:
        ids = storable_all(user_ids)
        if not ids or not storable(org_id):
            return {}
        values = {"org_id": org_id, "ids": ids}
        rows = await self._connections.fetch(_MEMBERSHIPS.sql, _MEMBERSHIPS.args(values))
        return {UserId(row["user_id"]): membership_of(row) for row in rows}

    @store_errors
    async def search_members(
        self, org_id: OrgId, query: SearchQuery, *, limit: int, exclude: UserId | None
    ) -> Sequence[Member]:
        q = query.folded
        if limit < 1 or not storable(q) or not storable(org_id):
            return []  # text PostgreSQL cannot hold is in no stored key
        if exclude is not None and not storable(exclude):
            exclude = None  # no stored member has that id
        async with self._reads.connect() as conn:
            first = (
                await conn.execute(*_search(_whole_name_statement, org_id, q, exclude, limit))
            ).all()
            rest: Sequence[AnyRow] = []
            if len(first) < limit:
                other = _search(_word_or_email_statement, org_id, q, exclude, limit - len(first))
                rest = (await conn.execute(*other)).all()
        return [_member(row) for row in (*first, *rest)]

    @store_errors
    async def list_members(
        self, org_id: OrgId, *, limit: int, after: MemberKey | None
    ) -> MemberPage:
        """A keyset page: members strictly after `after` in (folded name, id) order."""
        if limit < 1 or not storable(org_id):
            return MemberPage(members=(), next_after=None)
        if after is not None and not (storable(after.sort_name) and storable(after.user_id)):
            return MemberPage(members=(), next_after=None)
        async with self._reads.connect() as conn:
            rows = (
                await conn.execute(
                    page_statement(after is not None), _page_values(org_id, after, limit + 1)
                )
            ).all()
        window = rows[:limit]
        next_after = (
            MemberKey(sort_name=window[-1].sort_name, user_id=UserId(window[-1].user_id))
            if len(rows) > limit
            else None
        )
        return MemberPage(members=tuple(_member(row) for row in window), next_after=next_after)

    @store_errors
    async def ping(self) -> None:
        async with self._reads.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))


# The hot statements are built once per shape and executed with their parameters: building
# and cache-keying a statement per call costs more than the query itself at 1k members.
_TEXT_C = sa.Text(collation="C")


def param(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=_TEXT_C)


LIMIT = sa.bindparam("limit", type_=sa.Integer)


def _prefix(column: Any, bounded: bool) -> sa.ColumnElement[bool]:
    return in_range(column, param("low"), param("high") if bounded else None)


def _whole_name(sort_name: Any, spelled: Any, bounded: bool) -> sa.ColumnElement[bool]:
    return sa.or_(
        _prefix(sort_name, bounded), sa.and_(spelled.is_not(None), _prefix(spelled, bounded))
    )


def _ranked(hits: sa.Subquery) -> sa.Select[Any]:
    """The members among `hits` (user_id, sort_name), first `limit` in (name, id) order."""
    membership = sa.and_(M.org_id == param("org_id"), M.user_id == hits.c.user_id)
    return (
        sa.select(*MEMBER_COLUMNS)
        .select_from(hits.join(MEMBERSHIPS, membership))
        .order_by(hits.c.sort_name, hits.c.user_id)
        .limit(LIMIT)
    )


def _first(hits: sa.Subquery) -> sa.Select[Any]:
    return sa.select(hits).order_by(hits.c.sort_name, hits.c.user_id).limit(LIMIT)


def whole_name_hits(bounded: bool, excluding: bool) -> sa.CompoundSelect[Any]:
    """(user_id, sort_name) of rank-0 matches: at most `limit` from each index range."""
    scope = [M.org_id == param("org_id")]
    if excluding:
        scope.append(M.user_id != param("exclude"))
    by_name = sa.select(M.user_id, M.sort_name).where(*scope, _prefix(M.sort_name, bounded))
    by_spelling = sa.select(M.user_id, M.sort_name).where(
        *scope, M.search_spelled.is_not(None), _prefix(M.search_spelled, bounded)
    )
    return sa.union(_first(by_name.subquery()), _first(by_spelling.subquery()))


def word_or_email_hits(bounded: bool, excluding: bool) -> sa.Select[Any]:
    """(user_id, sort_name) of rank-1 matches, the first `limit` in (name, id) order."""
    by_word = sa.select(W.user_id, W.sort_name).where(
        W.org_id == param("org_id"),
        _prefix(W.word, bounded),
        sa.not_(_whole_name(W.sort_name, W.search_spelled, bounded)),
        *([W.user_id != param("exclude")] if excluding else []),
    )
    by_email = sa.select(M.user_id, M.sort_name).where(
        M.org_id == param("org_id"),
        _prefix(M.search_email, bounded),
        sa.not_(_whole_name(M.sort_name, M.search_spelled, bounded)),
        *([M.user_id != param("exclude")] if excluding else []),
    )
    return _first(sa.union(by_word, by_email).subquery())


@functools.cache
def _whole_name_statement(bounded: bool, excluding: bool) -> sa.Select[Any]:
    return _ranked(whole_name_hits(bounded, excluding).subquery("hits"))


@functools.cache
def _word_or_email_statement(bounded: bool, excluding: bool) -> sa.Select[Any]:
    return _ranked(word_or_email_hits(bounded, excluding).subquery("hits"))


@functools.cache
def page_statement(after: bool) -> sa.Select[Any]:
    where = [M.org_id == param("org_id")]
    if after:
        where.append(
            sa.tuple_(M.sort_name, M.user_id) > sa.tuple_(param("after_name"), param("after_id"))
        )
    return _members_where(*where).limit(LIMIT)


_IDS = sa.bindparam("ids", type_=postgresql.ARRAY(_TEXT_C))
_MEMBERSHIP = Compiled.of(
    sa.select(M.org_id, M.user_id, M.role).where(
        M.org_id == param("org_id"), M.user_id == param("user_id")
    )
)
_MEMBERSHIPS = Compiled.of(
    sa.select(M.org_id, M.user_id, M.role).where(
        M.org_id == param("org_id"), M.user_id == sa.any_(_IDS)
    )
)
_USER = Compiled.of(sa.select(USERS).where(U.id == param("user_id")))
_USERS = Compiled.of(sa.select(USERS).where(U.id == sa.any_(_IDS)))
_ORG = Compiled.of(sa.select(ORGS).where(ORGS.c.id == param("org_id")))


def _search(
    shape: Callable[[bool, bool], sa.Select[Any]],
    org_id: str,
    q: str,
    exclude: str | None,
    limit: int,
) -> tuple[sa.Select[Any], dict[str, Any]]:
    low, high = prefix_bounds(q)
    values = {"org_id": org_id, "low": low, "high": high, "exclude": exclude, "limit": limit}
    statement = shape(high is not None, exclude is not None)
    return statement, {k: v for k, v in values.items() if v is not None}


def whole_name_query(org_id: str, q: str, exclude: str | None, limit: int) -> sa.Select[Any]:
    """Typeahead, rank 0: members whose whole folded name starts with `q`.

    Two index ranges, each read in page order and stopped at `limit`: sort_name prefixes on
    (org_id, sort_name, user_id), and the few spelled-differently names on their index.
    """
    statement, values = _search(_whole_name_statement, org_id, q, exclude, limit)
    return statement.params(values)


def word_or_email_query(org_id: str, q: str, exclude: str | None, limit: int) -> sa.Select[Any]:
    """Typeahead, rank 1: members matching `q` only on a name word or the email."""
    statement, values = _search(_word_or_email_statement, org_id, q, exclude, limit)
    return statement.params(values)


def member_page_query(org_id: str, after: MemberKey | None, limit: int) -> sa.Select[Any]:
    """Members strictly after `after` in (folded name, id) order: a keyset range."""
    return page_statement(after is not None).params(_page_values(org_id, after, limit))


def _page_values(org_id: str, after: MemberKey | None, limit: int) -> dict[str, Any]:
    values: dict[str, Any] = {"org_id": org_id, "limit": limit}
    if after is not None:
        values |= {"after_name": after.sort_name, "after_id": after.user_id}
    return values


def _members_where(*conditions: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(*MEMBER_COLUMNS).where(*conditions).order_by(*_MEMBER_ORDER)


async def _insert_words(conn: AsyncConnection, user: User, org_ids: list[str]) -> None:
    keys, words = search_keys(user)
    if words:
        names = {"sort_name": keys["sort_name"], "search_spelled": keys["search_spelled"]}
        await conn.execute(
            sa.insert(MEMBER_WORDS),
            [
                {"org_id": org, "user_id": user.id, "word": w, **names}
                for org in org_ids
                for w in words
            ],
        )
