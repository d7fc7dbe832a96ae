"""Push notification adapters."""

from yc_chat.adapters.push._delivery import push_data
from yc_chat.adapters.push.log import LogNotifier

__all__ = ["LogNotifier", "push_data"]
