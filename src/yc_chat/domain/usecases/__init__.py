"""Use cases: one small callable per action of the contract, each receiving its ports."""

from yc_chat.domain.usecases._support import ProfileSync
from yc_chat.domain.usecases.appointments import ActivateDueChats, OpenAppointmentChat
from yc_chat.domain.usecases.channels import (
    ChannelsPage,
    ChannelSummary,
    EndChat,
    ListMyChannels,
    ListOrgGroups,
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
from yc_chat.domain.usecases.tokens import ConnectUser

__all__ = [
    "ActivateDueChats",
    "ChannelSummary",
    "ChannelsPage",
    "ConnectUser",
    "CreateGroup",
    "EndChat",
    "HandleChatEvent",
    "ListMyChannels",
    "ListOrgGroups",
    "ListOrgMembers",
    "MembersPage",
    "OpenAppointmentChat",
    "ProfileSync",
    "RegisterDevice",
    "SearchColleagues",
    "StartColleagueDM",
    "UnregisterDevice",
    "UpdateGroupMembers",
]
