"""What the use cases need from the outside world, in the domain's words.

One module per family: `chat` (the chat provider), `directory`, `appointments`, `push`
(devices and notifier), `inbox` (webhook events), `coordination` (once-only effect claims and
channel locks), `profiles` (provider profile fingerprints), `clock`, `deadlines` (a time
bound per unit of work), `metrics` (for operators), `ratelimit` (request budgets),
`tokens` (provider tokens kept for reuse), `webhooks` (the provider's webhook bodies). A
Directory adapter also finds here the typeahead rule it must apply (`SearchKeys`,
`SearchQuery`) and the member order (`folded_name`, `MemberKey`).
"""

from yc_chat.domain.queries import (
    CallerView,
    ChannelPage,
    ChannelQuery,
    MemberKey,
    MemberPage,
)
from yc_chat.domain.text import SearchKeys, SearchQuery, folded_name
from yc_chat.ports.appointments import (
    AppointmentChatLinks,
    AppointmentRecords,
    AppointmentStore,
    AppointmentWriter,
    ChatSchedule,
    TransitionClaims,
)
from yc_chat.ports.chat import ChatProvider, ChatProviderSetup
from yc_chat.ports.clock import Clock
from yc_chat.ports.coordination import ChannelLocks, EffectClaims
from yc_chat.ports.deadlines import Deadlines
from yc_chat.ports.directory import Directory, DirectoryWriter, MemberReads
from yc_chat.ports.inbox import EventInbox
from yc_chat.ports.metrics import Metrics
from yc_chat.ports.profiles import ProfileFingerprints
from yc_chat.ports.push import DeviceRegistry, Notifier
from yc_chat.ports.ratelimit import RateLimitStore
from yc_chat.ports.tokens import IssuedTokens
from yc_chat.ports.webhooks import WebhookDecoder

__all__ = [
    "AppointmentChatLinks",
    "AppointmentRecords",
    "AppointmentStore",
    "AppointmentWriter",
    "CallerView",
    "ChannelLocks",
    "ChannelPage",
    "ChannelQuery",
    "ChatProvider",
    "ChatProviderSetup",
    "ChatSchedule",
    "Clock",
    "Deadlines",
    "DeviceRegistry",
    "Directory",
    "DirectoryWriter",
    "EffectClaims",
    "EventInbox",
    "IssuedTokens",
    "MemberKey",
    "MemberPage",
    "MemberReads",
    "Metrics",
    "Notifier",
    "ProfileFingerprints",
    "RateLimitStore",
    "SearchKeys",
    "SearchQuery",
    "TransitionClaims",
    "WebhookDecoder",
    "folded_name",
]
