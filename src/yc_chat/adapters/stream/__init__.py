"""The ChatProvider on Stream Chat's official async SDK, with its settings."""

from yc_chat.adapters.stream.config import DEFAULT_BASE_URL, RetryPolicy, StreamConfig
from yc_chat.adapters.stream.failures import RateLimit
from yc_chat.adapters.stream.provider import StreamChatProvider

__all__ = [
    "DEFAULT_BASE_URL",
    "RateLimit",
    "RetryPolicy",
    "StreamChatProvider",
    "StreamConfig",
]
