"""OffboardMember and RemoveOrgMember: a person leaves an org, and with it all its staff chats.

Offboarding is a sequence of idempotent steps over the person's channels in the org, so a
run that stopped halfway (a crash, a provider outage, a lock held by a concurrent change)
is finished by running it again: every channel it already handled no longer lists the
person, and the steps for the rest do not repeat a system message.

It always finishes. The channels are walked oldest creation first with a cursor that moves
past every channel it looked at (one it acted on, one that is not the org's to take, one it
ignores), so nothing can hold it in place; and each run spends at most `budget` provider
calls, handing back where it stopped. The worker's job carries that place to the next run.
"""

from __future__ import annotations

import asyncio
import enum
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain import errors, policies
from yc_chat.domain.channel_ids import is_valid_channel_id
from yc_chat.domain.events import ChatEvent, MemberLeftOrg
from yc_chat.domain.limits import OFFBOARD_CALL_BUDGET, OFFBOARD_PAGE
from yc_chat.domain.model import (
    SYSTEM_USER_ID,
    Channel,
    ChatCategory,
    ChatStatus,
    OrgId,
    UserId,
)
from yc_chat.domain.provenance import is_ours, needs_record
from yc_chat.domain.queries import ChannelOrder, ChannelQuery, CreationCursor
from yc_chat.domain.usecases._locks import channel_lock, end_lock_key, members_lock_key
from yc_chat.domain.usecases.org_checks import require_caller_membership, require_org
from yc_chat.domain.usecases.org_roles import removal_allowed
from yc_chat.domain.validation import Problems

if TYPE_CHECKING:
    from yc_chat.ports import (
        ChannelLocks,
        ChatProvider,
        Clock,
        Directory,
        DirectoryWriter,
        EventInbox,
        IssuedTokens,
    )


# Offboarding jobs share the event inbox with webhook events, under a prefix that is not
# JSON: no webhook body (which must parse as JSON to be recorded) can pass for one.
OFFBOARD_JOB_PREFIX = b"yc-offboard:"

# The most provider calls one channel's step makes, by category (a group: read, leave; a
# colleague DM: read, end, leave; an appointment chat: leave). A run starts a channel only
# with that much budget left.
STEP_CALLS = {ChatCategory.GROUP: 2, ChatCategory.COLLEAGUE: 3, ChatCategory.CLIENT: 1}
MAX_STEP_CALLS = max(STEP_CALLS.values())


def offboard_job(
    org_id: OrgId,
    user_id: UserId,
    *,
    removed_at: datetime | None = None,
    resume: CreationCursor | None = None,
) -> bytes:
    """The inbox payload asking the worker to finish offboarding `user_id` from `org_id`,
    from `resume` on (the start when None)."""
    job: dict[str, object] = {
        "org_id": org_id,
        "user_id": user_id,
        "removed_at": removed_at.isoformat() if removed_at is not None else None,
    }
    if resume is not None:
        created_from = resume.created_from
        job["resume"] = {
            "created_from": created_from.isoformat() if created_from is not None else None,
            "passed": resume.passed,
        }
    return OFFBOARD_JOB_PREFIX + json.dumps(job).encode()


def _resume(value: object) -> CreationCursor | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("an offboarding job's place is an object")
    passed = value.get("passed")
    if isinstance(passed, bool) or not isinstance(passed, int) or passed < 0:
        raise ValueError("an offboarding job's place is a count")
    return CreationCursor(created_from=_time(value.get("created_from")), passed=passed)


def _time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("an offboarding job's times are ISO-8601 text")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("an offboarding job's times carry a zone")
    return parsed


