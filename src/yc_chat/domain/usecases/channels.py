"""Channels across categories: EndChat, ListMyChannels, ListOrgGroups."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain import errors, policies
from yc_chat.domain.cursors import decode_offset, encode_offset
from yc_chat.domain.limits import (
    CHANNELS_DEFAULT_LIMIT,
    CHANNELS_MAX_LIMIT,
    MAX_ORG_GROUPS,
    ORG_GROUPS_PAGE,
)
from yc_chat.domain.model import (
    SYSTEM_USER_ID,
    Appointment,
    AppointmentId,
    Channel,
    ChannelId,
    ChannelRole,
    ChatCategory,
    ChatStatus,
    OrgId,
    User,
    UserId,
)
from yc_chat.domain.provenance import is_ours, needs_record, only_ours, vouched_by_record
from yc_chat.domain.queries import ChannelQuery
from yc_chat.domain.usecases._locks import (
    END_LOCK_WAITS,
    channel_lock,
    end_lock_key,
    members_lock_key,
)
from yc_chat.domain.usecases.appointments import client_chat_name
from yc_chat.domain.usecases.lifecycle import AdvanceChatLifecycle
from yc_chat.domain.usecases.org_checks import require_caller_membership, require_org
from yc_chat.domain.usecases.profile_sync import ProfileSync
from yc_chat.domain.validation import Problems

if TYPE_CHECKING:
    from yc_chat.ports import (
        AppointmentChatLinks,
        AppointmentRecords,
        ChannelLocks,
        ChatProvider,
        Clock,
        Directory,
    )


def end_notice(actor_name: str) -> str:
    return f"This chat was closed by {actor_name}."


@attrs.frozen(kw_only=True)
class EndChat:
    """End a chat for good: frozen, status `ended`, with one closing system message.

    Guarantees: a colleague DM cannot be ended (409 `cannot_end_dm`); an appointment chat
    may be ended by its vet (per the record) or an org admin, a group by its creator or an
    org admin (403 otherwise). However many calls race or repeat, the closing notice is
    posted once (the channel is read once, under the `end:{channel}` lock); a repeat returns the
    ended channel unchanged. The appointment record is marked ended, which also repairs a
    record left behind by an interrupted earlier end.
    """

    directory: Directory
    appointments: AppointmentRecords
    chat_links: AppointmentChatLinks
    chat: ChatProvider
    profiles: ProfileSync
    locks: ChannelLocks
    clock: Clock
    system_user: UserId = SYSTEM_USER_ID

    async def __call__(self, *, caller: UserId, channel_id: ChannelId) -> Channel:
        problems = Problems()
        problems.channel_id("channel_id", channel_id)
        problems.check()

        # The lock comes first so that the one channel read is authoritative: under
        # `end:{channel}` no other end can post in between. The authorization below runs
        # on that read; the lock is short-lived and lapses by itself, and writes are capped
        # per user (WRITE_RATE_LIMIT), so an unauthorised caller holds it for one read.
        for pause in (*END_LOCK_WAITS, None):
            held, channel, appointment = await self._end_under_lock(caller, channel_id)
            if held or channel.is_ended or pause is None:
                break
            # Another call holds the lock and the chat is not ended yet. That holder may be
            # a caller about to be refused, whose lock goes within one read: wait briefly
            # and look again rather than answer an end that did not happen. A holder that
            # stays (a crash) leaves the chat as it is until its lock lapses.
            await asyncio.sleep(pause)
        if appointment is not None and channel.is_ended:
            # Also repairs a record left behind by an earlier, interrupted end.
            await self.chat_links.set_chat_status(appointment.id, ChatStatus.ENDED)
        return channel

    async def _end_under_lock(
        self, caller: UserId, channel_id: ChannelId
    ) -> tuple[bool, Channel, Appointment | None]:
        """One try: read and authorize under `end:{channel}`; end it if this call holds it."""
        async with channel_lock(self.locks, end_lock_key(channel_id), clock=self.clock) as held:
            channel = await self.chat.get_channel(channel_id)
            if channel is None:
                raise errors.NotFound("Channel not found", code=errors.CODE_CHANNEL_NOT_FOUND)
            if not (await ours_only(self.appointments, [channel], system_user=self.system_user)):
                # Made directly on Stream (any custom data): not a chat of this service.
                raise errors.NotFound("Channel not found", code=errors.CODE_CHANNEL_NOT_FOUND)
            appointment = await self._authorize(caller, channel)
            if held and not channel.is_ended:
                channel = await self._end(channel, caller)
        return held, channel, appointment

    async def _authorize(self, caller: UserId, channel: Channel) -> Appointment | None:
        """The appointment record (None for groups); 409 for a DM, 403 for anyone else."""
        membership = await self.directory.get_membership(channel.org_id, caller)
        appointment = None
        if channel.category is ChatCategory.CLIENT and channel.appointment_id is not None:
            appointment = await self.appointments.get(channel.appointment_id)
        # The record, not channel data, says who the vet is.
        vet_id = appointment.vet_id if appointment is not None else channel.vet_id
        decision = policies.end_chat_decision(
            caller, channel, membership, appointment_vet_id=vet_id
        )
        if decision is policies.EndDecision.DM_NOT_ENDABLE:
            raise errors.Conflict(
                "Colleague conversations cannot be ended", code=errors.CODE_CANNOT_END_DM
            )
        if decision is policies.EndDecision.DENY:
            raise errors.Forbidden(
                "You are not allowed to end this chat", code=errors.CODE_NOT_PARTICIPANT
            )
        return appointment

    async def _end(self, channel: Channel, caller: UserId) -> Channel:
        """Post the one closing notice and end it (the caller holds `end:{channel}`).

        A group's member change decides on its one read under `members:{group}`; ending
        the group meanwhile would let that change land on an ended group, so an end
        waits for no such change: it is a 409 `change_in_progress` while one runs.
        """
        if channel.category is ChatCategory.GROUP:
            async with channel_lock(
                self.locks, members_lock_key(channel.id), clock=self.clock
            ) as held:
                if not held:
                    raise errors.Conflict(
                        "A change to this group is in progress, try again",
                        code=errors.CODE_CHANGE_IN_PROGRESS,
                    )
                return await self._post_end(channel, caller)
        return await self._post_end(channel, caller)

    async def _post_end(self, channel: Channel, caller: UserId) -> Channel:
        actor = await self.directory.get_user(caller)
        return await self.chat.set_status(
            channel.id,
            ChatStatus.ENDED,
            notice=end_notice(actor.name if actor is not None else caller),
        )


@attrs.frozen(kw_only=True)
class ChannelSummary:
    id: ChannelId
    name: str
    members: tuple[UserId, ...]
    last_message: str | None
    last_message_at: datetime | None
    appointment_id: AppointmentId | None
    status: ChatStatus
    category: ChatCategory
    org_id: OrgId
    is_group: bool
    frozen: bool


@attrs.frozen(kw_only=True)
class ChannelsPage:
    channels: tuple[ChannelSummary, ...]
    next_cursor: str | None


def display_name(channel: Channel, caller: UserId, users: dict[UserId, User]) -> str:
    """Client chats by pet owner, groups by their name, DMs by the other member."""
    if channel.category is ChatCategory.CLIENT:
        return client_chat_name(channel.pet_owner_name or "")
    if channel.category is ChatCategory.COLLEAGUE:
        others = sorted(channel.members - {caller})
        if others:
            other = users.get(others[0])
            return other.name if other is not None else others[0]
    return channel.name or channel.id


def summarize(channel: Channel, caller: UserId, users: dict[UserId, User]) -> ChannelSummary:
    return ChannelSummary(
        id=channel.id,
        name=display_name(channel, caller, users),
        members=tuple(sorted(channel.members)),
        last_message=channel.last_message_text,
        last_message_at=channel.last_message_at,
        appointment_id=(
            channel.appointment_id if channel.category is ChatCategory.CLIENT else None
        ),
        status=channel.status,
        category=channel.category,
        org_id=channel.org_id,
        is_group=channel.is_group,
        frozen=channel.frozen,
    )


async def visible_to(
    directory: Directory, user: UserId, channels: Sequence[Channel]
) -> list[Channel]:
    """The channels `user` may see by the directory as it is now (policies.may_see_channel):
    one membership read per org on the page, not per channel."""
    orgs = sorted({c.org_id for c in channels if not policies.may_see_channel(user, c, None)})
    found = await asyncio.gather(*(directory.get_membership(org, user) for org in orgs))
    memberships = dict(zip(orgs, found, strict=True))
    return [c for c in channels if policies.may_see_channel(user, c, memberships.get(c.org_id))]


async def ours_only(
    appointments: AppointmentRecords, channels: Sequence[Channel], *, system_user: UserId
) -> list[Channel]:
    """The channels yc-chat created (domain.provenance), in order.

    Only an appointment chat the system user did not create (opened before it created
    channels) costs a record read; a channel someone made directly on the provider is
    dropped without one when it claims no appointment.
    """
    pending = [c for c in channels if needs_record(c, system_user=system_user)]
    records = await asyncio.gather(
        *(appointments.get(c.appointment_id) for c in pending if c.appointment_id is not None)
    )
    vouched = {
        c.id for c, record in zip(pending, records, strict=True) if vouched_by_record(c, record)
    }
    return [c for c in channels if is_ours(c, system_user=system_user) or c.id in vouched]


def _check_scope(problems: Problems, org_id: OrgId | None, limit: int | None) -> None:
    problems.identifier("org_id", org_id, required=False)
    problems.int_range("limit", limit, 1, CHANNELS_MAX_LIMIT)


@attrs.frozen(kw_only=True)
class MyChannelsRequest:
    """A channel-list request, typed: what an edge builds from its raw parameters."""

    category: ChatCategory | None = None
    org_id: OrgId | None = None
    role: ChannelRole | None = None
    limit: int | None = None

    @classmethod
    def parse(
        cls,
        *,
        category: str | None = None,
        org_id: str | None = None,
        role: str | None = None,
        limit: int | None = None,
    ) -> MyChannelsRequest:
        """Typed values from raw ones; InvalidInput listing every problem at once."""
        problems = Problems()
        parsed_category = parsed_role = None
        if category is not None:
            try:
                parsed_category = ChatCategory(category)
            except ValueError:
                problems.add("category", "must be one of " + ", ".join(ChatCategory))
        if role is not None:
            try:
                parsed_role = ChannelRole(role)
            except ValueError:
                problems.add("role", "must be one of " + ", ".join(ChannelRole))
        scope = OrgId(org_id) if org_id is not None else None
        _check_scope(problems, scope, limit)
        problems.check()
        return cls(category=parsed_category, org_id=scope, role=parsed_role, limit=limit)


@attrs.frozen(kw_only=True)
class ListMyChannels:
    """The caller's channels, one page at a time, newest activity first.

    Guarantees: only channels the caller is a member of; filtered by category, by org (the
    caller must belong to it: 404/403 otherwise) and by the caller's side of client chats
    (`pet-owner`, `vet`). Lifecycle transitions that are due (activation, auto-end) are
    applied to the listed appointment chats before they are returned. The cursor resumes
    after the last channel returned; offsets past Stream's limit are a 400.
    """

    directory: Directory
    appointments: AppointmentRecords
    chat: ChatProvider
    lifecycle: AdvanceChatLifecycle
    system_user: UserId = SYSTEM_USER_ID

    async def __call__(
        self,
        *,
        caller: UserId,
        category: ChatCategory | None = None,
        org_id: OrgId | None = None,
        role: ChannelRole | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ChannelsPage:
        problems = Problems()
        _check_scope(problems, org_id, limit)
        problems.check()
        offset = decode_offset(cursor)

        if org_id is not None:
            await require_org(self.directory, org_id)
            await require_caller_membership(self.directory, org_id, caller)

        if role is not None:
            if category not in (None, ChatCategory.CLIENT):
                return ChannelsPage(channels=(), next_cursor=None)
            category = ChatCategory.CLIENT
        query = ChannelQuery(
            member=caller,
            category=category,
            org_id=org_id,
            pet_owner_id=caller if role is ChannelRole.PET_OWNER else None,
            vet_id=caller if role is ChannelRole.VET else None,
        )
        page_size = limit or CHANNELS_DEFAULT_LIMIT
        page = await self.chat.query_channels(query, limit=page_size, offset=offset)
        ours = await ours_only(self.appointments, page.channels, system_user=self.system_user)
        visible = await visible_to(self.directory, caller, ours)
        # Concurrently: with auto-end on, every client chat on the page needs its record.
        channels = await asyncio.gather(*map(self._activate_if_due, visible))
        others = {
            member
            for channel in channels
            if channel.category is ChatCategory.COLLEAGUE
            for member in channel.members
            if member != caller
        }
        users = dict(await self.directory.get_users(others)) if others else {}
        return ChannelsPage(
            channels=tuple(summarize(channel, caller, users) for channel in channels),
            # The offset counts what the provider returned, hidden channels included.
            next_cursor=encode_offset(offset + len(page.channels)) if page.has_more else None,
        )

    async def _activate_if_due(self, channel: Channel) -> Channel:
        """Lazy half of the lifecycle: a due transition happens when someone looks at the chat."""
        if channel.appointment_id is None or channel.is_ended:
            return channel
        if channel.status is ChatStatus.ACTIVE and self.lifecycle.auto_end_after is None:
            return channel  # nothing can be due: skip the store read
        appointment = await self.appointments.get(channel.appointment_id)
        if appointment is None:
            return channel
        return await self.lifecycle.settle(channel, appointment)


@attrs.frozen(kw_only=True)
class ListOrgGroups:
    """The org's groups the caller belongs to: only groups yc-chat created."""

    directory: Directory
    chat: ChatProvider
    system_user: UserId = SYSTEM_USER_ID

    async def __call__(self, *, caller: UserId, org_id: OrgId | None) -> Sequence[Channel]:
        problems = Problems()
        problems.identifier("org_id", org_id)
        problems.check()
        assert org_id is not None

        await require_org(self.directory, org_id)
        await require_caller_membership(self.directory, org_id, caller)
        query = ChannelQuery(member=caller, category=ChatCategory.GROUP, org_id=org_id)
        groups: list[Channel] = []
        # The offset counts what the provider returned: channels someone created directly
        # are skipped, and the reading stops after as many as the product lists at most,
        # however many of them there are.
        offset = 0
        while offset < MAX_ORG_GROUPS:
            page = await self.chat.query_channels(query, limit=ORG_GROUPS_PAGE, offset=offset)
            offset += len(page.channels)
            groups.extend(only_ours(page.channels, system_user=self.system_user))
            if not page.has_more or not page.channels:
                break
        return groups[:MAX_ORG_GROUPS]
