"""Channels: appointment chats, colleague DMs, groups, membership, ending, listing."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath, JSONBody, QueryParameter

from yc_chat.domain.limits import CHANNELS_DEFAULT_LIMIT, CHANNELS_MAX_LIMIT
from yc_chat.domain.model import (
    AppointmentId,
    Channel,
    ChannelId,
    ChannelRef,
    OrgId,
    UserId,
)
from yc_chat.domain.usecases import ChannelSummary, MyChannelsRequest
from yc_chat.entrypoints.http.body import StrictBody
from yc_chat.entrypoints.http.deps import AUTHED, WRITES, Caller, Service, epoch_ms, error_docs
from yc_chat.entrypoints.http.schemas import (
    AppointmentChatRequest,
    ChannelOut,
    ChannelRefResponse,
    ChannelsResponse,
    ColleagueDMRequest,
    GroupMembersRequest,
    GroupOut,
    GroupRequest,
    GroupsResponse,
    SuccessResponse,
)

CHANNELS_LIMIT_DOC = f"1..{CHANNELS_MAX_LIMIT}, {CHANNELS_DEFAULT_LIMIT}."
# Lists carry chat content (names, last messages): no browser or proxy cache may keep them.
NO_STORE = CacheControlHeader(no_store=True)


def channel_ref(ref: ChannelRef) -> ChannelRefResponse:
    """The response for a channel-creating call."""
    return ChannelRefResponse(
        channel_id=ref.channel_id, channel_type=ref.channel_type, members=list(ref.members)
    )


def group_out(channel: Channel) -> GroupOut:
    """A group as listed."""
    return GroupOut(
        id=channel.id,
        name=channel.name or channel.id,
        members=sorted(channel.members),
        status=channel.status.value,
        is_group=True,
        chat_category="group",
        org_id=channel.org_id,
        image=channel.image,
        is_read_only=channel.read_only,
        created_by=channel.created_by,
        member_count=channel.member_count,
        frozen=channel.frozen,
    )


def channel_out(summary: ChannelSummary) -> ChannelOut:
    """A channel in the caller's list."""
    return ChannelOut(
        id=summary.id,
        name=summary.name,
        members=list(summary.members),
        last_message=summary.last_message,
        last_message_at=(
            epoch_ms(summary.last_message_at) if summary.last_message_at is not None else None
        ),
        appointment_id=summary.appointment_id,
        status=summary.status.value,
        chat_category=summary.category.value,
        org_id=summary.org_id,
        is_group=summary.is_group,
        frozen=summary.frozen,
    )


def _ids(values: list[str] | None) -> list[UserId]:
    return [UserId(value) for value in values or ()]


