"""One spy for the ChatProvider port: counts calls, records writes, can add latency."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

from yc_chat.domain.model import UserProfile

# Calls that change the provider's state (open_channel only when it created the channel).
WRITES = frozenset(
    {"upsert_profiles", "open_channel", "set_status", "update_details", "change_members"}
)


class SpyChat:
    """Wraps a ChatProvider (the fake Stream) and observes every call through the port.

    `calls` counts calls per method; `writes` lists the state-changing ones; `upserted`
    keeps each batch of upserted profiles; `latency` (seconds) makes every call wait
    first, so that concurrent use cases interleave as they would over a network.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.writes: list[tuple[str, tuple[Any, ...]]] = []
        self.upserted: list[Sequence[UserProfile]] = []
        self.latency = 0.0

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        async def spied(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if name == "upsert_profiles":
                self.upserted.append(args[0])
            if self.latency:
                await asyncio.sleep(self.latency)
            result = await target(*args, **kwargs)
            created = getattr(result, "created", True)
            if name in WRITES and created:
                self.writes.append((name, args))
            return result

        return spied
