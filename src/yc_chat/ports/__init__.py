"""What the use cases need from the outside world, in the domain's words.

One module per family: `chat` (the chat provider), `directory`, `appointments`, `push`
(devices and notifier), `inbox` (webhook events), `coordination` (side-effect claims and
channel locks), `profiles` (provider profile fingerprints), `runtime` (clock and metrics),
`ratelimit` (request budgets), `webhooks` (the provider's webhook bodies).
"""

from yc_chat.domain.queries import ChannelPage, ChannelQuery, MemberKey, MemberPage
from yc_chat.ports.appointments import (
    AppointmentChatLinks,
    AppointmentRecords,
    AppointmentStore,
    AppointmentWriter,
    ChatSchedule,
    TransitionClaims,
)
from yc_chat.ports.chat import ChatProvider
from yc_chat.ports.coordination import ChannelLocks, EventLog
from yc_chat.ports.directory import Directory, DirectoryWriter
from yc_chat.ports.inbox import EventInbox
from yc_chat.ports.profiles import ProfileFingerprints
from yc_chat.ports.push import DeviceRegistry, Notifier
from yc_chat.ports.ratelimit import RateLimitStore
from yc_chat.ports.runtime import Clock, Metrics
from yc_chat.ports.webhooks import WebhookFormat

__all__ = [
    "AppointmentChatLinks",
    "AppointmentRecords",
    "AppointmentStore",
    "AppointmentWriter",
    "ChannelLocks",
    "ChannelPage",
    "ChannelQuery",
    "ChatProvider",
    "ChatSchedule",
    "Clock",
    "DeviceRegistry",
    "Directory",
    "DirectoryWriter",
    "EventInbox",
    "EventLog",
    "MemberKey",
    "MemberPage",
    "Metrics",
    "Notifier",
    "ProfileFingerprints",
    "RateLimitStore",
    "TransitionClaims",
    "WebhookFormat",
]
