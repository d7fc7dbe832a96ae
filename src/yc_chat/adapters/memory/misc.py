"""Small in-memory stores: devices, processed webhook ids, profile fingerprints, outbox."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from yc_chat.domain.model import Device, Notification, UserId


class InMemoryDevices:
    """DeviceRegistry: token -> device; one owner per token."""

    def __init__(self) -> None:
        self._by_token: dict[str, Device] = {}

    async def register(self, device: Device) -> None:
        self._by_token[device.token] = device

    async def unregister(self, user_id: UserId, token: str) -> bool:
        device = self._by_token.get(token)
        if device is None or device.user_id != user_id:
            return False
        del self._by_token[token]
        return True

    async def devices_of(self, user_ids: Collection[UserId]) -> Sequence[Device]:
        wanted = set(user_ids)
        return [d for d in self._by_token.values() if d.user_id in wanted]

    async def forget_token(self, token: str) -> None:
        self._by_token.pop(token, None)


class InMemoryEventLog:
    """EventLog: the set of claimed webhook ids."""

    def __init__(self) -> None:
        self._claimed: set[str] = set()

    async def claim(self, event_id: str) -> bool:
        # No await between test and set: atomic within one event loop.
        if event_id in self._claimed:
            return False
        self._claimed.add(event_id)
        return True

    async def release(self, event_id: str) -> None:
        self._claimed.discard(event_id)


class InMemoryFingerprints:
    """ProfileFingerprints over a dict."""

    def __init__(self) -> None:
        self._items: dict[UserId, str] = {}

    async def get_many(self, user_ids: Collection[UserId]) -> Mapping[UserId, str]:
        return {uid: self._items[uid] for uid in user_ids if uid in self._items}

    async def put_many(self, fingerprints: Mapping[UserId, str]) -> None:
        self._items.update(fingerprints)

    async def invalidate(self, user_id: UserId) -> None:
        self._items.pop(user_id, None)


class RecordingNotifier:
    """A Notifier that keeps every notification in order: the in-memory push outbox."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def notify(self, notifications: Sequence[Notification]) -> None:
        self.sent.extend(notifications)

    def for_recipient(self, user_id: UserId) -> list[Notification]:
        return [n for n in self.sent if n.recipient_id == user_id]
