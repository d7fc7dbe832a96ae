"""DeviceRegistry in memory."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from yc_chat.domain.model import Device, UserId


class InMemoryDevices:
    """DeviceRegistry: token -> device; one owner per token."""

    def __init__(self) -> None:
        self._by_token: dict[str, Device] = {}

    async def register(self, device: Device, *, keep: int | None = None) -> None:
        # Dicts keep insertion order: re-inserting makes the token the newest.
        self._by_token.pop(device.token, None)
        self._by_token[device.token] = device
        if keep is not None:
            mine = [t for t, d in self._by_token.items() if d.user_id == device.user_id]
            for token in mine[: max(len(mine) - keep, 0)]:
                del self._by_token[token]

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
