"""ChatService: the library's front door. Build it from adapters, call its use cases."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain.channel_ids import random_group_channel_id
from yc_chat.domain.limits import DEFAULT_TOKEN_TTL
from yc_chat.domain.metrics import NO_METRICS
from yc_chat.domain.model import ChannelId
from yc_chat.domain.usecases import (
    AdvanceChatLifecycle,
    ConnectUser,
    CreateGroup,
    EndChat,
    HandleChatEvent,
    ListMyChannels,
    ListOrgGroups,
    ListOrgMembers,
    OpenAppointmentChat,
    ProfileSync,
    RegisterDevice,
    SearchColleagues,
    StartColleagueDM,
    UnregisterDevice,
    UpdateGroupMembers,
)

if TYPE_CHECKING:
    from yc_chat.ports import (
        AppointmentStore,
        ChannelLocks,
        ChatProvider,
        Clock,
        DeviceRegistry,
        Directory,
        EventLog,
        Metrics,
        Notifier,
        ProfileFingerprints,
    )


@attrs.frozen(kw_only=True)
class ChatService:
    """Every use case of the contract, wired to one set of ports.

    Each attribute is an async callable taking keyword arguments, the first always
    `caller` (the authenticated user id) where the contract has one.
    """

    connect_user: ConnectUser
    open_appointment_chat: OpenAppointmentChat
    start_colleague_dm: StartColleagueDM
    create_group: CreateGroup
    update_group_members: UpdateGroupMembers
    end_chat: EndChat
    search_colleagues: SearchColleagues
    list_org_members: ListOrgMembers
    list_org_groups: ListOrgGroups
    list_my_channels: ListMyChannels
    advance_lifecycle: AdvanceChatLifecycle
    handle_chat_event: HandleChatEvent
    register_device: RegisterDevice
    unregister_device: UnregisterDevice

    @classmethod
    def build(
        cls,
        *,
        directory: Directory,
        appointments: AppointmentStore,
        chat: ChatProvider,
        devices: DeviceRegistry,
        notifier: Notifier,
        fingerprints: ProfileFingerprints,
        event_log: EventLog,
        locks: ChannelLocks,
        clock: Clock,
        token_ttl: timedelta = DEFAULT_TOKEN_TTL,
        new_group_id: Callable[[], ChannelId] = random_group_channel_id,
        metrics: Metrics = NO_METRICS,
        auto_end_after: timedelta | None = None,
        instance_id: str | None = None,
    ) -> ChatService:
        """Wire every use case to the given ports.

        `locks` must be shared by every instance serving the same chats (the memory one
        serves a single process only): ending a chat and changing a group's members hold
        it briefly, so concurrent requests post one system message per change.
        `auto_end_after`: end appointment chats this long after the appointment time (None:
        never automatically). `instance_id` names this instance in lifecycle claims
        (random when None).
        """
        profiles = ProfileSync(chat=chat, fingerprints=fingerprints)
        lifecycle = AdvanceChatLifecycle(
            schedule=appointments,
            claims=appointments,
            chat_links=appointments,
            chat=chat,
            clock=clock,
            profiles=profiles,
            locks=locks,
            metrics=metrics,
            auto_end_after=auto_end_after,
            owner=instance_id or uuid.uuid4().hex,
        )
        return cls(
            connect_user=ConnectUser(
                directory=directory, chat=chat, profiles=profiles, clock=clock, token_ttl=token_ttl
            ),
            open_appointment_chat=OpenAppointmentChat(
                directory=directory,
                appointments=appointments,
                chat_links=appointments,
                chat=chat,
                profiles=profiles,
                clock=clock,
            ),
            start_colleague_dm=StartColleagueDM(directory=directory, chat=chat, profiles=profiles),
            create_group=CreateGroup(
                directory=directory, chat=chat, profiles=profiles, new_channel_id=new_group_id
            ),
            update_group_members=UpdateGroupMembers(
                directory=directory, chat=chat, profiles=profiles, locks=locks, clock=clock
            ),
            end_chat=EndChat(
                directory=directory,
                appointments=appointments,
                chat_links=appointments,
                chat=chat,
                profiles=profiles,
                locks=locks,
                clock=clock,
            ),
            search_colleagues=SearchColleagues(directory=directory),
            list_org_members=ListOrgMembers(directory=directory),
            list_org_groups=ListOrgGroups(directory=directory, chat=chat),
            list_my_channels=ListMyChannels(
                directory=directory, appointments=appointments, chat=chat, lifecycle=lifecycle
            ),
            advance_lifecycle=lifecycle,
            handle_chat_event=HandleChatEvent(
                directory=directory,
                chat_links=appointments,
                chat=chat,
                notifier=notifier,
                fingerprints=fingerprints,
                event_log=event_log,
                metrics=metrics,
            ),
            register_device=RegisterDevice(directory=directory, devices=devices),
            unregister_device=UnregisterDevice(devices=devices),
        )
