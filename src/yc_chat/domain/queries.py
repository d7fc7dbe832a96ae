"""Query and page shapes the use cases exchange with the ports."""

from __future__ import annotations

import attrs

from yc_chat.domain.model import Channel, ChatCategory, Member, OrgId, UserId


@attrs.frozen(kw_only=True)
class ChannelQuery:
    """Channels `member` belongs to, optionally narrowed; newest activity first."""

    member: UserId
    category: ChatCategory | None = None
    org_id: OrgId | None = None
    pet_owner_id: UserId | None = None
    vet_id: UserId | None = None


@attrs.frozen(kw_only=True)
class ChannelPage:
    """One page of a channel query; `has_more` says whether a next offset exists."""

    channels: tuple[Channel, ...]
    has_more: bool


@attrs.frozen(kw_only=True, order=True)
class MemberKey:
    """A place in an org's member list, which is ordered by (folded name, user id)."""

    sort_name: str
    user_id: UserId


@attrs.frozen(kw_only=True)
class MemberPage:
    """Members ordered by MemberKey; `next_after` is the key to continue from."""

    members: tuple[Member, ...]
    next_after: MemberKey | None
