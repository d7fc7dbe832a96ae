"""Use cases: one small callable per action of the contract, each receiving its ports."""

from yc_chat.domain.usecases.appointments import OpenAppointmentChat
from yc_chat.domain.usecases.channels import (
    ChannelsPage,
    ChannelSummary,
    EndChat,
    ListMyChannels,
    ListOrgGroups,
    MyChannelsRequest,
)
from yc_chat.domain.usecases.colleagues import (
    ListOrgMembers,
    MembersPage,
    SearchColleagues,
    StartColleagueDM,
)
from yc_chat.domain.usecases.devices import RegisterDevice, UnregisterDevice
from yc_chat.domain.usecases.events import HandleChatEvent
from yc_chat.domain.usecases.groups import CreateGroup, UpdateGroupMembers
from yc_chat.domain.usecases.inbox import ProcessInboxEvents, RecordChatEvent
from yc_chat.domain.usecases.lifecycle import AdvanceChatLifecycle, LifecycleRun
from yc_chat.domain.usecases.profile_sync import ProfileSync
from yc_chat.domain.usecases.tokens import ConnectUser

__all__ = [
    "AdvanceChatLifecycle",
    "ChannelSummary",
    "ChannelsPage",
    "ConnectUser",
    "CreateGroup",
    "EndChat",
    "HandleChatEvent",
    "LifecycleRun",
    "ListMyChannels",
    "ListOrgGroups",
    "ListOrgMembers",
    "MembersPage",
    "MyChannelsRequest",
    "OpenAppointmentChat",
    "ProcessInboxEvents",
    "ProfileSync",
    "RecordChatEvent",
    "RegisterDevice",
    "SearchColleagues",
    "StartColleagueDM",
    "UnregisterDevice",
    "UpdateGroupMembers",
]
