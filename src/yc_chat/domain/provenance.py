"""Which channels are yc-chat's own: the one rule every pass over provider data applies.

Every user holds a provider token and can create channels directly, with any custom data
(an "org group" naming any org). Custom data therefore proves nothing. A channel is ours
when the provider says the service's system user created it (people cannot act as that
user), or when the service's own records name it (channels opened before the system
user created them): an appointment whose record links the channel, or a colleague DM
whose id is the one the service derives from its org and its two members. Listing, group
listing, push fan-out, the lifecycle and offboarding skip anything else.
"""

from __future__ import annotations

from collections.abc import Iterable

from yc_chat.domain.channel_ids import colleague_dm_channel_id
from yc_chat.domain.model import SYSTEM_USER_ID, Appointment, Channel, ChatCategory, UserId


def created_by_service(channel: Channel, *, system_user: UserId = SYSTEM_USER_ID) -> bool:
    """The provider records the system user as the channel's creator."""
    return channel.provider_creator == system_user


def vouched_by_record(channel: Channel, appointment: Appointment | None) -> bool:
    """The appointment record links this very channel (a chat opened by the service)."""
    return appointment is not None and appointment.chat_channel_id == channel.id


def vouched_by_id(channel: Channel) -> bool:
    """A colleague DM whose id is derived from its org and exactly its two members.

    Such a channel is the DM the service would open for those two people whoever created
    it; its creator's rights went with the setup's grants.
    """
    if channel.category is not ChatCategory.COLLEAGUE or len(channel.members) != 2:
        return False
    a, b = sorted(channel.members)
    return bool(channel.org_id) and channel.id == colleague_dm_channel_id(channel.org_id, a, b)


def is_ours(
    channel: Channel,
    *,
    system_user: UserId = SYSTEM_USER_ID,
    linked: Appointment | None = None,
) -> bool:
    """yc-chat created the channel: its system user did, or the service's records name it.

    `linked` is the appointment record the caller already read for this channel, if any
    (no record is looked up here: the rule is pure).
    """
    return (
        created_by_service(channel, system_user=system_user)
        or vouched_by_id(channel)
        or vouched_by_record(channel, linked)
    )


def only_ours(
    channels: Iterable[Channel], *, system_user: UserId = SYSTEM_USER_ID
) -> list[Channel]:
    """The channels that are ours without a record lookup, in order."""
    return [c for c in channels if is_ours(c, system_user=system_user)]


def needs_record(channel: Channel, *, system_user: UserId = SYSTEM_USER_ID) -> bool:
    """Only an appointment record could still vouch for this channel: an appointment chat
    the system user did not create."""
    return (
        not is_ours(channel, system_user=system_user)
        and channel.category is ChatCategory.CLIENT
        and channel.appointment_id is not None
    )
