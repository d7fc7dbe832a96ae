"""The directory: users, orgs and memberships, owned by the host platform."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from yc_chat.domain.model import Member, Membership, Org, OrgId, User, UserId
from yc_chat.domain.queries import MemberKey, MemberPage
from yc_chat.domain.text import SearchQuery


class Directory(Protocol):
    """Users, orgs and memberships, owned by the host platform (read-only here)."""

    async def get_user(self, user_id: UserId) -> User | None:
        """The user, or None."""

    async def get_users(self, user_ids: Collection[UserId]) -> Mapping[UserId, User]:
        """The users that exist among `user_ids`."""

    async def get_org(self, org_id: OrgId) -> Org | None:
        """The org, or None."""

    async def get_membership(self, org_id: OrgId, user_id: UserId) -> Membership | None:
        """The user's current membership of the org, or None."""

    async def get_memberships(
        self, org_id: OrgId, user_ids: Collection[UserId]
    ) -> Mapping[UserId, Membership]:
        """Current memberships of the org among `user_ids`."""

    async def search_members(
        self, org_id: OrgId, query: SearchQuery, *, limit: int, exclude: UserId | None
    ) -> Sequence[Member]:
        """Current members matching `query` (SearchKeys rule), ranked by SearchKeys.rank."""

    async def list_members(
        self, org_id: OrgId, *, limit: int, after: MemberKey | None
    ) -> MemberPage:
        """Current members in MemberKey order (folded name, id), strictly after `after`."""

    async def ping(self) -> None:
        """Raise ProviderUnavailable when the store cannot be reached."""


class DirectoryWriter(Protocol):
    """Loading directory data (seed files, host sync); not used by the use cases."""

    async def put_org(self, org: Org) -> None: ...

    async def put_user(self, user: User) -> None: ...

    async def put_membership(self, membership: Membership) -> None: ...

    async def remove_membership(self, org_id: OrgId, user_id: UserId) -> None: ...
