"""What the use cases need from the outside world, in the domain's words."""

from yc_chat.domain.queries import ChannelPage, ChannelQuery, MemberPage
from yc_chat.ports.chat import ChatProvider
from yc_chat.ports.ratelimit import RateLimitStore
from yc_chat.ports.stores import (
    AppointmentStore,
    ChannelLocks,
    Clock,
    DeviceRegistry,
    Directory,
    DirectoryWriter,
    EventInbox,
    EventLog,
    Metrics,
    Notifier,
    ProfileFingerprints,
)

__all__ = [
    "AppointmentStore",
    "ChannelLocks",
    "ChannelPage",
    "ChannelQuery",
    "ChatProvider",
    "Clock",
    "DeviceRegistry",
    "Directory",
    "DirectoryWriter",
    "EventInbox",
    "EventLog",
    "MemberPage",
    "Metrics",
    "Notifier",
    "ProfileFingerprints",
    "RateLimitStore",
]
