"""The directory: users, orgs and memberships, owned by the host platform."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from yc_chat.domain.model import Member, Membership, Org, OrgId, User, UserId
from yc_chat.domain.queries import CallerView, MemberKey, MemberPage
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


class MemberReads(Protocol):
    """Typeahead and member pages as one caller sees them, each answered in one read.

    Optional: a store that can check the org and the caller's membership in the same
    round trip as the search provides it; otherwise the service composes the same view from
    the Directory (org, then membership, then the search). The answer is there only when
    the caller holds a current membership of an existing org, and then it equals what
    `Directory.search_members` (the caller excluded) or `Directory.list_members` gives.
    """

    async def search_as(
        self, caller: UserId, org_id: OrgId, query: SearchQuery, *, limit: int
    ) -> CallerView[Sequence[Member]]:
        """The org, the caller's membership, and the matches other than the caller."""

    async def page_as(
        self, caller: UserId, org_id: OrgId, *, limit: int, after: MemberKey | None
    ) -> CallerView[MemberPage]:
        """The org, the caller's membership, and the members strictly after `after`."""


class DirectoryWriter(Protocol):
    """Loading directory data (seed files, host sync); not used by the use cases."""

    async def put_org(self, org: Org) -> None: ...

    async def put_user(self, user: User) -> None: ...

    async def put_membership(self, membership: Membership) -> None: ...

    async def remove_membership(self, org_id: OrgId, user_id: UserId) -> None: ...
