"""The Stream Chat adapter, all of it: the ChatProvider on the official async SDK
(`provider`, `client`, `failures`, `config`), the domain <-> Stream data mapping (`mapping`)
and the webhook payload decoder (`events`).

`mapping` and `events` are pure and need no SDK: the ChatProvider over the simulation and
the webhook endpoint use them without `stream-chat` installed. So the SDK-backed names are
imported on first use rather than here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from yc_chat.adapters.stream.config import DEFAULT_BASE_URL, RetryPolicy, StreamConfig

if TYPE_CHECKING:
    from yc_chat.adapters.stream.failures import RateLimit
    from yc_chat.adapters.stream.provider import StreamChatProvider

__all__ = [
    "DEFAULT_BASE_URL",
    "RateLimit",
    "RetryPolicy",
    "StreamChatProvider",
    "StreamConfig",
]


def __getattr__(name: str) -> object:
    # Imported lazily: both need the `stream-chat` SDK (the `stream` extra).
    if name == "StreamChatProvider":
        from yc_chat.adapters.stream.provider import StreamChatProvider

        return StreamChatProvider
    if name == "RateLimit":
        from yc_chat.adapters.stream.failures import RateLimit

        return RateLimit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
