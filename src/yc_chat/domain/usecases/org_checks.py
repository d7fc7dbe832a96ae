"""Checks several use cases share: the org exists, the caller is a current member of it,
the people a request names are its members (and the ids they came in, without repeats)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING

from yc_chat.domain import errors, policies
from yc_chat.domain.model import Membership, Org, OrgId, UserId

if TYPE_CHECKING:
    # Ports are structural Protocols: the domain needs them as types only, never at run time.
    from yc_chat.ports import Directory


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
