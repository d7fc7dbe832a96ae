"""HandleChatEvent: react to one provider webhook event; safe to run again for the same event.

The inbox delivers an event at least once (a retry after a failure, a lease retaken from a
crashed worker), so every effect is idempotent: unlinking and profile invalidation are by
nature, and pushes are at least once with a narrow window for repeats. Each recipient's
push is claimed (`push:{event id}:{recipient}`) for as long as the worker's lease on the
event, sent, then confirmed; a failed send gives its claim back. A retry therefore pushes
to the recipients still owed one: those never claimed, given back, or claimed by a worker
that died before confirming (its lease ran out). The event is not done while another
worker's claim on one of its pushes is still running. So a push is repeated only when its
send was in flight when a worker died, and every send of it carries the same collapse id
(from the event id and the recipient), with which providers show a repeat once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
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
    push_collapse_id,
)
from yc_chat.domain.metrics import NO_METRICS, Counted, Timed
from yc_chat.domain.model import (
    SYSTEM_USER_ID,
    Channel,
    ClaimState,
    Notification,
    PushOutcome,
    UserId,
    UserProfile,
)
from yc_chat.domain.provenance import is_ours, needs_record
from yc_chat.domain.usecases.inbox import EventIgnored, JobContinues
from yc_chat.domain.usecases.offboarding import offboard_job

if TYPE_CHECKING:
    from yc_chat.domain.usecases.offboarding import OffboardMember
    from yc_chat.ports import (
        AppointmentChatLinks,
        ChatProvider,
        Clock,
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


# How long a push claim lasts when the caller names no lease (a direct call, not a worker's).
DEFAULT_CLAIM_FOR = timedelta(seconds=60)


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
    clock: Clock
    metrics: Metrics = NO_METRICS
    # Finishes offboarding jobs (MemberLeftOrg) that RemoveOrgMember left in the inbox.
    offboard: OffboardMember | None = None
    claim_for: timedelta = DEFAULT_CLAIM_FOR
    system_user: UserId = SYSTEM_USER_ID

    async def __call__(
        self, *, event_id: str, event: ChatEvent, lease_until: datetime | None = None
    ) -> None:
        """Apply the event's effects not applied yet; raises when some must be retried.

        `lease_until`: when the calling worker's lease on the event runs out; its push
        claims last as long (else `claim_for` from now).
        """
        match event:
            case MessagePosted():
                now = self.clock.now()
                until = lease_until if lease_until is not None else now + self.claim_for
                await self._message_posted(event_id, event, now=now, until=until)
            case ChannelDeleted(channel_id=channel_id):
                appointment = await self.chat_links.find_by_channel(channel_id)
                if appointment is not None:
                    await self.chat_links.unlink_chat(appointment.id)
            case UserUpdated():
                await self._user_updated(event)
            case OtherEvent(malformed=True):
                raise EventIgnored(EventIgnored.MALFORMED)
            case OtherEvent():
                return
            case MemberLeftOrg():
                await self._finish_offboarding(event)

    async def _ours(self, channel: Channel) -> bool:
        """domain.provenance, reading the appointment record only when it alone can tell."""
        linked = None
        if needs_record(channel, system_user=self.system_user):
            linked = await self.chat_links.find_by_channel(channel.id)
        return is_ours(channel, system_user=self.system_user, linked=linked)

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

    async def _message_posted(
        self, event_id: str, event: MessagePosted, *, now: datetime, until: datetime
    ) -> None:
        if event.from_system(self.system_user):
            return
        channel = await self.chat.get_channel(event.channel_id)
        if channel is None:
            # Nobody is owed a push we could compute: say so rather than drop it silently.
            raise EventIgnored(EventIgnored.CHANNEL_UNKNOWN)
        if not await self._ours(channel):
            # Made directly on the provider (any custom data): never pushed.
            raise EventIgnored(EventIgnored.NOT_OURS)
        recipients = await self._current_seats(channel, channel.members - {event.sender_id})
        if not recipients:
            return
        owner = uuid.uuid4().hex  # this handling's claims, apart from any other's
        claims = await self._claim(event_id, recipients, owner=owner, now=now, until=until)
        owed = [r for r, state in zip(recipients, claims, strict=True) if state is ClaimState.TAKEN]
        held = sum(1 for state in claims if state is ClaimState.HELD)
        retry = 0
        if owed:
            try:
                outcomes = await self._send(event_id, event, channel, owed)
            except BaseException:
                # The notifier raises only before anything went out (or the worker is
                # stopping): these pushes are owed again at once.
                await self._release(event_id, owed, owner)
                raise
            retry = await self._settle(event_id, owed, outcomes, owner)
        if retry or held:
            # Not done while a push is owed: given back now, or claimed by another worker
            # (alive and sending, or dead: then its lease runs out and a retry takes it).
            raise PushesPending(
                f"{retry + held} of {len(recipients)} pushes to retry"
                + (f" ({held} claimed by another worker)" if held else "")
            )

    async def _send(
        self, event_id: str, event: MessagePosted, channel: Channel, owed: Sequence[UserId]
    ) -> Sequence[PushOutcome]:
        """One notification per owed recipient, each with its collapse id, to the notifier."""
        sender = await self.directory.get_user(event.sender_id)
        title = sender.name if sender is not None else (event.sender_name or "New message")
        body = push_body(event.text)
        notifications = [
            Notification(
                recipient_id=recipient,
                title=title,
                body=body,
                channel_id=channel.id,
                category=channel.category,
                appointment_id=channel.appointment_id,
                collapse_id=push_collapse_id(event_id, recipient),
            )
            for recipient in owed
        ]
        with self.metrics.time(Timed.PUSH_SEND):
            return await self.notifier.notify(notifications)

    async def _claim(
        self,
        event_id: str,
        recipients: Sequence[UserId],
        *,
        owner: str,
        now: datetime,
        until: datetime,
    ) -> list[ClaimState]:
        """One claim per recipient, concurrently (a large group is not N serial round
        trips); if any claim fails, those taken are given back before the error rises."""
        results = await asyncio.gather(
            *(
                self.effect_claims.claim(
                    push_claim_key(event_id, r), owner=owner, now=now, until=until
                )
                for r in recipients
            ),
            return_exceptions=True,
        )
        states = [r for r in results if isinstance(r, ClaimState)]
        if len(states) == len(results):
            return states
        taken = [
            recipient
            for recipient, result in zip(recipients, results, strict=True)
            if result is ClaimState.TAKEN
        ]
        await self._release(event_id, taken, owner)
        raise next(r for r in results if isinstance(r, BaseException))

    async def _current_seats(self, channel: Channel, members: frozenset[UserId]) -> list[UserId]:
        """Members the directory still places in the channel now (policies.may_see_channel):
        someone removed from the org is pushed nothing about it, even while Stream still
        lists them."""
        found = await self.directory.get_memberships(channel.org_id, members)
        return sorted(m for m in members if policies.may_see_channel(m, channel, found.get(m)))

    async def _settle(
        self,
        event_id: str,
        recipients: Sequence[UserId],
        outcomes: Sequence[PushOutcome],
        owner: str,
    ) -> int:
        """Count outcomes; confirm the pushes that are settled and give back the claims of
        those worth retrying. Returns how many are to be retried."""
        settled: list[UserId] = []
        retry: list[UserId] = []
        for recipient, outcome in zip(recipients, outcomes, strict=True):
            if outcome is PushOutcome.SENT:
                self.metrics.count(Counted.PUSHES_SENT)
            elif outcome is PushOutcome.RETRY:
                self.metrics.count(Counted.PUSHES_FAILED, reason="retry")
                retry.append(recipient)
                continue
            elif outcome is PushOutcome.REJECTED:
                self.metrics.count(Counted.PUSHES_FAILED, reason="rejected")
            settled.append(recipient)
        await asyncio.gather(
            *(
                self.effect_claims.confirm(push_claim_key(event_id, r), owner=owner)
                for r in settled
            ),
            self._release(event_id, retry, owner),
        )
        return len(retry)

    async def _release(self, event_id: str, recipients: Sequence[UserId], owner: str) -> None:
        await asyncio.gather(
            *(
                self.effect_claims.release(push_claim_key(event_id, r), owner=owner)
                for r in recipients
            )
        )
