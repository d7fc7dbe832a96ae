"""The appointment chat lifecycle: pending chats open at their time; optionally, chats end a
set time after the appointment.

Due times live in the store (the opening time beside each appointment, the start for
auto-end), so a restarted or second instance finds the same work. A transition is a
compare-and-set on the record first (`claim_transition`: only one instance at a time may
move a chat on from its current status), then the provider write, then the record's new
status. An instance that dies after the provider write leaves a claim that lapses; the next
one finds the channel already moved, writes nothing to the provider and repairs the record.
So no transition is skipped, and none is applied twice (no second "closed" notice).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain.deadlines import NO_DEADLINES
from yc_chat.domain.metrics import NO_METRICS, Counted
from yc_chat.domain.model import Appointment, Channel, ChannelId, ChatStatus
from yc_chat.domain.usecases._locks import channel_lock, end_lock_key
from yc_chat.domain.usecases.profile_sync import ProfileSync

if TYPE_CHECKING:
    from yc_chat.ports import (
        AppointmentChatLinks,
        ChannelLocks,
        ChatProvider,
        ChatSchedule,
        Clock,
        Deadlines,
        Metrics,
        TransitionClaims,
    )

AUTO_END_NOTICE = "This chat was closed automatically after the appointment."
DEFAULT_CLAIM = timedelta(seconds=60)


@attrs.frozen(kw_only=True)
class LifecycleRun:
    """What one scheduler pass did, and when the next opening is due (None: none known)."""

    transitions: int
    next_opening: datetime | None


@attrs.frozen(kw_only=True)
class AdvanceChatLifecycle:
    """Open due pending chats; end chats past the auto-end time (when configured)."""

    schedule: ChatSchedule
    claims: TransitionClaims
    chat_links: AppointmentChatLinks
    chat: ChatProvider
    clock: Clock
    profiles: ProfileSync
    locks: ChannelLocks
    metrics: Metrics = NO_METRICS
    auto_end_after: timedelta | None = None
    # Who holds a transition claim: unique per instance, so claims never look like ours.
    owner: str = attrs.field(factory=lambda: uuid.uuid4().hex)
    # Longer than any provider call: a live holder finishes well before its claim lapses.
    claim_for: timedelta = DEFAULT_CLAIM
    batch_size: int = 100
    # The scheduler's own budget per transition (the lazy path runs inside a request's).
    deadlines: Deadlines = NO_DEADLINES

    async def __call__(self) -> LifecycleRun:
        """One pass over every due transition; raises the first failure after trying all."""
        now = self.clock.now()
        due: list[tuple[Appointment, ChatStatus]] = [
            (a, ChatStatus.ACTIVE)
            for a in await self.schedule.due_for_activation(now, limit=self.batch_size)
        ]
        if self.auto_end_after is not None:
            ending = await self.schedule.due_for_ending(
                now - self.auto_end_after, limit=self.batch_size
            )
            due.extend((a, ChatStatus.ENDED) for a in ending)
        changed, failure = 0, None
        for appointment, target in due:
            try:
                async with self.deadlines.bounded():
                    changed += await self._move(appointment, target, now) is not None
            except Exception as exc:  # one broken chat must not hold up the others
                failure = failure or exc
        if failure is not None:
            raise failure
        next_opening = await self.schedule.next_opening()
        return LifecycleRun(transitions=changed, next_opening=next_opening)

    def target_at(self, appointment: Appointment, now: datetime) -> ChatStatus:
        """The status the chat should have at `now` by the lifecycle's rules alone."""
        if self.auto_end_after is not None and now >= appointment.starts_at + self.auto_end_after:
            return ChatStatus.ENDED
        return appointment.status_at(now)

    async def settle(self, channel: Channel, appointment: Appointment) -> Channel:
        """The lazy half: a touched chat whose transition is due gets it now.

        Only the chat the record links moves: a channel merely claiming the appointment in
        its data (made directly on the provider) is left as it is.
        """
        if channel.is_ended or appointment.chat_status is None:
            return channel
        if appointment.chat_channel_id != channel.id:
            return channel
        now = self.clock.now()
        target = self.target_at(appointment, now)
        if target is channel.status or target is ChatStatus.PENDING:
            return channel
        moved = await self._move(appointment, target, now)
        return moved if moved is not None else channel

    async def _move(
        self, appointment: Appointment, target: ChatStatus, now: datetime
    ) -> Channel | None:
        """Claim, write the provider if it still needs it, record; the channel as this call
        left it if it moved it, else None."""
        current = appointment.chat_status
        if current is None or current is ChatStatus.ENDED or appointment.chat_channel_id is None:
            return None
        claimed = await self.claims.claim_transition(
            appointment.id, status=current, owner=self.owner, until=now + self.claim_for, now=now
        )
        if not claimed:
            return None  # another instance is on it, or it already moved
        if target is not ChatStatus.ENDED:
            return await self._transition(appointment, appointment.chat_channel_id, target)
        # The same lock as a manual end, taken before the one channel read: of the two,
        # only one posts a "closed" notice.
        lock = end_lock_key(appointment.chat_channel_id)
        async with channel_lock(self.locks, lock, clock=self.clock) as held:
            if not held:
                return None  # a manual end holds the chat: the claim lapses, a later pass repairs
            return await self._transition(appointment, appointment.chat_channel_id, target)

    async def _transition(
        self, appointment: Appointment, channel_id: ChannelId, target: ChatStatus
    ) -> Channel | None:
        """Read the channel once, move it unless it already is there, repair the record."""
        channel = await self.chat.get_channel(channel_id)
        if channel is None:
            # Deleted at the provider (the channel.deleted webhook may still be on its way).
            await self.chat_links.unlink_chat(appointment.id)
            return None
        moved = None
        # Already done (by us before a crash, or by a lazy path): only the record is repaired.
        if not channel.is_ended and channel.status is not target:
            notice = AUTO_END_NOTICE if target is ChatStatus.ENDED else None
            moved = await self.chat.set_status(channel.id, target, notice=notice)
        await self.chat_links.set_chat_status(
            appointment.id, ChatStatus.ENDED if channel.is_ended else target
        )
        if moved is not None:
            self.metrics.count(Counted.LIFECYCLE_TRANSITIONS, to=target.value)
        return moved