def inbox_payload_decoder(decode: Callable[[bytes], ChatEvent]) -> Callable[[bytes], ChatEvent]:
    """The decoder of the event inbox's payloads: offboarding jobs are read here, anything
    else (the provider's webhook bodies) by `decode`."""

    def decode_any(raw: bytes) -> ChatEvent:
        if not raw.startswith(OFFBOARD_JOB_PREFIX):
            return decode(raw)
        job = json.loads(raw[len(OFFBOARD_JOB_PREFIX) :])
        return MemberLeftOrg(
            org_id=OrgId(job["org_id"]),
            user_id=UserId(job["user_id"]),
            removed_at=_time(job.get("removed_at")),
            resume=_resume(job.get("resume")),
        )

    return decode_any


def revocation_cutoff(removed_at: datetime) -> datetime:
    """Tokens issued before this are revoked: the end of the second of the removal.

    Tokens carry their issue time in whole seconds, so one issued in that second cannot be
    told apart from one issued just before the removal: it is revoked too, and the client
    fetches another (a second later at most).
    """
    return removed_at.replace(microsecond=0) + timedelta(seconds=1)


def left_org_notice(name: str, org_name: str) -> str:
    """The one system message a group gets when a member is offboarded."""
    return f"{name} is no longer a member of {org_name}."


def dm_closed_notice(name: str, org_name: str) -> str:
    """The closing message of a colleague DM whose member was offboarded."""
    return f"This chat was closed: {name} is no longer a member of {org_name}."


def offboarding_takes(channel: Channel, system_user: UserId = SYSTEM_USER_ID) -> bool:
    """Whether offboarding acts on `channel` at all; anything else is passed over.

    A channel yc-chat did not create is not the org's, whatever its custom data says
    (issue 19, "Stream is a second door"): the one rule is `domain.provenance`. An
    appointment chat the system user did not create (opened before it created channels)
    is taken too, without reading its record: taking a departing person out of a chat that
    only claims the org's appointment gives nobody anything. This service never makes a
    channel whose id it would refuse (such as the `!members-` ids of distinct channels).
    """
    if not is_valid_channel_id(channel.id):
        return False
    return is_ours(channel, system_user=system_user) or needs_record(
        channel, system_user=system_user
    )


def _step_cost(channel: Channel, user_id: UserId, system_user: UserId) -> int:
    """The most calls the step for `channel` makes (none for one it passes over)."""
    if not offboarding_takes(channel, system_user) or user_id not in channel.members:
        return 0
    if channel.category is ChatCategory.CLIENT and channel.pet_owner_id == user_id:
        return 0
    return STEP_CALLS[channel.category]


class _Step(enum.Enum):
    LEFT = "left"  # this run took the person out: the channel left the query
    STAYS = "stays"  # still in the query: not the org's to take, or already without them
    BUSY = "busy"  # a concurrent change holds the channel: a later run finishes it


@attrs.frozen(kw_only=True)
class OffboardOutcome:
    """What one run did: what it changed, the provider calls it spent, and `resume`, the
    place a next run starts from (None: nothing is left to do)."""

    groups_left: int = 0
    dms_ended: int = 0
    appointment_chats_left: int = 0
    calls: int = 0
    resume: CreationCursor | None = None

    @property
    def complete(self) -> bool:
        """Whether the person is out of every staff chat of the org."""
        return self.resume is None

    @property
    def changed_anything(self) -> bool:
        """Whether this run took the person out of any channel."""
        return bool(self.groups_left or self.dms_ended or self.appointment_chats_left)


