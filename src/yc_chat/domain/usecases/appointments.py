"""Appointment chats: OpenAppointmentChat (the lifecycle scheduler is in lifecycle.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain import errors, policies
from yc_chat.domain.channel_ids import appointment_channel_id
from yc_chat.domain.limits import MAX_ACTIVATION_MINUTES
from yc_chat.domain.model import (
    Appointment,
    AppointmentId,
    Channel,
    ChannelData,
    ChannelRef,
    ChannelSpec,
    ChatCategory,
    ChatStatus,
    UserId,
    UserProfile,
)
from yc_chat.domain.usecases.profile_sync import ProfileSync
from yc_chat.domain.validation import Problems

if TYPE_CHECKING:
    from yc_chat.ports import (
        AppointmentChatLinks,
        AppointmentRecords,
        ChatProvider,
        Clock,
        Directory,
    )


def client_chat_name(pet_owner_name: str) -> str:
    return f"Chat with {pet_owner_name}"


def appointment_spec(appointment: Appointment, status: ChatStatus) -> ChannelSpec:
    """The channel an appointment's chat should be, derived from the record alone."""
    return ChannelSpec(
        id=appointment_channel_id(appointment.id),
        category=ChatCategory.CLIENT,
        org_id=appointment.org_id,
        members=frozenset({appointment.pet_owner_id, appointment.vet_id}),
        created_by=appointment.vet_id,
        status=status,
        name=client_chat_name(appointment.pet_owner_name),
        appointment_id=appointment.id,
        appointment_time=appointment.starts_at,
        pet_owner_id=appointment.pet_owner_id,
        pet_owner_name=appointment.pet_owner_name,
        pet_name=appointment.pet_name,
        vet_id=appointment.vet_id,
    )


