"""Push notification adapters."""

from yc_chat.adapters.push.log import LogNotifier

__all__ = ["LogNotifier"]