class _Calls:
    """Provider calls spent by one run, never more than its budget."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.spent = 0

    def left(self) -> int:
        return self.budget - self.spent

    def spend(self) -> None:
        if self.spent >= self.budget:
            # The run plans within its budget; reaching here is a planning mistake.
            raise errors.ProviderUnavailable("Offboarding ran out of its call budget")
        self.spent += 1


@attrs.frozen(kw_only=True)
class OffboardMember:
    """Take a person who is no longer a member of an org out of every staff chat of it.

    For host backends that own the directory: remove the membership there, then call
    this. Groups lose them with one system message each; their colleague DMs in the org
    are ended (frozen) and lose them; appointment chats where they are the vet lose them
    until the host reassigns the appointment. Chats where they are the pet owner stay.
    Every provider token issued to them before `removed_at` is revoked. One run spends at
    most `budget` provider calls; an incomplete outcome says where the next run resumes.
    """

    directory: Directory
    chat: ChatProvider
    locks: ChannelLocks
    clock: Clock
    # At least: revoke tokens, read a page, handle one channel; so every run moves on.
    budget: int = attrs.field(
        default=OFFBOARD_CALL_BUDGET, validator=attrs.validators.ge(MAX_STEP_CALLS + 2)
    )
    # The provider user that creates every channel yc-chat makes (domain.provenance).
    system_user: UserId = SYSTEM_USER_ID
    # Where tokens are kept for reuse (ConnectUser): told of the revocation first.
    issued: IssuedTokens | None = None

    async def __call__(
        self,
        *,
        org_id: OrgId,
        user_id: UserId,
        removed_at: datetime | None = None,
        resume: CreationCursor | None = None,
    ) -> OffboardOutcome:
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
        calls = _Calls(self.budget)
        if resume is None:
            # First thing, once per offboarding: sockets and tokens they hold stop working
            # now, whatever the walk below still has to do.
            calls.spend()
            revoked_before = revocation_cutoff(removed_at or self.clock.now())
            # The cut-off is shared before the provider's revocation: no instance hands a
            # kept token out again once the provider refuses it. If it cannot be written,
            # the run fails and the offboarding job runs it again.
            if self.issued is not None:
                await self.issued.revoke(user_id, issued_before=revoked_before)
            await self.chat.revoke_tokens(user_id, issued_before=revoked_before)
        cursor = resume or CreationCursor()
        counts = {ChatCategory.GROUP: 0, ChatCategory.COLLEAGUE: 0, ChatCategory.CLIENT: 0}
        finished = False
        while calls.left() > 0:
            query = ChannelQuery(
                member=user_id,
                org_id=org_id,
                created_from=cursor.created_from,
                order=ChannelOrder.CREATION,
            )
            calls.spend()
            page = await self.chat.query_channels(query, limit=OFFBOARD_PAGE, offset=cursor.passed)
            # Start only the channels the budget can finish; the cursor stops before the rest.
            affordable = self._affordable(page.channels, user_id, calls.left(), self.system_user)
            steps = await asyncio.gather(
                *(self._leave(channel, user_id, name, org.name, calls) for channel in affordable)
            )
            # Every channel left is counted here, also one after a busy channel: it has left
            # the query, so the run resuming at the busy one never sees it again.
            for channel, step in zip(affordable, steps, strict=True):
                if step is _Step.LEFT:
                    counts[channel.category] += 1
            handled = 0
            for channel, step in zip(affordable, steps, strict=True):
                if step is _Step.BUSY:
                    break  # resume here: it must be looked at again
                cursor = cursor.past(channel.created_at, stays=step is _Step.STAYS)
                handled += 1
            if handled < len(page.channels):
                break  # out of budget, or a channel was busy: the next run goes on
            if not page.has_more:
                finished = True
                break
            # Never a spin: a provider (or a fake) that answers without waiting still lets
            # other tasks, and signal handlers, run between pages.
            await asyncio.sleep(0)
        return OffboardOutcome(
            groups_left=counts[ChatCategory.GROUP],
            dms_ended=counts[ChatCategory.COLLEAGUE],
            appointment_chats_left=counts[ChatCategory.CLIENT],
            calls=calls.spent,
            resume=None if finished else cursor,
        )

    @staticmethod
    def _affordable(
        channels: tuple[Channel, ...], user_id: UserId, budget: int, system_user: UserId
    ) -> tuple[Channel, ...]:
        """The longest first part of `channels` whose steps cost at most `budget` calls."""
        cost = 0
        for index, channel in enumerate(channels):
            cost += _step_cost(channel, user_id, system_user)
            if cost > budget:
                return channels[:index]
        return channels

    async def _leave(
        self, channel: Channel, user_id: UserId, name: str, org_name: str, calls: _Calls
    ) -> _Step:
        if _step_cost(channel, user_id, self.system_user) == 0:
            return _Step.STAYS  # not the org's to take, or their own chat as a pet owner
        if channel.category is ChatCategory.CLIENT:
            # Their staff seat in the appointment's chat; it follows the record again
            # once the host assigns another vet.
            calls.spend()
            await self.chat.change_members(channel.id, remove=frozenset({user_id}))
            return _Step.LEFT
        if channel.category is ChatCategory.GROUP:
            notice = left_org_notice(name, org_name)
            return await self._leave_group(channel, user_id, notice, calls)
        return await self._end_dm(channel, user_id, dm_closed_notice(name, org_name), calls)

    async def _leave_group(
        self, group: Channel, user_id: UserId, notice: str, calls: _Calls
    ) -> _Step:
        # The lock every membership change takes: decided on fresh state, announced once.
        async with channel_lock(self.locks, members_lock_key(group.id), clock=self.clock) as held:
            if not held:
                return _Step.BUSY
            calls.spend()
            fresh = await self.chat.get_channel(group.id)
            if fresh is None or user_id not in fresh.members:
                return _Step.STAYS
            # An ended group is frozen: no message goes in, the member still goes out.
            calls.spend()
            await self.chat.change_members(
                group.id,
                remove=frozenset({user_id}),
                notice=None if fresh.is_ended else notice,
            )
        return _Step.LEFT

    async def _end_dm(self, dm: Channel, user_id: UserId, notice: str, calls: _Calls) -> _Step:
        # Ended first, then left: a run stopped in between still finds the DM (with the
        # person in it) and only removes them; the closing message is never posted twice.
        async with channel_lock(self.locks, end_lock_key(dm.id), clock=self.clock) as held:
            if not held:
                return _Step.BUSY
            calls.spend()
            fresh = await self.chat.get_channel(dm.id)
            if fresh is None or user_id not in fresh.members:
                return _Step.STAYS
            if not fresh.is_ended:
                calls.spend()
                await self.chat.set_status(dm.id, ChatStatus.ENDED, notice=notice)
            calls.spend()
            await self.chat.change_members(dm.id, remove=frozenset({user_id}))
        return _Step.LEFT


@attrs.frozen(kw_only=True)
class RemoveOrgMember:
    """DELETE /api/orgs/{orgId}/members/{userId}: an org admin removes a member, who is then
    offboarded. Only an owner removes an owner, and never the org's last admin (409
    last_admin). Removing someone who is no longer a member finishes an offboarding that
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
        target = await self.directory.get_membership(org_id, user_id)
        if target is not None:
            removed_at = self.clock.now() if self.clock is not None else None
            async with removal_allowed(
                directory=self.directory,
                locks=self.offboard.locks,
                clock=self.offboard.clock,
                caller=membership,
                target=target,
            ):
                if self.jobs is not None and removed_at is not None:
                    await self.jobs.record(
                        f"offboard:{uuid.uuid4().hex}",
                        event_type="yc.offboard",
                        payload=offboard_job(org_id, user_id, removed_at=removed_at),
                        received_at=removed_at,
                    )
                # From here on every read checks current membership: nothing of the org
                # reaches them, even before the steps below have run. One budgeted run
                # here; the job finishes whatever it leaves.
                await self.writer.remove_membership(org_id, user_id)
            return await self.offboard(org_id=org_id, user_id=user_id, removed_at=removed_at)
        # Their tokens were revoked at the removal; tokens issued since stay theirs.
        leftover = await self.offboard(org_id=org_id, user_id=user_id, resume=CreationCursor())
        if leftover.complete and not leftover.changed_anything:
            raise errors.NotFound(
                "Not a member of this organisation", code=errors.CODE_MEMBER_NOT_FOUND
            )
        return leftover
