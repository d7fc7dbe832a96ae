"""The channel state the current task read last, so a status change right after it needs
no second query.

An end (manual, scheduled) reads the channel under its channel lock, decides, and then
changes the status with a full update, which must send all custom data back. Without this
the adapter queried the channel again for that data: 3 requests at Stream for one end.
The read is kept per task (a ContextVar: one request, one worker pass), taken once, only
while fresh, and dropped by any other write to that channel from the same task, so no
other request's read is ever written back.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Final, TypeVar

# Far above a read-then-write under a lock, far below anything another writer could do
# unnoticed in between on a path that holds no lock.
FRESH_SECONDS: Final = 5.0
# A long-lived worker task reads many channels; only the last few can matter.
MAX_KEPT: Final = 32

_Key = tuple[int, str]
K = TypeVar("K", bound=str)
_READS: ContextVar[dict[_Key, tuple[float, Mapping[str, object]]] | None] = ContextVar(
    "yc_chat_stream_recent_reads", default=None
)


def remember(
    owner: object,
    channel_id: str,
    state: Mapping[str, object] | None,
    *,
    now: Callable[[], float] = time.monotonic,
) -> Mapping[str, object] | None:
    """Keep `state` (a QueryChannels entry) as this task's latest read of the channel."""
    if state is None:
        return None
    reads = _READS.get()
    if reads is None:
        reads = {}
        _READS.set(reads)
    elif len(reads) >= MAX_KEPT:
        reads.clear()
    reads[(id(owner), channel_id)] = (now(), state)
    return state


def take(
    owner: object, channel_id: str, *, now: Callable[[], float] = time.monotonic
) -> Mapping[str, object] | None:
    """This task's fresh read of the channel, at most once; None when there is none."""
    reads = _READS.get()
    if reads is None:
        return None
    kept = reads.pop((id(owner), channel_id), None)
    if kept is None or now() - kept[0] > FRESH_SECONDS:
        return None
    return kept[1]


async def take_or(
    owner: object,
    channel_id: K,
    read: Callable[[K], Awaitable[Mapping[str, object] | None]],
) -> Mapping[str, object] | None:
    """This task's fresh read of the channel if there is one, else `read(channel_id)`."""
    kept = take(owner, channel_id)
    return kept if kept is not None else await read(channel_id)


def forget(owner: object, channel_id: str) -> None:
    """Drop this task's read of the channel (another write made it stale)."""
    reads = _READS.get()
    if reads is not None:
        reads.pop((id(owner), channel_id), None)
