"""ChatService: the library's front door. Build it from one record of ports, call its use cases.

`ChatService.build` is the one place use cases are wired to ports; the composition root
(`yc_chat.entrypoints.bootstrap`) chooses the adapters that fill `Ports`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict

import attrs

from yc_chat.domain.channel_ids import random_group_channel_id
from yc_chat.domain.deadlines import NO_DEADLINES
from yc_chat.domain.inbox import RetryPolicy
from yc_chat.domain.limits import DEFAULT_TOKEN_TTL
from yc_chat.domain.metrics import NO_METRICS
from yc_chat.domain.model import SYSTEM_USER_ID, ChannelId, UserId
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
    ProcessInboxEvents,
    ProfileSync,
    RecordChatEvent,
    RegisterDevice,
    SearchColleagues,
    StartColleagueDM,
    UnregisterDevice,
    UpdateGroupMembers,
)
from yc_chat.domain.usecases.offboarding import (
    OffboardMember,
    RemoveOrgMember,
    inbox_payload_decoder,
)
from yc_chat.domain.usecases.org_checks import ReadsThroughDirectory

if TYPE_CHECKING:
    from yc_chat.ports import (
        AppointmentStore,
        ChannelLocks,
        ChatProvider,
        Clock,
        Deadlines,
        DeviceRegistry,
        Directory,
        DirectoryWriter,
        EffectClaims,
        EventInbox,
        IssuedTokens,
        MemberReads,
        Metrics,
        Notifier,
        ProfileFingerprints,
        WebhookDecoder,
    )


# How long a worker holds a leased inbox event before another may take it.
DEFAULT_LEASE = timedelta(seconds=60)


@attrs.frozen(kw_only=True)
class Ports:
    """Every port the service is built from: one set, filled by one composition root.

    `locks` must be shared by every instance serving the same chats (the memory one serves
    a single process only); `inbox` likewise, for webhook events to reach any worker.
    `webhooks` reads the chat provider's webhook bodies into domain events.
    """

    directory: Directory
    appointments: AppointmentStore
    chat: ChatProvider
    devices: DeviceRegistry
    notifier: Notifier
    fingerprints: ProfileFingerprints
    effect_claims: EffectClaims
    inbox: EventInbox
    locks: ChannelLocks
    clock: Clock
    webhooks: WebhookDecoder
    metrics: Metrics = NO_METRICS
    # Where `remove_org_member` removes memberships. None when the directory is the host's
    # alone: the host removes people there and calls `offboard_member`.
    directory_writer: DirectoryWriter | None = None
    # Typeahead and member pages in one read each, from a store that can (PostgreSQL);
    # None: composed from `directory`. Must read the same data as `directory`.
    member_reads: MemberReads | None = None
    # Provider tokens kept for reuse, shared by every instance (None: never reused).
    issued_tokens: IssuedTokens | None = None


class PortOverrides(TypedDict, total=False):
    """Adapters a host brings instead of the built-in ones; any subset, by `Ports` name.

    `directory_writer` is where `remove_org_member` and fixture loading write: with a
    host's `directory` and no writer, the host owns its people (`runtime.load` refuses).
    `member_reads` (typeahead and member pages in one read) goes with the directory: a
    host's `directory` without it is read through the directory.

    The bootstrap applies these with `attrs.evolve` on a built `Ports`, so mypy checks each
    name and type here against `Ports` (a keyword signature cannot be derived from it);
    tests/unit/test_port_overrides.py checks that no port a host may bring is missing.
    """

    directory: Directory
    directory_writer: DirectoryWriter | None
    member_reads: MemberReads | None
    appointments: AppointmentStore
    chat: ChatProvider
    devices: DeviceRegistry
    notifier: Notifier
    fingerprints: ProfileFingerprints
    effect_claims: EffectClaims
    inbox: EventInbox
    locks: ChannelLocks
    clock: Clock
    issued_tokens: IssuedTokens | None


@attrs.frozen(kw_only=True)
class ChatService:
    """Every use case of the contract, plus the webhook inbox's two halves, on one set of ports.

    Each attribute is an async callable taking keyword arguments, the first always
    `caller` (the authenticated user id) where the contract has one. `record_chat_event`
    keeps a verified webhook event; `process_inbox_events` is one worker pass over the
    inbox; `advance_lifecycle` is one pass of the lifecycle scheduler.
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
    record_chat_event: RecordChatEvent
    process_inbox_events: ProcessInboxEvents
    offboard_member: OffboardMember
    remove_org_member: RemoveOrgMember

    @classmethod
    def build(
        cls,
        ports: Ports,
        *,
        token_ttl: timedelta = DEFAULT_TOKEN_TTL,
        new_group_id: Callable[[], ChannelId] = random_group_channel_id,
        auto_end_after: timedelta | None = None,
        instance_id: str | None = None,
        retry: RetryPolicy | None = None,
        lease_for: timedelta = DEFAULT_LEASE,
        batch_size: int = 16,
        event_deadlines: Deadlines = NO_DEADLINES,
        system_user: UserId = SYSTEM_USER_ID,
    ) -> ChatService:
        """Wire every use case, the inbox recorder and processor and the lifecycle to `ports`.

        `auto_end_after`: end appointment chats this long after the appointment time (None:
        never automatically). `instance_id` names this instance in lifecycle claims
        (random when None). `retry`, `lease_for` and `batch_size` shape the
        inbox worker's passes; `event_deadlines` bounds each event and lifecycle transition.
        `system_user` is the provider user that creates every channel
        (STREAM_SYSTEM_USER_ID): only its channels are the service's own.
        """
        p = ports
        profiles = ProfileSync(chat=p.chat, fingerprints=p.fingerprints)
        member_reads = p.member_reads or ReadsThroughDirectory(p.directory)
        lifecycle = AdvanceChatLifecycle(
            schedule=p.appointments,
            claims=p.appointments,
            chat_links=p.appointments,
            chat=p.chat,
            clock=p.clock,
            profiles=profiles,
            locks=p.locks,
            metrics=p.metrics,
            auto_end_after=auto_end_after,
            owner=instance_id or uuid.uuid4().hex,
            deadlines=event_deadlines,
        )
        offboard = OffboardMember(
            directory=p.directory,
            chat=p.chat,
            locks=p.locks,
            clock=p.clock,
            system_user=system_user,
            issued=p.issued_tokens,
        )
        handle_chat_event = HandleChatEvent(
            directory=p.directory,
            chat_links=p.appointments,
            chat=p.chat,
            notifier=p.notifier,
            fingerprints=p.fingerprints,
            effect_claims=p.effect_claims,
            clock=p.clock,
            metrics=p.metrics,
            offboard=offboard,
            claim_for=lease_for,
            system_user=system_user,
        )
        return cls(
            connect_user=ConnectUser(
                directory=p.directory,
                chat=p.chat,
                profiles=profiles,
                clock=p.clock,
                token_ttl=token_ttl,
                issued=p.issued_tokens,
            ),
            open_appointment_chat=OpenAppointmentChat(
                directory=p.directory,
                appointments=p.appointments,
                chat_links=p.appointments,
                chat=p.chat,
                profiles=profiles,
                clock=p.clock,
            ),
            start_colleague_dm=StartColleagueDM(
                directory=p.directory, chat=p.chat, profiles=profiles
            ),
            create_group=CreateGroup(
                directory=p.directory, chat=p.chat, profiles=profiles, new_channel_id=new_group_id
            ),
            update_group_members=UpdateGroupMembers(
                directory=p.directory,
                chat=p.chat,
                profiles=profiles,
                locks=p.locks,
                clock=p.clock,
                system_user=system_user,
            ),
            end_chat=EndChat(
                directory=p.directory,
                appointments=p.appointments,
                chat_links=p.appointments,
                chat=p.chat,
                profiles=profiles,
                locks=p.locks,
                clock=p.clock,
                system_user=system_user,
            ),
            search_colleagues=SearchColleagues(reads=member_reads),
            list_org_members=ListOrgMembers(reads=member_reads),
            list_org_groups=ListOrgGroups(
                directory=p.directory, chat=p.chat, system_user=system_user
            ),
            list_my_channels=ListMyChannels(
                directory=p.directory,
                appointments=p.appointments,
                chat=p.chat,
                lifecycle=lifecycle,
                system_user=system_user,
            ),
            advance_lifecycle=lifecycle,
            handle_chat_event=handle_chat_event,
            register_device=RegisterDevice(directory=p.directory, devices=p.devices),
            unregister_device=UnregisterDevice(devices=p.devices),
            record_chat_event=RecordChatEvent(inbox=p.inbox, clock=p.clock, metrics=p.metrics),
            process_inbox_events=ProcessInboxEvents(
                inbox=p.inbox,
                handle=handle_chat_event,
                decode=inbox_payload_decoder(p.webhooks.decode),
                clock=p.clock,
                lease_for=lease_for,
                policy=retry or RetryPolicy(),
                metrics=p.metrics,
                batch_size=batch_size,
                deadlines=event_deadlines,
            ),
            offboard_member=offboard,
            remove_org_member=RemoveOrgMember(
                directory=p.directory,
                writer=p.directory_writer,
                offboard=offboard,
                jobs=p.inbox,
                clock=p.clock,
            ),
        )
