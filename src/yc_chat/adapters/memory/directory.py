"""The directory in memory: users, orgs and memberships, with typeahead and keyset paging."""

from __future__ import annotations

import bisect
from collections.abc import Collection, Mapping, Sequence

from yc_chat.adapters.memory.typeahead import LiveTypeahead
from yc_chat.domain.model import Member, Membership, Org, OrgId, User, UserId
from yc_chat.domain.queries import MemberKey, MemberPage
from yc_chat.domain.text import SearchKeys, SearchQuery, folded_name

# An org's typeahead index is rebuilt once this many of its members changed since it was
# built (at least MIN_REBUILD_AFTER): until then the changes are kept beside it.
REBUILD_FRACTION = 16
MIN_REBUILD_AFTER = 256


class InMemoryDirectory:
    """Directory and DirectoryWriter over dicts; sort orders are cached per org.

    An org's typeahead index and member order, once built (`warm_search` after a load, or
    the first read), follow every member change from then on instead of being rebuilt by
    the next read (issue 22); the index is rebuilt only after many changes.
    """

    def __init__(self, *, min_rebuild_after: int = MIN_REBUILD_AFTER) -> None:
        self._min_rebuild_after = min_rebuild_after
        self._users: dict[UserId, User] = {}
        self._keys: dict[UserId, SearchKeys] = {}
        self._orgs: dict[OrgId, Org] = {}
        self._members: dict[OrgId, dict[UserId, Membership]] = {}
        self._sorted: dict[OrgId, list[tuple[str, str]]] = {}
        self._prefixes: dict[OrgId, LiveTypeahead] = {}
        # Each member as reads return them, made once and dropped when the user or the
        # membership changes: a page of 100 made 100 new objects per request before.
        self._views: dict[OrgId, dict[UserId, Member]] = {}

    # -- writer -------------------------------------------------------------------------

    async def put_org(self, org: Org) -> None:
        self._orgs[org.id] = org
        self._members.setdefault(org.id, {})

    async def put_user(self, user: User) -> None:
        previous = self._users.get(user.id)
        self._users[user.id] = user
        self._keys[user.id] = SearchKeys.of(user.name, user.email)
        keys_changed = previous is None or (previous.name, previous.email) != (
            user.name,
            user.email,
        )
        for org_id, members in self._members.items():
            if user.id in members:
                self._views.get(org_id, {}).pop(user.id, None)
                if keys_changed:
                    if previous is not None:
                        self._leave_views(org_id, user.id, previous.name)
                    self._join_views(org_id, user.id)

    async def put_membership(self, membership: Membership) -> None:
        if membership.org_id not in self._orgs:
            raise KeyError(f"unknown org {membership.org_id!r}")
        if membership.user_id not in self._users:
            raise KeyError(f"unknown user {membership.user_id!r}")
        members = self._members.setdefault(membership.org_id, {})
        joined = membership.user_id not in members
        members[membership.user_id] = membership
        self._views.get(membership.org_id, {}).pop(membership.user_id, None)
        if joined:  # a changed role moves nobody in the index or the order
            self._join_views(membership.org_id, membership.user_id)

    async def remove_membership(self, org_id: OrgId, user_id: UserId) -> None:
        if self._members.get(org_id, {}).pop(user_id, None) is not None:
            self._views.get(org_id, {}).pop(user_id, None)
            self._leave_views(org_id, user_id, self._users[user_id].name)

    # -- reader -------------------------------------------------------------------------

    async def get_user(self, user_id: UserId) -> User | None:
        return self._users.get(user_id)

    async def get_users(self, user_ids: Collection[UserId]) -> Mapping[UserId, User]:
        return {uid: self._users[uid] for uid in user_ids if uid in self._users}

    async def get_org(self, org_id: OrgId) -> Org | None:
        return self._orgs.get(org_id)

    async def get_membership(self, org_id: OrgId, user_id: UserId) -> Membership | None:
        return self._members.get(org_id, {}).get(user_id)

    async def get_memberships(
        self, org_id: OrgId, user_ids: Collection[UserId]
    ) -> Mapping[UserId, Membership]:
        members = self._members.get(org_id, {})
        return {uid: members[uid] for uid in user_ids if uid in members}

    async def search_members(
        self, org_id: OrgId, query: SearchQuery, *, limit: int, exclude: UserId | None
    ) -> Sequence[Member]:
        members = self._members.get(org_id)
        if not members or limit < 1:
            return []
        found = self._typeahead(org_id).search(query, limit=limit, keep=lambda uid: uid != exclude)
        return [self._member(org_id, members[uid]) for uid in found]

    async def list_members(
        self, org_id: OrgId, *, limit: int, after: MemberKey | None
    ) -> MemberPage:
        order = self._order(org_id)
        start = bisect.bisect_right(order, (after.sort_name, after.user_id)) if after else 0
        window = order[start : start + limit + 1]
        members = self._members[org_id] if window else {}
        page = tuple(self._member(org_id, members[UserId(uid)]) for _, uid in window[:limit])
        if len(window) <= limit:
            return MemberPage(members=page, next_after=None)
        name, uid = window[limit - 1]
        return MemberPage(members=page, next_after=MemberKey(sort_name=name, user_id=UserId(uid)))

    async def ping(self) -> None:
        return None

    async def warm_search(self) -> None:
        """Build every org's typeahead index and member order now (after a bulk load).

        Built lazily, the first search of a 100k-member org paid the whole build (about
        0.7 s), and every request arriving meanwhile waited behind it.
        """
        for org_id, members in self._members.items():
            if members:
                self._typeahead(org_id)
                self._order(org_id)

    def _join_views(self, org_id: OrgId, user_id: UserId) -> None:
        """A member came (or was renamed): into the org's built index and order."""
        index = self._prefixes.get(org_id)
        if index is not None:
            index.put(user_id, self._keys[user_id])
            if index.stale:
                del self._prefixes[org_id]  # the next read builds it anew
        order = self._sorted.get(org_id)
        if order is not None:
            bisect.insort(order, (folded_name(self._users[user_id].name), user_id))

    def _leave_views(self, org_id: OrgId, user_id: UserId, name: str) -> None:
        """A member went (or is renamed from `name`): out of the org's index and order."""
        index = self._prefixes.get(org_id)
        if index is not None:
            index.remove(user_id)
            if index.stale:
                del self._prefixes[org_id]
        order = self._sorted.get(org_id)
        if order is not None:
            entry = (folded_name(name), user_id)
            at = bisect.bisect_left(order, entry)
            if at < len(order) and order[at] == entry:
                del order[at]

    def _typeahead(self, org_id: OrgId) -> LiveTypeahead:
        index = self._prefixes.get(org_id)
        if index is None:
            members = self._members[org_id]
            index = LiveTypeahead(
                {uid: self._keys[uid] for uid in members},
                rebuild_after=max(self._min_rebuild_after, len(members) // REBUILD_FRACTION),
            )
            self._prefixes[org_id] = index
        return index

    def _order(self, org_id: OrgId) -> list[tuple[str, str]]:
        order = self._sorted.get(org_id)
        if order is None:
            order = sorted(
                (folded_name(self._users[uid].name), uid) for uid in self._members.get(org_id, {})
            )
            self._sorted[org_id] = order
        return order

    def _member(self, org_id: OrgId, membership: Membership) -> Member:
        views = self._views.setdefault(org_id, {})
        member = views.get(membership.user_id)
        if member is None:
            member = Member(user=self._users[membership.user_id], role=membership.role)
            views[membership.user_id] = member
        return member
