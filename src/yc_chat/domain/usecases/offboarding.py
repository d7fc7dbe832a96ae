"""OffboardMember and RemoveOrgMember: a person leaves an org, and with it all its staff chats.

Offboarding is a sequence of idempotent steps over the person's channels in the org, so a
run that stopped halfway (a crash, a provider outage, a lock held by a concurrent change)
is finished by running it again: every channel it already handled no longer lists the
person, and the steps for the rest do not repeat a system message. The channels are read
one provider query per page; only the changes are per channel.
"""

from __future__ import annotations

import asyncio
import enum
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain import errors, policies
from yc_chat.domain.events import ChatEvent, MemberLeftOrg
from yc_chat.domain.limits import MAX_LIST_OFFSET, OFFBOARD_PAGE
from yc_chat.domain.model import Channel, ChatCategory, ChatStatus, OrgId, UserId
from yc_chat.domain.queries import ChannelQuery
from yc_chat.domain.usecases._locks import channel_lock, end_lock_key, members_lock_key
from yc_chat.domain.usecases.org_checks import require_caller_membership, require_org
from yc_chat.domain.validation import Problems

if TYPE_CHECKING:
    from yc_chat.ports import (
        ChannelLocks,
        ChatProvider,
        Clock,
        Directory,
        DirectoryWriter,
        EventInbox,
    )


# Offboarding jobs share the event inbox with webhook events, under a prefix that is not
# JSON: no webhook body (which must parse as JSON to be recorded) can pass for one.
OFFBOARD_JOB_PREFIX = b"yc-offboard:"


def offboard_job(org_id: OrgId, user_id: UserId) -> bytes:
    """The inbox payload asking the worker to finish offboarding `user_id` from `org_id`."""
    return OFFBOARD_JOB_PREFIX + json.dumps({"org_id": org_id, "user_id": user_id}).encode()


def inbox_payload_decoder(decode: Callable[[bytes], ChatEvent]) -> Callable[[bytes], ChatEvent]:
    """The decoder of the event inbox's payloads: offboarding jobs are read here, anything
    else (the provider's webhook bodies) by `decode`."""

    def decode_any(raw: bytes) -> ChatEvent:
        if not raw.startswith(OFFBOARD_JOB_PREFIX):
            return decode(raw)
        job = json.loads(raw[len(OFFBOARD_JOB_PREFIX) :])
        return MemberLeftOrg(org_id=OrgId(job["org_id"]), user_id=UserId(job["user_id"]))

    return decode_any


def left_org_notice(name: str, org_name: str) -> str:
    """The one system message a group gets when a member is offboarded."""
    return f"{name} is no longer a member of {org_name}."


def dm_closed_notice(name: str, org_name: str) -> str:
    """The closing message of a colleague DM whose member was offboarded."""
    return f"This chat was closed: {name} is no longer a member of {org_name}."


class _Step(enum.Enum):
    LEFT = "left"  # the person is out of the channel now
    KEPT = "kept"  # not the org's to take (their own chat as a pet owner)
    BUSY = "busy"  # a concurrent change holds the channel: a later run finishes it


@attrs.frozen(kw_only=True)
class OffboardOutcome:
    """What one run did; `complete` is False when some channel must be handled again."""

    groups_left: int = 0
    dms_ended: int = 0
    appointment_chats_left: int = 0
    complete: bool = True


