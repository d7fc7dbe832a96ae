"""Staff among themselves: StartColleagueDM, SearchColleagues, ListOrgMembers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain import errors, policies
from yc_chat.domain.channel_ids import colleague_dm_channel_id
from yc_chat.domain.cursors import decode_key, encode_key
from yc_chat.domain.limits import (
    DM_MEMBERS,
    MEMBERS_DEFAULT_LIMIT,
    MEMBERS_MAX_LIMIT,
    SEARCH_DEFAULT_LIMIT,
    SEARCH_MAX_LIMIT,
)
from yc_chat.domain.model import (
    ChannelRef,
    ChannelSpec,
    ChatCategory,
    ChatStatus,
    Member,
    OrgId,
    UserId,
    UserProfile,
)
from yc_chat.domain.text import SearchQuery
from yc_chat.domain.usecases.org_checks import (
    deny_not_caller,
    require_caller_membership,
    require_org,
    require_org_members,
    visible,
)
from yc_chat.domain.usecases.profile_sync import ProfileSync
from yc_chat.domain.validation import Problems

if TYPE_CHECKING:
    from yc_chat.ports import ChatProvider, Directory, MemberReads


@attrs.frozen(kw_only=True)
class StartColleagueDM:
    """Open the one-to-one conversation between two members of an org, or return it.

    Guarantees: the caller is one of the two and the creator (403), and both belong to the
    org (400 `not_org_member`). The channel id derives from the org and the sorted pair, so
    either member, repeated or concurrent calls all reach the same channel; an id already
    used by a different channel is 409 `channel_exists`. DMs cannot be ended.
    """

    directory: Directory
    chat: ChatProvider
    profiles: ProfileSync

    async def __call__(
        self,
        *,
        caller: UserId,
        org_id: OrgId,
        member_ids: Sequence[UserId],
        created_by: UserId,
    ) -> ChannelRef:
        problems = Problems()
        problems.identifier("org_id", org_id)
        problems.identifiers("member_ids", member_ids, min_items=DM_MEMBERS, max_items=DM_MEMBERS)
        problems.identifier("created_by", created_by)
        if len(member_ids) == DM_MEMBERS and member_ids[0] == member_ids[1]:
            problems.add("member_ids", "must name two different users")
        problems.check()
        pair = (member_ids[0], member_ids[1])

        await require_org(self.directory, org_id)
        if created_by != caller:
            raise deny_not_caller("created_by")
        membership = await require_caller_membership(self.directory, org_id, caller)
        if not policies.may_start_dm(caller, pair, membership):
            raise errors.Forbidden(
                "You can only start a conversation you take part in",
                code=errors.CODE_NOT_PARTICIPANT,
            )
        await require_org_members(self.directory, org_id, pair)

        users = await self.directory.get_users(pair)
        profiles = [UserProfile.of(user) for user in users.values()]
        await self.profiles.sync(profiles)
        members = frozenset(pair)
        spec = ChannelSpec(
            id=colleague_dm_channel_id(org_id, *pair),
            category=ChatCategory.COLLEAGUE,
            org_id=org_id,
            members=members,
            created_by=caller,
            status=ChatStatus.ACTIVE,
        )
        opened = await self.profiles.healing(profiles, lambda: self.chat.open_channel(spec))
        channel = opened.channel
        if (
            channel.category is not ChatCategory.COLLEAGUE
            or channel.org_id != org_id
            or channel.members != members
        ):
            raise errors.Conflict(
                "A different channel already uses this conversation's id",
                code=errors.CODE_CHANNEL_EXISTS,
            )
        return ChannelRef(channel_id=channel.id, members=pair)


@attrs.frozen(kw_only=True)
class SearchColleagues:
    reads: MemberReads

    async def __call__(
        self, *, caller: UserId, org_id: OrgId, query: str, limit: int | None = None
    ) -> Sequence[Member]:
        problems = Problems()
        problems.identifier("org_id", org_id)
        parsed: SearchQuery | None = None
        try:
            parsed = SearchQuery.parse(query)
        except ValueError as exc:
            problems.add("query", str(exc))
        problems.int_range("limit", limit, 1, SEARCH_MAX_LIMIT)
        problems.check()
        assert parsed is not None

        # The org (404), the caller's membership (403) and the matches, in one read where
        # the store can do that (MemberReads).
        view = await self.reads.search_as(
            caller, org_id, parsed, limit=limit or SEARCH_DEFAULT_LIMIT
        )
        return visible(view)


@attrs.frozen(kw_only=True)
class MembersPage:
    members: Sequence[Member]  # a store's ListedMembers as it gave them, or a tuple
    next_cursor: str | None


@attrs.frozen(kw_only=True)
class ListOrgMembers:
    reads: MemberReads

    async def __call__(
        self,
        *,
        caller: UserId,
        org_id: OrgId,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> MembersPage:
        problems = Problems()
        problems.identifier("org_id", org_id)
        problems.int_range("limit", limit, 1, MEMBERS_MAX_LIMIT)
        problems.check()
        after = decode_key(cursor)

        view = await self.reads.page_as(
            caller, org_id, limit=limit or MEMBERS_DEFAULT_LIMIT, after=after
        )
        page = visible(view)
        next_cursor = encode_key(page.next_after) if page.next_after is not None else None
        return MembersPage(members=page.members, next_cursor=next_cursor)
