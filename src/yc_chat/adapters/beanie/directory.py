"""The directory on MongoDB: users, orgs, memberships; index-backed typeahead and keyset pages."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from yc_chat.adapters.beanie._queries import (
    MEMBER_ORDER,
    literal,
    literals,
    prefix_regex,
    storable,
    upsert_one,
)
from yc_chat.adapters.beanie.documents import MembershipDocument, OrgDocument, UserDocument
from yc_chat.adapters.beanie.errors import ping, store_errors
from yc_chat.domain.model import Member, Membership, Org, OrgId, User, UserId, UserKind
from yc_chat.domain.queries import MemberKey, MemberPage
from yc_chat.domain.text import SearchKeys, SearchQuery


def _user(doc: UserDocument) -> User:
    return User(
        id=UserId(doc.id), name=doc.name, kind=UserKind(doc.kind), email=doc.email, image=doc.image
    )


def _membership(doc: MembershipDocument) -> Membership:
    return Membership(org_id=OrgId(doc.org_id), user_id=UserId(doc.user_id), role=doc.role)


def search_fields(user: User) -> dict[str, Any]:
    """The membership fields that carry `user`'s folded SearchKeys (for bulk loaders too)."""
    keys = SearchKeys.of(user.name, user.email)
    return {
        "sortName": keys.joined,
        "searchSpelled": keys.spelled,
        "searchWords": list(keys.words),
        "searchEmail": keys.email,
    }


class BeanieDirectory:
    """Directory and DirectoryWriter on the users, orgs and memberships collections.

    Typeahead runs on the membership documents alone: each carries its user's folded
    `SearchKeys`, so a search is anchored prefix scans of (orgId, key) indexes, never a
    scan of the org. Matching and ranking are `SearchKeys.matches` and `SearchKeys.rank`.
    """

    # -- writer -------------------------------------------------------------------------

    @store_errors
    async def put_org(self, org: Org) -> None:
        await upsert_one(OrgDocument, {"_id": literal(org.id)}, {"name": org.name})

    @store_errors
    async def put_user(self, user: User) -> None:
        """Write the user, then rewrite the search keys of every membership they hold.

        Two writes: if the second fails, writing the same user again repairs it (the keys
        are always rewritten, changed or not).
        """
        await upsert_one(
            UserDocument,
            {"_id": literal(user.id)},
            {"name": user.name, "kind": user.kind.value, "email": user.email, "image": user.image},
        )
        await MembershipDocument.get_pymongo_collection().update_many(
            {"userId": user.id}, {"$set": search_fields(user)}
        )

    @store_errors
    async def put_membership(self, membership: Membership) -> None:
        org_id, user_id = literal(membership.org_id), literal(membership.user_id)
        if await OrgDocument.find_one({"_id": org_id}) is None:
            raise KeyError(f"unknown org {org_id!r}")
        user = await UserDocument.find_one({"_id": user_id})
        if user is None:
            raise KeyError(f"unknown user {user_id!r}")
        await upsert_one(
            MembershipDocument,
            {"orgId": org_id, "userId": user_id},
            {"role": membership.role, **search_fields(_user(user))},
        )

    @store_errors
    async def remove_membership(self, org_id: OrgId, user_id: UserId) -> None:
        await MembershipDocument.get_pymongo_collection().delete_one(
            {"orgId": literal(org_id), "userId": literal(user_id)}
        )

    # -- reader -------------------------------------------------------------------------

    @store_errors
    async def get_user(self, user_id: UserId) -> User | None:
        doc = await UserDocument.find_one({"_id": literal(user_id)})
        return None if doc is None else _user(doc)

    @store_errors
    async def get_users(self, user_ids: Collection[UserId]) -> Mapping[UserId, User]:
        return await self._users(literals(user_ids))

    @store_errors
    async def get_org(self, org_id: OrgId) -> Org | None:
        doc = await OrgDocument.find_one({"_id": literal(org_id)})
        return None if doc is None else Org(id=OrgId(doc.id), name=doc.name)

    @store_errors
    async def get_membership(self, org_id: OrgId, user_id: UserId) -> Membership | None:
        doc = await MembershipDocument.find_one(
            {"orgId": literal(org_id), "userId": literal(user_id)}
        )
        return None if doc is None else _membership(doc)

    @store_errors
    async def get_memberships(
        self, org_id: OrgId, user_ids: Collection[UserId]
    ) -> Mapping[UserId, Membership]:
        ids = literals(user_ids)
        if not ids:
            return {}
        docs = await MembershipDocument.find(
            {"orgId": literal(org_id), "userId": {"$in": ids}}
        ).to_list()
        return {UserId(doc.user_id): _membership(doc) for doc in docs}

    @store_errors
    async def search_members(
        self, org_id: OrgId, query: SearchQuery, *, limit: int, exclude: UserId | None
    ) -> Sequence[Member]:
        """Two index-backed queries, in `SearchKeys.rank` order.

        First the members whose whole folded name starts with the query (rank 0), then,
        if the page is not full, those matching only on a word or the email (rank 1);
        each sorted by (folded name, id), which is the rest of the rank.
        """
        if limit < 1 or not storable(query.folded):
            return []  # text MongoDB cannot hold (lone surrogates) is in no stored field
        scope: dict[str, Any] = {"orgId": literal(org_id)}
        if exclude is not None:
            scope["userId"] = {"$ne": literal(exclude)}
        prefix = prefix_regex(query.folded)
        whole_name = [{"sortName": prefix}, {"searchSpelled": prefix}]
        first = await self._members_where({**scope, "$or": whole_name}, limit)
        rest: list[MembershipDocument] = []
        if len(first) < limit:
            rest = await self._members_where(
                {
                    **scope,
                    "$or": [{"searchWords": prefix}, {"searchEmail": prefix}],
                    "$nor": whole_name,
                },
                limit - len(first),
            )
        return await self._as_members([*first, *rest])

    @store_errors
    async def list_members(
        self, org_id: OrgId, *, limit: int, after: MemberKey | None
    ) -> MemberPage:
        """A keyset page: members strictly after `after` in (folded name, id) order; no skip."""
        where: dict[str, Any] = {"orgId": literal(org_id)}
        if after is not None:
            name, user_id = literal(after.sort_name), literal(after.user_id)
            where["$or"] = [
                {"sortName": {"$gt": name}},
                {"sortName": name, "userId": {"$gt": user_id}},
            ]
        docs = await self._members_where(where, limit + 1)
        window = docs[:limit]
        next_after = (
            MemberKey(sort_name=window[-1].sort_name, user_id=UserId(window[-1].user_id))
            if len(docs) > limit
            else None
        )
        return MemberPage(members=tuple(await self._as_members(window)), next_after=next_after)

    async def ping(self) -> None:
        await ping(UserDocument)

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    async def _members_where(where: Mapping[str, Any], limit: int) -> list[MembershipDocument]:
        return await MembershipDocument.find(dict(where)).sort(MEMBER_ORDER).limit(limit).to_list()

    @staticmethod
    async def _users(ids: list[str]) -> dict[UserId, User]:
        if not ids:
            return {}
        docs = await UserDocument.find({"_id": {"$in": ids}}).to_list()
        return {UserId(doc.id): _user(doc) for doc in docs}

    async def _as_members(self, docs: Sequence[MembershipDocument]) -> list[Member]:
        users = await self._users([doc.user_id for doc in docs])
        # A membership whose user record is gone is not listed (the user no longer exists).
        return [
            Member(user=users[UserId(doc.user_id)], role=doc.role)
            for doc in docs
            if doc.user_id in users
        ]
