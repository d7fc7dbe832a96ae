"""yc-chat: who may talk to whom on the Yosemite Crew platform, on Stream Chat."""

from yc_chat.domain.service import ChatService

__all__ = ["ChatService"]
