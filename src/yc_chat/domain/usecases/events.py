"""HandleChatEvent: react to one provider webhook event; safe to run again for the same event.

The inbox delivers an event at least once (a retry after a failure, a lease retaken from a
crashed worker), so every effect is idempotent: unlinking and profile invalidation are by
nature, and each push is claimed per recipient (`push:{event id}:{recipient}`) before it is
sent and released only when it reached no device. A retry therefore pushes to the
recipients still owed one, and nobody gets the same message twice; a crash between claim
and send loses that one push rather than risking a duplicate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain import errors, policies
from yc_chat.domain.events import (
    ChannelDeleted,
    ChatEvent,
    MemberLeftOrg,
    MessagePosted,
    OtherEvent,
    UserUpdated,
    push_body,
)
from yc_chat.domain.metrics import NO_METRICS, Counted, Timed
from yc_chat.domain.model import Channel, Notification, PushOutcome, UserId, UserProfile
from yc_chat.domain.usecases.inbox import JobContinues
from yc_chat.domain.usecases.offboarding import offboard_job

if TYPE_CHECKING:
    from yc_chat.domain.usecases.offboarding import OffboardMember
    from yc_chat.ports import (
        AppointmentChatLinks,
        ChatProvider,
        Directory,
        EffectClaims,
        Metrics,
        Notifier,
        ProfileFingerprints,
    )


class PushesPending(errors.ProviderUnavailable):
    """Some recipients could not be reached yet; handling the event again retries them."""

    default_code = "push_pending"
    default_message = "Some push notifications could not be delivered yet"


def push_claim_key(event_id: str, recipient: UserId) -> str:
    """The once-only key of one recipient's push for one event."""
    return f"push:{event_id}:{recipient}"


@attrs.frozen(kw_only=True)
class HandleChatEvent:
    directory: Directory
    chat_links: AppointmentChatLinks
    chat: ChatProvider
    notifier: Notifier
    fingerprints: ProfileFingerprints
    effect_claims: EffectClaims
    metrics: Metrics = NO_METRICS
    # Finishes offboarding jobs (MemberLeftOrg) that RemoveOrgMember left in the inbox.
    offboard: OffboardMember | None = None

    async def __call__(self, *, event_id: str, event: ChatEvent) -> None:
        """Apply the event's effects not applied yet; raises when some must be retried."""
        match event:
            case MessagePosted():
                await self._message_posted(event_id, event)
            case ChannelDeleted(channel_id=channel_id):
                appointment = await self.chat_links.find_by_channel(channel_id)
                if appointment is not None:
                    await self.chat_links.unlink_chat(appointment.id)
            case UserUpdated():
                await self._user_updated(event)
            case OtherEvent():
                return
            case MemberLeftOrg():
                await self._finish_offboarding(event)

    async def _finish_offboarding(self, event: MemberLeftOrg) -> None:
        """The worker's half of RemoveOrgMember: run the (idempotent) offboarding again."""
        if self.offboard is None:
            return
        try:
            outcome = await self.offboard(
                org_id=event.org_id,
                user_id=event.user_id,
                removed_at=event.removed_at,
                resume=event.resume,
            )
        except errors.Conflict:
            return  # a member again (re-added by the host): nothing of theirs to take
        except errors.NotFound:
            return  # the org is gone
        if outcome.resume is None:
            return
        if outcome.resume == event.resume and not outcome.changed_anything:
            # Stuck on a channel a concurrent change holds: a failure, retried with backoff.
            raise errors.ProviderUnavailable("Offboarding waits for a busy channel")
        raise JobContinues(
            offboard_job(
                event.org_id, event.user_id, removed_at=event.removed_at, resume=outcome.resume
            )
        )

    async def _user_updated(self, event: UserUpdated) -> None:
        if event.name is not None:
            seen = UserProfile(id=event.user_id, name=event.name, image=event.image)
            stored = await self.fingerprints.get_many([event.user_id])
            if stored.get(event.user_id) == seen.fingerprint:
                return  # the echo of our own upsert
        await self.fingerprints.invalidate(event.user_id)

    async def _message_posted(self, event_id: str, event: MessagePosted) -> None:
        if event.from_system:
            return
        channel = await self.chat.get_channel(event.channel_id)
        if channel is None:
            return
        recipients = await self._current_seats(channel, channel.members - {event.sender_id})
        if not recipients:
            return
        sender = await self.directory.get_user(event.sender_id)
        title = sender.name if sender is not None else (event.sender_name or "New message")
        body = push_body(event.text)
        # One claim per recipient, concurrently: a large group is not N serial round trips.
        claimed = await asyncio.gather(
            *(self.effect_claims.claim(push_claim_key(event_id, r)) for r in recipients)
        )
        owed = [r for r, took in zip(recipients, claimed, strict=True) if took]
        if not owed:
            return  # every recipient already had this event's push
        notifications = [
            Notification(
                recipient_id=recipient,
                title=title,
                body=body,
                channel_id=channel.id,
                category=channel.category,
                appointment_id=channel.appointment_id,
            )
            for recipient in owed
        ]
        try:
            with self.metrics.time(Timed.PUSH_SEND):
                outcomes = await self.notifier.notify(notifications)
        except BaseException:
            await self._release(event_id, owed)
            raise
        await self._settle(event_id, notifications, outcomes)

    async def _current_seats(self, channel: Channel, members: frozenset[UserId]) -> list[UserId]:
        """Members the directory still places in the channel now (policies.may_see_channel):
        someone removed from the org is pushed nothing about it, even while Stream still
        lists them."""
        found = await self.directory.get_memberships(channel.org_id, members)
        return sorted(m for m in members if policies.may_see_channel(m, channel, found.get(m)))

    async def _settle(
        self,
        event_id: str,
        notifications: Sequence[Notification],
        outcomes: Sequence[PushOutcome],
    ) -> None:
        """Count outcomes; give back the claims of pushes worth retrying, and ask for a retry."""
        retry: list[UserId] = []
        for notification, outcome in zip(notifications, outcomes, strict=True):
            if outcome is PushOutcome.SENT:
                self.metrics.count(Counted.PUSHES_SENT)
            elif outcome is PushOutcome.RETRY:
                self.metrics.count(Counted.PUSHES_FAILED, reason="retry")
                retry.append(notification.recipient_id)
            elif outcome is PushOutcome.REJECTED:
                self.metrics.count(Counted.PUSHES_FAILED, reason="rejected")
        if retry:
            await self._release(event_id, retry)
            raise PushesPending(f"{len(retry)} of {len(notifications)} pushes to retry")

    async def _release(self, event_id: str, recipients: Sequence[UserId]) -> None:
        await asyncio.gather(
            *(self.effect_claims.release(push_claim_key(event_id, r)) for r in recipients)
        )