def _details(channel: ChannelData) -> tuple[object, ...]:
    """The descriptive data an appointment chat copies from its record."""
    time = channel.appointment_time
    return (
        channel.name,
        # Providers keep milliseconds; finer digits must not count as a reschedule.
        time.replace(microsecond=time.microsecond // 1000 * 1000) if time else None,
        channel.pet_owner_id,
        channel.pet_owner_name,
        channel.pet_name,
        channel.vet_id,
    )


@attrs.frozen(kw_only=True)
class OpenAppointmentChat:
    """Open the chat of an appointment, or return it as it is.

    Guarantees: only the appointment's pet owner, its vet or an admin of its org may open
    it (403). Members come from the appointment record, never the request: a `pet_owner_id`
    or `vet_id` that disagrees is 409 `appointment_mismatch`. The channel id derives from
    the appointment id, so repeated and concurrent calls reach one channel, and each call
    brings it in line with the record (members, details, a due activation); an ended chat
    stays ended, and one whose channel was deleted is not reopened (409 `chat_deleted`).
    Only org staff may set `activation_minutes`, and only while the chat is pending. The
    record is linked to the channel with its status before returning.
    """

    directory: Directory
    appointments: AppointmentRecords
    chat_links: AppointmentChatLinks
    chat: ChatProvider
    profiles: ProfileSync
    clock: Clock

    async def __call__(
        self,
        *,
        caller: UserId,
        appointment_id: AppointmentId,
        pet_owner_id: UserId | None = None,
        vet_id: UserId | None = None,
        activation_minutes: int | None = None,
    ) -> ChannelRef:
        problems = Problems()
        problems.identifier("appointment_id", appointment_id)
        problems.identifier("pet_owner_id", pet_owner_id, required=False)
        problems.identifier("vet_id", vet_id, required=False)
        problems.int_range("activation_minutes", activation_minutes, 0, MAX_ACTIVATION_MINUTES)
        problems.check()

        appointment = await self.appointments.get(appointment_id)
        if appointment is None:
            raise errors.NotFound("Appointment not found", code=errors.CODE_APPOINTMENT_NOT_FOUND)
        membership = await self.directory.get_membership(appointment.org_id, caller)
        if not policies.may_open_appointment_chat(caller, appointment, membership):
            raise errors.Forbidden(
                "Only the appointment's pet owner, its vet or an org admin may open its chat",
                code=errors.CODE_NOT_PARTICIPANT,
            )
        # Members come from the record; a body that names others is a client bug, not a wish.
        if pet_owner_id is not None and pet_owner_id != appointment.pet_owner_id:
            raise errors.Conflict(
                "pet_owner_id does not match the appointment",
                code=errors.CODE_APPOINTMENT_MISMATCH,
                field="pet_owner_id",
            )
        if vet_id is not None and vet_id != appointment.vet_id:
            raise errors.Conflict(
                "vet_id does not match the appointment",
                code=errors.CODE_APPOINTMENT_MISMATCH,
                field="vet_id",
            )
        if appointment.chat_status is ChatStatus.ENDED and appointment.chat_channel_id is None:
            raise errors.Conflict(
                "This appointment's chat was deleted and cannot be reopened",
                code=errors.CODE_CHAT_DELETED,
            )

        minutes = appointment.chat_activation_minutes
        still_open_to_change = appointment.chat_status in (None, ChatStatus.PENDING)
        if (
            activation_minutes is not None
            and still_open_to_change
            and policies.may_set_activation(membership)
        ):
            minutes = activation_minutes
        record = attrs.evolve(appointment, chat_activation_minutes=minutes)

        users = await self.directory.get_users([record.pet_owner_id, record.vet_id])
        if len(users) != 2:
            raise errors.NotFound(
                "The appointment names a user the directory does not know",
                code=errors.CODE_USER_NOT_FOUND,
            )
        profiles = [UserProfile.of(user) for user in users.values()]
        await self.profiles.sync(profiles)

        # A vet who left the org keeps no seat in its chats: the chat waits for the host to
        # reassign the appointment, then follows the record again.
        vet_in_org = (
            membership if caller == record.vet_id else None
        ) or await self.directory.get_membership(record.org_id, record.vet_id)
        seated = frozenset(
            {record.pet_owner_id, record.vet_id} if vet_in_org else {record.pet_owner_id}
        )

        now = self.clock.now()
        spec = attrs.evolve(appointment_spec(record, record.status_at(now)), members=seated)
        opened = await self.profiles.healing(profiles, lambda: self.chat.open_channel(spec))
        channel = await self._reconcile(opened.channel, record, now, seated)
        await self.chat_links.link_chat(
            record.id,
            channel_id=channel.id,
            status=channel.status,
            activation_minutes=minutes,
        )
        return ChannelRef(
            channel_id=channel.id,
            members=tuple(m for m in (record.pet_owner_id, record.vet_id) if m in seated),
        )

    async def _reconcile(
        self, channel: Channel, record: Appointment, now: datetime, seated: frozenset[UserId]
    ) -> Channel:
        """Bring an existing channel in line with the record: members, lazy activation."""
        if channel.category is not ChatCategory.CLIENT or channel.appointment_id != record.id:
            raise errors.Conflict(
                "A different channel already uses this appointment's id",
                code=errors.CODE_CHANNEL_EXISTS,
            )
        if channel.is_ended:
            # Closed for good: a later reassignment must not hand its history to anyone.
            return channel
        wanted = attrs.evolve(appointment_spec(record, channel.status), members=seated)
        if channel.members != wanted.members:
            # The host reassigned the appointment: the chat follows the record.
            channel = await self.chat.change_members(
                channel.id,
                add=wanted.members - channel.members,
                remove=channel.members - wanted.members,
            )
        if _details(channel) != _details(wanted):
            # Rescheduled or renamed: frontends read names, times and role ids from the data.
            channel = await self.chat.update_details(channel.id, wanted)
        if channel.status is ChatStatus.PENDING and record.status_at(now) is (ChatStatus.ACTIVE):
            channel = await self.chat.set_status(channel.id, ChatStatus.ACTIVE)
        return channel
