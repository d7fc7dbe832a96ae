"""yc-chat: who may talk to whom on the Yosemite Crew platform, on Stream Chat.

`in_memory()` builds a ready service with every store in memory; `ChatService.build(Ports(...))`
builds one over adapters of your own. `in_memory` and `parse_fixture` are imported on first
use, so `import yc_chat` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yc_chat.domain.service import ChatService, Ports

if TYPE_CHECKING:
    from yc_chat.entrypoints.bootstrap import in_memory
    from yc_chat.entrypoints.fixture import parse_fixture

__all__ = ["ChatService", "Ports", "in_memory", "parse_fixture"]


def __getattr__(name: str) -> Any:
    if name == "in_memory":
        from yc_chat.entrypoints.bootstrap import in_memory

        return in_memory
    if name == "parse_fixture":
        from yc_chat.entrypoints.fixture import parse_fixture

        return parse_fixture
    raise AttributeError(f"module 'yc_chat' has no attribute {name!r}")
