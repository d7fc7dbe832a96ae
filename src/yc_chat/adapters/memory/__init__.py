"""Every store port in memory (one process; lost on exit)."""

from yc_chat.adapters.memory.appointments import InMemoryAppointments
from yc_chat.adapters.memory.channel_locks import InMemoryChannelLocks
from yc_chat.adapters.memory.devices import InMemoryDevices
from yc_chat.adapters.memory.directory import InMemoryDirectory
from yc_chat.adapters.memory.effect_claims import InMemoryEffectClaims
from yc_chat.adapters.memory.fingerprints import InMemoryFingerprints
from yc_chat.adapters.memory.inbox import InMemoryEventInbox
from yc_chat.adapters.memory.rate_limits import MemoryRateLimitStore
from yc_chat.adapters.memory.tokens import InMemoryIssuedTokens

__all__ = [
    "InMemoryAppointments",
    "InMemoryChannelLocks",
    "InMemoryDevices",
    "InMemoryDirectory",
    "InMemoryEffectClaims",
    "InMemoryEventInbox",
    "InMemoryFingerprints",
    "InMemoryIssuedTokens",
    "MemoryRateLimitStore",
]
