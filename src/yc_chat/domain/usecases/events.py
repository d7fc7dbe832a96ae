"""HandleChatEvent: react to provider webhooks exactly once per event id."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from yc_chat.domain.events import (
    ChannelDeleted,
    ChatEvent,
    MessagePosted,
    OtherEvent,
    UserUpdated,
    push_body,
)
from yc_chat.domain.model import SYSTEM_USER_ID, Notification, UserProfile

if TYPE_CHECKING:
    from yc_chat.ports import (
        AppointmentStore,
        ChatProvider,
        Directory,
        EventLog,
        Notifier,
        ProfileFingerprints,
    )


@attrs.frozen(kw_only=True)
class HandleChatEvent:
    directory: Directory
    appointments: AppointmentStore
    chat: ChatProvider
    notifier: Notifier
    fingerprints: ProfileFingerprints
    event_log: EventLog

    async def __call__(self, *, event_id: str, event: ChatEvent) -> bool:
        """Handle the event unless its id was already handled; True when handled now."""
        if not await self.event_log.claim(event_id):
            return False
        try:
            await self._handle(event)
        except BaseException:
            # A failed handling must not swallow the event: the provider's retry gets it.
            await self.event_log.release(event_id)
            raise
        return True

    async def _handle(self, event: ChatEvent) -> None:
        match event:
            case MessagePosted():
                await self._message_posted(event)
            case ChannelDeleted(channel_id=channel_id):
                appointment = await self.appointments.find_by_channel(channel_id)
                if appointment is not None:
                    await self.appointments.unlink_chat(appointment.id)
            case UserUpdated():
                await self._user_updated(event)
            case OtherEvent():
                return

    async def _user_updated(self, event: UserUpdated) -> None:
        if event.name is not None:
            seen = UserProfile(id=event.user_id, name=event.name, image=event.image)
            stored = await self.fingerprints.get_many([event.user_id])
            if stored.get(event.user_id) == seen.fingerprint:
                return  # the echo of our own upsert
        await self.fingerprints.invalidate(event.user_id)

    async def _message_posted(self, event: MessagePosted) -> None:
        if event.is_system or event.sender_id == SYSTEM_USER_ID:
            return
        channel = await self.chat.get_channel(event.channel_id)
        if channel is None:
            return
        recipients = sorted(channel.members - {event.sender_id})
        if not recipients:
            return
        sender = await self.directory.get_user(event.sender_id)
        title = sender.name if sender is not None else (event.sender_name or "New message")
        data = {"channelId": channel.id, "chatCategory": channel.category.value}
        if channel.appointment_id is not None:
            data["appointmentId"] = channel.appointment_id
        body = push_body(event.text)
        await self.notifier.notify(
            [
                Notification(recipient_id=recipient, title=title, body=body, data=dict(data))
                for recipient in recipients
            ]
        )
