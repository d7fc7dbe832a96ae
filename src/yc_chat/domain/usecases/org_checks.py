"""Checks several use cases share: the org exists, the caller is a current member of it,
the people a request names are its members (and the ids they came in, without repeats)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

import attrs

from yc_chat.domain import errors, policies
from yc_chat.domain.model import Member, Membership, Org, OrgId, UserId
from yc_chat.domain.queries import CallerView, MemberKey, MemberPage
from yc_chat.domain.text import SearchQuery

if TYPE_CHECKING:
    # Ports are structural Protocols: the domain needs them as types only, never at run time.
    from yc_chat.ports import Directory

_T = TypeVar("_T")


async def require_org(directory: Directory, org_id: OrgId) -> Org:
    org = await directory.get_org(org_id)
    if org is None:
        raise errors.NotFound("Organisation not found", code=errors.CODE_ORG_NOT_FOUND)
    return org


def deny_not_caller(field: str) -> errors.Forbidden:
    return errors.Forbidden(
        f"{field} must be the authenticated user", code=errors.CODE_NOT_CALLER, field=field
    )


def deny_not_in_org() -> errors.Forbidden:
    return errors.Forbidden(
        "You are not a member of this organisation", code=errors.CODE_NOT_ORG_MEMBER_CALLER
    )


async def require_caller_membership(
    directory: Directory, org_id: OrgId, caller: UserId
) -> Membership:
    membership = await directory.get_membership(org_id, caller)
    if membership is None or not policies.may_view_org(membership):
        raise deny_not_in_org()
    return membership


async def require_org_members(
    directory: Directory, org_id: OrgId, user_ids: Collection[UserId]
) -> Mapping[UserId, Membership]:
    """Their memberships; 400 not_org_member listing every id that is not a current member."""
    found = await directory.get_memberships(org_id, user_ids)
    missing = sorted(set(user_ids) - set(found))
    if missing:
        raise errors.NotOrgMember(
            "Not members of this organisation: " + ", ".join(missing), details=missing
        )
    return found


def dedupe(ids: Iterable[UserId]) -> tuple[UserId, ...]:
    """Ids in first-seen order without repeats."""
    return tuple(dict.fromkeys(ids))


def visible(view: CallerView[_T]) -> _T:
    """The answer of a caller's view of an org, after the checks in the contract's order:
    404 for an org that does not exist, then 403 unless the caller is a current member."""
    if not view.org_found:
        raise errors.NotFound("Organisation not found", code=errors.CODE_ORG_NOT_FOUND)
    if view.answer is None or not policies.may_view_org(view.membership):
        raise deny_not_in_org()
    return view.answer


@attrs.frozen
class ReadsThroughDirectory:
    """MemberReads from any Directory: the org, then the caller's membership, then the read
    (three calls; stores that can do it in one round trip provide their own)."""

    directory: Directory

    async def search_as(
        self, caller: UserId, org_id: OrgId, query: SearchQuery, *, limit: int
    ) -> CallerView[Sequence[Member]]:
        org_found, membership = await self._gate(caller, org_id)
        answer = None
        if membership is not None:
            answer = await self.directory.search_members(org_id, query, limit=limit, exclude=caller)
        return CallerView(org_found=org_found, membership=membership, answer=answer)

    async def page_as(
        self, caller: UserId, org_id: OrgId, *, limit: int, after: MemberKey | None
    ) -> CallerView[MemberPage]:
        org_found, membership = await self._gate(caller, org_id)
        answer = None
        if membership is not None:
            answer = await self.directory.list_members(org_id, limit=limit, after=after)
        return CallerView(org_found=org_found, membership=membership, answer=answer)

    async def _gate(self, caller: UserId, org_id: OrgId) -> tuple[bool, Membership | None]:
        if await self.directory.get_org(org_id) is None:
            return False, None
        return True, await self.directory.get_membership(org_id, caller)
