"""A Notifier spy: keeps every notification it is asked to send, in order."""

from __future__ import annotations

from collections.abc import Sequence

from yc_chat.domain.model import Notification, PushOutcome, UserId


class RecordingNotifier:
    """A Notifier that keeps every notification in order: the in-memory push outbox."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def notify(self, notifications: Sequence[Notification]) -> Sequence[PushOutcome]:
        self.sent.extend(notifications)
        return [PushOutcome.SENT] * len(notifications)

    def for_recipient(self, user_id: UserId) -> list[Notification]:
        return [n for n in self.sent if n.recipient_id == user_id]
