"""Who may do what: pure functions over the caller, their membership and the target."""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import datetime, timedelta

from yc_chat.domain.model import (
    Appointment,
    Channel,
    ChatCategory,
    IssuedToken,
    Membership,
    TokenRecord,
    UserId,
)


def may_request_token(caller: UserId, user_id: UserId) -> bool:
    """Tokens are only minted for the caller's own id."""
    return caller == user_id


def reusable_token(
    record: TokenRecord, *, user_id: UserId, now: datetime, ttl: timedelta
) -> IssuedToken | None:
    """The kept token, if it may be handed out again now, else None.

    Only `user_id`'s own token, never one issued before the user's revocation cut-off (an
    offboarding revoked it at the provider), only one of the current lifetime (`ttl`), and
    only while more than half of that lifetime remains, so a client is never handed a
    token about to expire. Its `expires_at` is reported as it was signed.
    """
    token = record.token
    if token is None or token.user_id != user_id:
        return None
    if record.revoked_before is not None and token.issued_at < record.revoked_before:
        return None
    if token.expires_at - token.issued_at != ttl:
        return None
    if not token.issued_at <= now < token.issued_at + ttl / 2:
        return None
    return token


def may_view_org(membership: Membership | None) -> bool:
    """Searching, listing members and listing groups need a current membership."""
    return membership is not None


def may_open_appointment_chat(
    caller: UserId, appointment: Appointment, membership: Membership | None
) -> bool:
    """The appointment's pet owner, its vet (while in the org), or an admin of its org."""
    if caller == appointment.pet_owner_id:
        return True
    return membership is not None and (membership.is_admin or caller == appointment.vet_id)


def may_set_activation(membership: Membership | None) -> bool:
    """Only org staff may choose how early a chat opens; others' values are ignored."""
    return membership is not None


def may_start_dm(
    caller: UserId, member_ids: tuple[UserId, UserId], membership: Membership | None
) -> bool:
    """A DM is started by one of its two members, who belongs to the org."""
    return caller in member_ids and membership is not None


def may_create_group(membership: Membership | None, *, read_only: bool) -> bool:
    """Any org member creates groups; announcement (read-only) rooms need an org admin."""
    if membership is None:
        return False
    return membership.is_admin or not read_only


def may_edit_group(caller: UserId, group: Channel, membership: Membership | None) -> bool:
    """The group's creator (still in the org) or an org admin."""
    if membership is None or membership.org_id != group.org_id:
        return False
    return membership.is_admin or group.created_by == caller


def is_leaving(
    caller: UserId, group: Channel, add: Collection[UserId], remove: Collection[UserId]
) -> bool:
    """Whether the change is the caller leaving a group they are in: removing only themselves."""
    return not add and set(remove) == {caller} and caller in group.members


def may_remove_member(membership: Membership | None) -> bool:
    """Org admins remove members (offboarding)."""
    return membership is not None and membership.is_admin


class RemovalDecision(enum.Enum):
    ALLOW = "allow"
    NOT_ADMIN = "not_admin"  # only org admins remove members
    OWNER_ONLY = "owner_only"  # only an owner removes an owner
    LAST_ADMIN = "last_admin"  # the org would be left with nobody to manage it


def member_removal_decision(
    caller: Membership | None, target: Membership, *, other_admin_remains: bool
) -> RemovalDecision:
    """Whether `caller` may remove `target` from the org.

    Org admins (owners and admins) remove members; an owner only by an owner; and never
    the last admin of either kind (`other_admin_remains`: an admin other than the target
    stays), whoever asks, themselves included: nobody could manage the org after.
    """
    if not may_remove_member(caller):
        return RemovalDecision.NOT_ADMIN
    if target.is_owner and not (caller is not None and caller.is_owner):
        return RemovalDecision.OWNER_ONLY
    if target.is_admin and not other_admin_remains:
        return RemovalDecision.LAST_ADMIN
    return RemovalDecision.ALLOW


def may_see_channel(user: UserId, channel: Channel, membership: Membership | None) -> bool:
    """Whether `user` may list, read or be pushed `channel`, by the directory as it is now.

    A pet owner always sees their own appointment chats; every other seat in a channel is
    a staff seat, which needs a current membership of the channel's org (being a Stream
    member is not enough: a host may change the directory behind this service's back).
    """
    if channel.category is ChatCategory.CLIENT and channel.pet_owner_id == user:
        return True
    return membership is not None and membership.org_id == channel.org_id


class EndDecision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    DM_NOT_ENDABLE = "dm_not_endable"


def end_chat_decision(
    caller: UserId,
    channel: Channel,
    membership: Membership | None,
    *,
    appointment_vet_id: UserId | None,
) -> EndDecision:
    """Appointment chat: its vet or an org admin. Group: creator or admin. DMs: never."""
    in_org = membership is not None and membership.org_id == channel.org_id
    is_admin = in_org and membership is not None and membership.is_admin
    if channel.category is ChatCategory.COLLEAGUE:
        return EndDecision.DM_NOT_ENDABLE if caller in channel.members else EndDecision.DENY
    if channel.category is ChatCategory.CLIENT:
        # The vet ends their appointment's chat only while still in the org.
        allowed = is_admin or (
            in_org and appointment_vet_id is not None and caller == appointment_vet_id
        )
    else:
        allowed = may_edit_group(caller, channel, membership)
    return EndDecision.ALLOW if allowed else EndDecision.DENY