@attrs.frozen(kw_only=True)
class OffboardMember:
    """Take a person who is no longer a member of an org out of every staff chat of it.

    For host backends that own the directory: remove the membership there, then call
    this. Groups lose them with one system message each; their colleague DMs in the org
    are ended (frozen) and lose them; appointment chats where they are the vet lose them
    until the host reassigns the appointment. Chats where they are the pet owner stay.
    """

    directory: Directory
    chat: ChatProvider
    locks: ChannelLocks
    clock: Clock

    async def __call__(self, *, org_id: OrgId, user_id: UserId) -> OffboardOutcome:
        problems = Problems()
        problems.identifier("org_id", org_id)
        problems.identifier("user_id", user_id)
        problems.check()

        org = await require_org(self.directory, org_id)
        if await self.directory.get_membership(org_id, user_id) is not None:
            raise errors.Conflict(
                "The person is still a member of this organisation: remove the membership first",
                code=errors.CODE_STILL_ORG_MEMBER,
            )
        user = await self.directory.get_user(user_id)
        name = user.name if user is not None else user_id
        query = ChannelQuery(member=user_id, org_id=org_id)
        counts = {ChatCategory.GROUP: 0, ChatCategory.COLLEAGUE: 0, ChatCategory.CLIENT: 0}
        complete = True
        # Channels the person leaves drop out of the query, so the offset only moves past
        # those that stay (their own pet-owner chats, and any a concurrent change holds).
        offset = 0
        while offset <= MAX_LIST_OFFSET:
            page = await self.chat.query_channels(query, limit=OFFBOARD_PAGE, offset=offset)
            steps = await asyncio.gather(
                *(self._leave(channel, user_id, name, org.name) for channel in page.channels)
            )
            for channel, step in zip(page.channels, steps, strict=True):
                if step is _Step.LEFT:
                    counts[channel.category] += 1
                elif step is _Step.BUSY:
                    complete = False
            offset += sum(step is not _Step.LEFT for step in steps)
            if not page.has_more:
                break
        else:
            complete = False  # deeper than the provider pages: the next run goes on
        return OffboardOutcome(
            groups_left=counts[ChatCategory.GROUP],
            dms_ended=counts[ChatCategory.COLLEAGUE],
            appointment_chats_left=counts[ChatCategory.CLIENT],
            complete=complete,
        )

    async def _leave(self, channel: Channel, user_id: UserId, name: str, org_name: str) -> _Step:
        if user_id not in channel.members:
            return _Step.LEFT
        if channel.category is ChatCategory.CLIENT:
            if channel.pet_owner_id == user_id:
                return _Step.KEPT
            # Their staff seat in the appointment's chat; it follows the record again
            # once the host assigns another vet.
            await self.chat.change_members(channel.id, remove=frozenset({user_id}))
            return _Step.LEFT
        if channel.category is ChatCategory.GROUP:
            return await self._leave_group(channel, user_id, left_org_notice(name, org_name))
        return await self._end_dm(channel, user_id, dm_closed_notice(name, org_name))

    async def _leave_group(self, group: Channel, user_id: UserId, notice: str) -> _Step:
        # The lock every membership change takes: decided on fresh state, announced once.
        async with channel_lock(self.locks, members_lock_key(group.id), clock=self.clock) as held:
            if not held:
                return _Step.BUSY
            fresh = await self.chat.get_channel(group.id)
            if fresh is None or user_id not in fresh.members:
                return _Step.LEFT
            # An ended group is frozen: no message goes in, the member still goes out.
            await self.chat.change_members(
                group.id,
                remove=frozenset({user_id}),
                notice=None if fresh.is_ended else notice,
            )
        return _Step.LEFT

    async def _end_dm(self, dm: Channel, user_id: UserId, notice: str) -> _Step:
        # Ended first, then left: a run stopped in between still finds the DM (with the
        # person in it) and only removes them; the closing message is never posted twice.
        async with channel_lock(self.locks, end_lock_key(dm.id), clock=self.clock) as held:
            if not held:
                return _Step.BUSY
            fresh = await self.chat.get_channel(dm.id)
            if fresh is None or user_id not in fresh.members:
                return _Step.LEFT
            if not fresh.is_ended:
                await self.chat.set_status(dm.id, ChatStatus.ENDED, notice=notice)
            await self.chat.change_members(dm.id, remove=frozenset({user_id}))
        return _Step.LEFT


@attrs.frozen(kw_only=True)
class RemoveOrgMember:
    """DELETE /api/orgs/{orgId}/members/{userId}: an org admin removes a member, who is then
    offboarded. Removing someone who is no longer a member finishes an offboarding that
    stopped halfway, and is 404 once there is nothing left to do."""

    directory: Directory
    writer: DirectoryWriter | None
    offboard: OffboardMember
    # Where the offboarding is kept as a job before the membership goes, so a run cut
    # short (a crash, a provider outage) is finished by the inbox worker.
    jobs: EventInbox | None = None
    clock: Clock | None = None

    async def __call__(self, *, caller: UserId, org_id: OrgId, user_id: UserId) -> OffboardOutcome:
        problems = Problems()
        problems.identifier("org_id", org_id)
        problems.identifier("user_id", user_id)
        problems.check()

        await require_org(self.directory, org_id)
        membership = await require_caller_membership(self.directory, org_id, caller)
        if not policies.may_remove_member(membership):
            raise errors.Forbidden(
                "Only org admins can remove members", code=errors.CODE_ADMIN_ONLY
            )
        if self.writer is None:
            raise errors.Forbidden(
                "The directory belongs to the host platform: remove members there",
                code=errors.CODE_DIRECTORY_READ_ONLY,
            )
        if await self.directory.get_membership(org_id, user_id) is not None:
            if self.jobs is not None and self.clock is not None:
                await self.jobs.record(
                    f"offboard:{uuid.uuid4().hex}",
                    event_type="yc.offboard",
                    payload=offboard_job(org_id, user_id),
                    received_at=self.clock.now(),
                )
            # From here on every read checks current membership: nothing of the org
            # reaches them, even before the steps below have run.
            await self.writer.remove_membership(org_id, user_id)
            return await self.offboard(org_id=org_id, user_id=user_id)
        leftover = await self.offboard(org_id=org_id, user_id=user_id)
        if leftover == OffboardOutcome():
            raise errors.NotFound(
                "Not a member of this organisation", code=errors.CODE_MEMBER_NOT_FOUND
            )
        return leftover