# Path parameters keep the contract's camelCase names, so the OpenAPI document matches it.
class ChannelController(Controller):
    """Channel creation, membership, ending and listing."""

    path = "/api/chat/channels"
    tags = ("channels",)

    @post(
        "",
        operation_id="openAppointmentChat",
        response_description="The appointment's chat: its id, type and the two members",
        summary="Open (or get) an appointment's chat",
        description="Caller: the appointment's pet owner, its vet, or an admin of its org. "
        "Members and names come from the appointment record. Idempotent.",
        status_code=200,
        dto=StrictBody[AppointmentChatRequest],
        return_dto=None,
        responses=error_docs(*WRITES, 403, 404, 409),
    )
    async def open_appointment_chat(
        self, data: JSONBody[AppointmentChatRequest], caller: Caller, service: Service
    ) -> ChannelRefResponse:
        """Get-or-create the appointment's channel."""
        ref = await service.open_appointment_chat(
            caller=caller,
            appointment_id=AppointmentId(data.appointment_id),
            pet_owner_id=UserId(data.pet_owner_id) if data.pet_owner_id is not None else None,
            vet_id=UserId(data.vet_id) if data.vet_id is not None else None,
            activation_minutes=data.activation_minutes,
        )
        return channel_ref(ref)

    @post(
        "/internal",
        operation_id="startColleagueDm",
        response_description="The colleagues' DM: its id, type and the two members",
        summary="Open (or get) a DM between two colleagues",
        description="Both ids distinct current members of the org; the caller is one of them "
        "and is `createdBy`. Idempotent per pair within the org.",
        status_code=200,
        dto=StrictBody[ColleagueDMRequest],
        return_dto=None,
        responses=error_docs(*WRITES, 403, 404, 409),
    )
    async def start_colleague_dm(
        self, data: JSONBody[ColleagueDMRequest], caller: Caller, service: Service
    ) -> ChannelRefResponse:
        """Get-or-create the colleague DM."""
        ref = await service.start_colleague_dm(
            caller=caller,
            org_id=OrgId(data.org_id),
            member_ids=_ids(data.member_ids),
            created_by=UserId(data.created_by),
        )
        return channel_ref(ref)

    @post(
        "/group",
        operation_id="createGroup",
        response_description="The new group: its id, type and members (the creator first)",
        summary="Create a group of org members",
        description="Caller is an org member and `createdBy`; read-only groups need an org "
        "admin. A supplied `channelId` that exists is a 409.",
        status_code=200,
        dto=StrictBody[GroupRequest],
        return_dto=None,
        responses=error_docs(*WRITES, 403, 404, 409),
    )
    async def create_group(
        self, data: JSONBody[GroupRequest], caller: Caller, service: Service
    ) -> ChannelRefResponse:
        """Create the group."""
        ref = await service.create_group(
            caller=caller,
            org_id=OrgId(data.org_id),
            name=data.name,
            member_ids=_ids(data.member_ids),
            created_by=UserId(data.created_by),
            is_read_only=bool(data.is_read_only),
            image=data.image,
            channel_id=ChannelId(data.channel_id) if data.channel_id is not None else None,
        )
        return channel_ref(ref)

    @post(
        "/group/{channelId:str}/members",
        operation_id="updateGroupMembers",
        response_description="The members were changed (one system message in the group)",
        summary="Add and remove group members",
        description="Caller is the group's creator or an org admin and is `addedBy`.",
        status_code=200,
        dto=StrictBody[GroupMembersRequest],
        return_dto=None,
        responses=error_docs(*WRITES, 403, 404, 409),
    )
    async def update_group_members(
        self,
        channelId: FromPath[str],
        data: JSONBody[GroupMembersRequest],
        caller: Caller,
        service: Service,
    ) -> SuccessResponse:
        """Change the group's members."""
        await service.update_group_members(
            caller=caller,
            channel_id=ChannelId(channelId),
            added_by=UserId(data.added_by),
            add=_ids(data.add),
            remove=_ids(data.remove),
        )
        return SuccessResponse(success=True)

    @get(
        "/groups",
        operation_id="listOrgGroups",
        response_description="The org's groups the caller is a member of",
        summary="The org's groups the caller belongs to",
        cache_control=NO_STORE,
        responses=error_docs(*AUTHED, 403, 404),
    )
    async def list_groups(
        self,
        caller: Caller,
        service: Service,
        org_id: Annotated[str, QueryParameter(name="orgId", description="The org to list.")],
    ) -> GroupsResponse:
        """List the caller's groups in the org."""
        groups = await service.list_org_groups(caller=caller, org_id=OrgId(org_id))
        return GroupsResponse(channels=[group_out(group) for group in groups])

    @post(
        "/{channelId:str}/end",
        operation_id="endChat",
        response_description="The chat is ended and frozen (also when it already was)",
        summary="End a chat (idempotent)",
        description="Appointment chat: its vet or an org admin. Group: its creator or an org "
        "admin. Colleague DMs cannot be ended (409 for members, 403 for others).",
        status_code=200,
        responses=error_docs(*WRITES, 403, 404, 409),
    )
    async def end_chat(
        self,
        channelId: FromPath[str],
        caller: Caller,
        service: Service,
    ) -> SuccessResponse:
        """End the chat."""
        await service.end_chat(caller=caller, channel_id=ChannelId(channelId))
        return SuccessResponse(success=True)

    @get(
        "",
        operation_id="listMyChannels",
        response_description="One page of the caller's channels and the cursor of the next",
        summary="The caller's channels, newest activity first",
        cache_control=NO_STORE,
        responses=error_docs(*AUTHED, 403, 404),
    )
    async def list_channels(
        self,
        caller: Caller,
        service: Service,
        category: Annotated[
            str | None, QueryParameter(name="category", description="client, colleague or group.")
        ] = None,
        org_id: Annotated[str | None, QueryParameter(name="orgId")] = None,
        role: Annotated[
            str | None, QueryParameter(name="role", description="pet-owner or vet.")
        ] = None,
        limit: Annotated[
            int | None, QueryParameter(name="limit", description=CHANNELS_LIMIT_DOC)
        ] = None,
        cursor: Annotated[str | None, QueryParameter(name="cursor")] = None,
    ) -> ChannelsResponse:
        """List the caller's channels."""
        request = MyChannelsRequest.parse(category=category, org_id=org_id, role=role, limit=limit)
        page = await service.list_my_channels(
            caller=caller,
            category=request.category,
            org_id=request.org_id,
            role=request.role,
            limit=request.limit,
            cursor=cursor,
        )
        return ChannelsResponse(
            channels=[channel_out(summary) for summary in page.channels],
            next_cursor=page.next_cursor,
        )
