"""Org roles when a member is removed: who may remove whom, and never the last admin."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from yc_chat.domain import errors, policies
from yc_chat.domain.limits import MEMBERS_MAX_LIMIT
from yc_chat.domain.model import Membership, OrgId, UserId
from yc_chat.domain.queries import MemberKey
from yc_chat.domain.usecases._locks import channel_lock

if TYPE_CHECKING:
    from yc_chat.ports import ChannelLocks, Clock, Directory


def org_admins_lock_key(org_id: OrgId) -> str:
    """The lock every removal of an org admin takes, so two admins removing each other at
    once cannot both pass the last-admin check."""
    return f"org-admins:{org_id}"


async def other_admin_remains(directory: Directory, org_id: OrgId, leaving: UserId) -> bool:
    """Whether an org admin other than `leaving` stays in the org.

    Pages the member list until one is found: removing an admin is rare and the directory
    port has no role query (it belongs to the host), so no new port is needed for it.
    """
    after: MemberKey | None = None
    while True:
        page = await directory.list_members(org_id, limit=MEMBERS_MAX_LIMIT, after=after)
        for member in page.members:
            if (
                member.user.id != leaving
                and Membership(org_id=org_id, user_id=member.user.id, role=member.role).is_admin
            ):
                return True
        if page.next_after is None:
            return False
        after = page.next_after


@contextlib.asynccontextmanager
async def removal_allowed(
    *,
    directory: Directory,
    locks: ChannelLocks,
    clock: Clock,
    caller: Membership | None,
    target: Membership,
) -> AsyncIterator[None]:
    """Raise unless `caller` may remove `target` now; the body removes the membership.

    Removing an admin holds the org's admin lock from the check until the body is done.
    """
    if not target.is_admin:
        _require(policies.member_removal_decision(caller, target, other_admin_remains=True))
        yield
        return
    key = org_admins_lock_key(target.org_id)
    async with channel_lock(locks, key, clock=clock) as held:
        # The 403 first: who may not remove an owner learns nothing about other admins.
        _require(policies.member_removal_decision(caller, target, other_admin_remains=True))
        if not held:
            raise errors.Conflict(
                "Another change to this organisation's admins is in progress, try again",
                code=errors.CODE_CHANGE_IN_PROGRESS,
            )
        remains = await other_admin_remains(directory, target.org_id, target.user_id)
        _require(policies.member_removal_decision(caller, target, other_admin_remains=remains))
        yield


def _require(decision: policies.RemovalDecision) -> None:
    if decision is policies.RemovalDecision.NOT_ADMIN:
        raise errors.Forbidden("Only org admins can remove members", code=errors.CODE_ADMIN_ONLY)
    if decision is policies.RemovalDecision.OWNER_ONLY:
        raise errors.Forbidden(
            "Only an owner of the organisation can remove an owner", code=errors.CODE_OWNER_ONLY
        )
    if decision is policies.RemovalDecision.LAST_ADMIN:
        raise errors.Conflict(
            "The organisation's last owner or admin cannot be removed",
            code=errors.CODE_LAST_ADMIN,
        )
