"""LogNotifier: push notifications written to the log, for local runs without a push service."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from yc_chat.domain.model import Notification, PushOutcome

_logger = logging.getLogger("yc_chat.push")


class LogNotifier:
    """A Notifier that logs one structured line per notification: recipient, channel and
    the length of the text, never the text (message content can be medical)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or _logger

    async def notify(self, notifications: Sequence[Notification]) -> Sequence[PushOutcome]:
        for notification in notifications:
            self._logger.info(
                "push notification",
                extra={
                    "recipient": notification.recipient_id,
                    "channel": notification.channel_id,
                    "text_length": len(notification.body),
                },
            )
        return [PushOutcome.SENT] * len(notifications)
