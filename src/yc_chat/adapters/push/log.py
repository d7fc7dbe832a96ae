"""LogNotifier: push notifications written to the log, for local runs without a push service."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from yc_chat.domain.limits import PUSH_BODY_LIMIT
from yc_chat.domain.model import Notification, PushOutcome

_logger = logging.getLogger("yc_chat.push")


class LogNotifier:
    """A Notifier that logs one structured line per notification (body cut to 100 chars)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or _logger

    async def notify(self, notifications: Sequence[Notification]) -> Sequence[PushOutcome]:
        for notification in notifications:
            # Message text is user content: never more of it than a push would show.
            self._logger.info(
                "push notification",
                extra={
                    "recipient": notification.recipient_id,
                    "channel": notification.data.get("channelId"),
                    "title": notification.title,
                    "body": notification.body[:PUSH_BODY_LIMIT],
                },
            )
        return [PushOutcome.SENT] * len(notifications)
