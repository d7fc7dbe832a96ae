"""Push devices and the notifier that reaches them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from yc_chat.domain.model import Device, Notification, PushOutcome, UserId


class DeviceRegistry(Protocol):
    """Push tokens per user. A token belongs to one user at a time."""

    async def register(self, device: Device, *, keep: int | None = None) -> None:
        """Store the token for its user (moving it from any previous owner) as their newest.

        With `keep`, the user then has at most that many tokens: the least recently
        registered beyond it are dropped.
        """

    async def unregister(self, user_id: UserId, token: str) -> bool:
        """Forget the user's token; False when that user had no such token."""

    async def devices_of(self, user_ids: Collection[UserId]) -> Sequence[Device]:
        """Every device of these users."""

    async def forget_token(self, token: str) -> None:
        """Drop a token whoever owns it (the push provider reported it dead)."""


class Notifier(Protocol):
    """Push notifications to users' devices."""

    async def notify(self, notifications: Sequence[Notification]) -> Sequence[PushOutcome]:
        """Deliver each notification to its recipient's devices; one outcome per notification.

        Raises only when nothing could be attempted at all (then every one may be retried).
        """
